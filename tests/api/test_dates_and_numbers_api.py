"""Rules 12 and 13 through the API: money dated outside the budget's life is a 422 problem, a
look-alike of a posted invoice number is a 409 duplicate shown in the exceptions on its business
date, and the exceptions are bounded by business date and recorded instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Api, active_budget

OUTSIDE = "/problems/effective-date-outside-budget"
PERIOD_1995 = {"start": "1995-06-01", "end": "1995-06-28"}
APRIL = {"start": "2010-04-05", "end": "2010-05-02"}
JUNE = {"start": "2010-06-01", "end": "2010-06-28"}


def invoice_body(budget_id: str, number: str, period: dict[str, str]) -> dict[str, Any]:
    return {
        "invoice_number": number,
        "budget_id": budget_id,
        "period": period,
        "lines": [{"service": "home-care", "units_hundredths": 4000, "rate_pence": 13_00}],
        "invoice_date": period["end"],
    }


def test_a_cash_payment_dated_1995_on_a_budget_of_2010_is_a_422(api: Api) -> None:
    budget_id = active_budget(api)
    before = api.event_count()

    refused = api.post(
        "council",
        f"/v1/budgets/{budget_id}/cash-payments",
        {"amount_pence": 100_00, "period": PERIOD_1995, "effective_on": "1995-06-01"},
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == OUTSIDE
    assert (problem["budget_id"], problem["date"]) == (budget_id, "1995-06-01")
    assert (problem["budget_starts_on"], problem.get("budget_ends_on")) == ("2010-04-05", None)
    assert api.event_count() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("contributions", {"received_pence": 10_00, "effective_on": "2010-04-04"}),
        ("surplus-recoveries", {"effective_on": "2010-04-04"}),
    ],
)
def test_other_money_dated_before_approval_is_a_422(
    api: Api, path: str, body: dict[str, Any]
) -> None:
    budget_id = active_budget(api)
    before = api.event_count()

    refused = api.post("council", f"/v1/budgets/{budget_id}/{path}", body)

    assert (refused.status_code, refused.json()["type"]) == (422, OUTSIDE)
    assert api.event_count() == before


def test_an_invoice_approved_before_the_budget_was_is_a_422(api: Api) -> None:
    budget_id = active_budget(api)
    invoice_id = api.post("provider", "/v1/invoices", invoice_body(budget_id, "INV-D", APRIL))
    before = api.event_count()

    refused = api.post(
        "council",
        f"/v1/invoices/{invoice_id.json()['id']}/approval",
        {"effective_on": "2010-04-01"},
    )

    assert (refused.status_code, refused.json()["type"]) == (422, OUTSIDE)
    assert api.event_count() == before


@pytest.mark.parametrize("again", ["INV-1 ", "inv-1", "\uff29\uff2e\uff36-1", "INV-\u200b1"])
def test_a_look_alike_of_a_posted_number_is_a_409_duplicate(api: Api, again: str) -> None:
    budget_id = active_budget(api)
    first = api.post("provider", "/v1/invoices", invoice_body(budget_id, "INV-1", APRIL))
    before = api.event_count()

    refused = api.post("provider", "/v1/invoices", invoice_body(budget_id, again, JUNE))

    assert first.status_code == 201
    assert (refused.status_code, refused.json()["type"]) == (409, "/problems/duplicate-invoice")
    assert refused.json()["invoice_id"] == first.json()["id"]
    assert api.event_count() == before


def test_keeps_a_unicode_invoice_number_as_sent(api: Api) -> None:
    budget_id = active_budget(api)
    sent = "\uff29\uff2e\uff36-\u00e9t\u00e9-1"

    created = api.post("provider", "/v1/invoices", invoice_body(budget_id, sent, APRIL))

    assert created.status_code == 201
    shown = api.get("provider", f"/v1/invoices/{created.json()['id']}").json()
    assert shown["invoice_number"] == sent


@pytest.mark.parametrize("number", ["INV\n1", "   ", "\u200b"])
def test_refuses_a_number_with_controls_or_nothing_visible(api: Api, number: str) -> None:
    budget_id = active_budget(api)
    before = api.event_count()

    refused = api.post("provider", "/v1/invoices", invoice_body(budget_id, number, APRIL))

    assert refused.status_code == 422
    assert api.event_count() == before


def test_exceptions_show_a_double_billing_attempt_by_its_date_and_when_it_was_tried(
    api: Api,
) -> None:
    budget_id = active_budget(api)
    api.post("provider", "/v1/invoices", invoice_body(budget_id, "INV-6", JUNE))
    tried = datetime.now(UTC)
    api.post("provider", "/v1/invoices", invoice_body(budget_id, "inv-6 ", JUNE))
    kind = "duplicate-invoice-attempt"

    on_august = api.get("auditor", "/v1/exceptions", kind=kind, on="2010-08-31").json()
    in_may = api.get("auditor", "/v1/exceptions", kind=kind, on="2010-05-31").json()
    window = {"recorded_from": (tried - timedelta(minutes=1)).isoformat()}
    recorded = api.get("auditor", "/v1/exceptions", kind=kind, on="2010-08-31", **window).json()
    later = {"recorded_from": (tried + timedelta(hours=1)).isoformat()}
    none_later = api.get("auditor", "/v1/exceptions", kind=kind, on="2010-08-31", **later).json()
    by_date = api.get(
        "auditor", "/v1/exceptions", kind=kind, effective_from="2010-06-28",
        effective_to="2010-06-28",
    ).json()  # fmt: skip

    [item] = on_august["items"]
    assert item["effective_on"] == "2010-06-28" and item["recorded_at"] >= tried.isoformat()[:19]
    assert in_may["items"] == [] and none_later["items"] == []
    assert recorded["items"] == [item] and by_date["items"] == [item]


def test_exceptions_refuse_a_malformed_time_bound(api: Api) -> None:
    refused = api.get("auditor", "/v1/exceptions", recorded_from="yesterday")

    assert refused.status_code in (400, 422)
    assert refused.headers["content-type"] == "application/problem+json"
