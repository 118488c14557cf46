"""``as_at`` on every read: the answer as the ledger knew it then, with the log position it
resolved to; an instant before the first event or in the future is a clear 422, never an
empty answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.api.conftest import Api
from tests.api.test_reports_api import build
from tests.support import COUNCIL, FOUR_WEEKS

LONG_AGO = "1995-01-01T00:00:00Z"
JUNE = date(2010, 6, 1)


def reads(s: object) -> list[tuple[str, str]]:
    budget, invoice = s.budget_id, s.april_invoice  # type: ignore[attr-defined]
    return [
        ("auditor", f"/v1/budgets/{budget}"),
        ("auditor", f"/v1/budgets/{budget}/balance"),
        ("auditor", f"/v1/budgets/{budget}/statement"),
        ("auditor", "/v1/invoices"),
        ("auditor", f"/v1/invoices/{invoice}"),
        ("auditor", "/v1/spend-by-provider"),
        ("regulator", f"/v1/councils/{COUNCIL}/progress"),
        ("regulator", "/v1/national/progress"),
        ("auditor", "/v1/exceptions"),
        ("auditor", "/v1/ledger/trial-balance"),
        ("auditor", "/v1/audit"),
    ]


def test_every_read_answers_as_at_with_the_position_it_resolved_to(api: Api) -> None:
    s = build(api)

    for who, path in reads(s):
        then = api.get(who, path, as_at=s.before_payment.isoformat())
        now = api.get(who, path)
        assert then.status_code == now.status_code == 200, path
        assert 0 < then.json()["as_at_position"] < api.event_count(), path
        assert now.json()["as_at_position"] is None, path


@pytest.mark.parametrize("when", ["before", "future"])
def test_an_instant_outside_the_ledgers_life_is_422_on_every_read(api: Api, when: str) -> None:
    s = build(api)
    instant = LONG_AGO if when == "before" else (datetime.now(UTC) + timedelta(days=1)).isoformat()

    for who, path in [*reads(s), ("auditor", "/v1/export/journal")]:
        answer = api.get(who, path, as_at=instant)
        assert answer.status_code == 422, path
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert (body["type"], body["field"]) == ("/problems/as-at-out-of-range", "as_at"), path
        assert body["first_recorded"] < s.before_payment.isoformat()


def test_an_invoice_as_at_before_its_payment_is_approved_not_paid(api: Api) -> None:
    s = build(api)

    then = api.get("auditor", f"/v1/invoices/{s.april_invoice}", as_at=s.before_payment.isoformat())
    now = api.get("auditor", f"/v1/invoices/{s.april_invoice}")

    assert (then.json()["status"], now.json()["status"]) == ("approved", "paid")
    assert (then.json()["paid_pence"], now.json()["paid_pence"]) == (0, 520_00)
    assert [h["status"] for h in then.json()["history"]] == ["posted", "approved"]
    assert then.headers["etag"] != now.headers["etag"]


def test_an_invoice_posted_after_the_instant_is_not_listed_nor_found(api: Api) -> None:
    s = build(api)

    listed = api.get("auditor", "/v1/invoices", as_at=s.before_payment.isoformat())
    found = api.get("auditor", f"/v1/invoices/{s.may_invoice}", as_at=s.before_payment.isoformat())

    assert [i["id"] for i in listed.json()["items"]] == [s.april_invoice]
    assert found.status_code == 404


def test_the_statement_as_at_an_instant_leaves_out_later_lines(api: Api) -> None:
    s = build(api)
    api.service.app.issue_cash_payment(s.budget_id, 100_00, FOUR_WEEKS, JUNE, s.world.prov())

    then = api.get("auditor", f"/v1/budgets/{s.budget_id}/statement", as_at=s.before_payment)
    now = api.get("auditor", f"/v1/budgets/{s.budget_id}/statement")
    early = api.get("auditor", f"/v1/budgets/{s.budget_id}/statement", effective_on="2010-04-30")

    assert len(then.json()["items"]) < len(now.json()["items"])
    assert now.json()["items"][: len(then.json()["items"])] == then.json()["items"]
    assert all(line["effective_on"] <= "2010-04-30" for line in early.json()["items"])


def test_the_budget_as_at_an_instant_is_the_version_then(api: Api) -> None:
    s = build(api)
    before = api.get("auditor", f"/v1/budgets/{s.budget_id}", as_at=s.before_payment.isoformat())

    api.service.app.issue_cash_payment(s.budget_id, 100_00, FOUR_WEEKS, JUNE, s.world.prov())
    again = api.get("auditor", f"/v1/budgets/{s.budget_id}", as_at=s.before_payment.isoformat())
    now = api.get("auditor", f"/v1/budgets/{s.budget_id}")

    assert again.json() == before.json()
    assert now.json()["available_pence"] == before.json()["available_pence"] - 100_00
