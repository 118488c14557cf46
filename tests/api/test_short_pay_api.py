"""Short-pay through the API: the approval route takes the amount approved (or `to_plan`) and
what becomes of the rest; every refusal is a 422 problem that writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, active_budget
from tests.api.test_invoices_api import posted, refused_with


def approve(api: Api, invoice_id: str, **body: Any) -> Any:
    return api.post(
        "council",
        f"/v1/invoices/{invoice_id}/approval",
        {"effective_on": "2010-05-03", **body},
    )


def test_a_council_short_pays_to_the_plan_and_disputes_the_rest(api: Api) -> None:
    invoice_id = posted(api, active_budget(api), hours=5000)  # £650 billed, £520 planned

    response = approve(api, invoice_id, to_plan=True, rest="disputed", reason="over-plan")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["amount_pence"], body["approved_pence"]) == (65_000, 52_000)
    assert (body["short_paid_pence"], body["short_pay_rest"]) == (13_000, "disputed")
    paid = api.post(
        "council",
        f"/v1/invoices/{invoice_id}/payment",
        {"effective_on": "2010-05-10", "remittance_ref": "BACS-9"},
    )
    assert paid.status_code == 200
    assert api.get("council", f"/v1/invoices/{invoice_id}").json()["paid_pence"] == 52_000


def test_a_full_approval_answers_nothing_short_paid(api: Api) -> None:
    invoice_id = posted(api, active_budget(api))

    body = approve(api, invoice_id).json()

    assert (body["approved_pence"], body["short_paid_pence"], body["short_pay_rest"]) == (
        52_000,
        0,
        None,
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"approved_pence": 52_001, "rest": "rejected", "reason": "x"}, "approval-exceeds-invoice"),
        ({"approved_pence": 40_000, "rest": "rejected"}, "short-pay-needs-reason"),
        ({"approved_pence": 40_000, "reason": "missed-visits"}, "short-pay-rest-unresolved"),
        ({"approved_pence": 1, "to_plan": True, "rest": "rejected", "reason": "x"},
         "invalid-command"),
    ],
)  # fmt: skip
def test_a_bad_short_pay_is_a_422_problem_and_writes_nothing(
    api: Api, body: dict[str, Any], problem: str
) -> None:
    invoice_id = posted(api, active_budget(api))
    before = api.event_count()

    refused_with(approve(api, invoice_id, **body), 422, problem)
    assert api.event_count() == before


def test_an_unknown_rest_is_refused_before_the_ledger(api: Api) -> None:
    invoice_id = posted(api, active_budget(api))
    before = api.event_count()

    response = approve(api, invoice_id, approved_pence=1_00, rest="ignored", reason="x")

    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"
    assert api.event_count() == before
