"""Endings that settle and corrections of any entry through a real client: the balance left
recovered after an ending, a reinstatement referencing the ending, corrections of an invoice's
approval and of a pooled fund's contribution; every refusal a 4xx problem that writes nothing."""

from __future__ import annotations

from typing import Any

from ledger.ids import pooled_fund_id
from tests.api.conftest import Api, active_budget
from tests.api.test_invoices_api import approved, refused_with
from tests.support import COUNCIL, FOUR_WEEKS, POOL

PERIOD = {"start": FOUR_WEEKS.start.isoformat(), "end": FOUR_WEEKS.end.isoformat()}


def ended_with_cash(api: Api) -> tuple[str, int]:
    """A direct payment with £2,000 paid and £300 spent, ended by death; and its ending's
    version."""
    budget_id = active_budget(api, "direct-payment")
    path = f"/v1/budgets/{budget_id}"
    cash = {"amount_pence": 2_000_00, "period": PERIOD, "effective_on": "2010-04-05"}
    assert api.post("council", f"{path}/cash-payments", cash).status_code == 200
    spend = {"amount_pence": 300_00, "period": PERIOD, "effective_on": "2010-05-01"}
    assert api.post("council", f"{path}/direct-payment-returns", spend).status_code == 200
    ending = api.post("council", f"{path}/ending", {"end_reason": "death",
                                                   "effective_on": "2010-05-05"})  # fmt: skip
    assert ending.status_code == 200
    return budget_id, int(ending.json()["version"])


def test_the_balance_left_after_a_death_is_recovered_and_shows_on_the_balance(api: Api) -> None:
    budget_id, _ = ended_with_cash(api)

    response = api.post(
        "council", f"/v1/budgets/{budget_id}/balance-recoveries", {"effective_on": "2010-05-20"}
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["recovered_pence"], response.json()["refunded_pence"]) == (
        1_700_00,
        0,
    )
    balance = api.get("council", f"/v1/budgets/{budget_id}/balance").json()
    assert (balance["balance_recovered_pence"], balance["held_pence"]) == (1_700_00, 0)


def test_a_bad_balance_recovery_is_a_problem_and_writes_nothing(api: Api) -> None:
    running = active_budget(api, "direct-payment")
    budget_id, _ = ended_with_cash(api)
    before = api.event_count()
    path = "/v1/budgets/{}/balance-recoveries"

    refused_with(
        api.post("council", path.format(running), {"effective_on": "2010-05-20"}),
        409,
        "budget-not-ended",
    )
    too_much = {"effective_on": "2010-05-20", "amount_pence": 1_700_01}
    refused_with(
        api.post("council", path.format(budget_id), too_much), 422, "recovery-exceeds-balance"
    )
    elsewhere = api.post("other_council", path.format(budget_id), {"effective_on": "2010-05-20"})
    assert elsewhere.status_code == 404
    assert api.event_count() == before


def test_an_ending_in_error_is_reinstated_by_its_entry_id(api: Api) -> None:
    budget_id, ending = ended_with_cash(api)
    body = {"ending_entry_id": f"{budget_id}/{ending}", "effective_on": "2010-05-20",
            "reason": "ended-in-error"}  # fmt: skip

    response = api.post("council", f"/v1/budgets/{budget_id}/reinstatement", body)

    assert response.status_code == 200, response.json()
    budget = api.get("council", f"/v1/budgets/{budget_id}/balance").json()
    assert (budget["status"], budget["ended_on"]) == ("active", None)


def test_only_the_ending_is_reinstated(api: Api) -> None:
    budget_id, ending = ended_with_cash(api)
    before = api.event_count()
    body: dict[str, Any] = {"ending_entry_id": f"{budget_id}/{ending - 1}",
                            "effective_on": "2010-05-20", "reason": "x"}  # fmt: skip
    path = f"/v1/budgets/{budget_id}/reinstatement"

    refused_with(api.post("council", path, body), 422, "not-an-ending")
    no_reason = {k: v for k, v in body.items() if k != "reason"}
    assert api.post("council", path, no_reason).status_code == 422
    correction = {"entry_id": f"{budget_id}/{ending}", "amount_pence": 1,
                  "effective_on": "2010-05-20", "reason": "x"}  # fmt: skip
    refused_with(api.post("council", "/v1/corrections", correction), 422, "entry-not-correctable")
    assert api.event_count() == before


def test_an_invoice_approval_is_corrected_by_its_entry_id(api: Api) -> None:
    budget_id = active_budget(api)
    invoice_id = approved(api, budget_id)
    correction = {"entry_id": f"{invoice_id}/2", "amount_pence": 520_00,
                  "effective_on": "2010-05-20", "reason": "approved-in-error"}  # fmt: skip

    response = api.post("council", "/v1/corrections", correction)

    assert response.status_code == 200, response.json()
    assert response.json()["id"] == invoice_id
    assert api.get("council", f"/v1/invoices/{invoice_id}").json()["status"] == "posted"
    balance = api.get("council", f"/v1/budgets/{budget_id}/balance").json()
    assert balance["invoices_approved_reversed_pence"] == 520_00
    assert balance["invoices_awaiting_approval_pence"] == 520_00
    again = api.post("council", "/v1/corrections", {**correction, "amount_pence": 1})
    refused_with(again, 422, "correction-exceeds-original")
    assert again.json()["remaining_pence"] == 0


def test_a_pooled_fund_contribution_is_corrected_on_the_councils_books_only(api: Api) -> None:
    entry = f"{pooled_fund_id(COUNCIL, POOL)}/2"  # the partner's £50,000 paid in at set-up
    correction = {"entry_id": entry, "amount_pence": 1_000_00, "effective_on": "2010-05-20",
                  "reason": "keyed-twice"}  # fmt: skip
    before = api.event_count()

    assert api.post("other_council", "/v1/corrections", correction).status_code == 404
    assert api.event_count() == before
    response = api.post("council", "/v1/corrections", correction)

    assert response.status_code == 200, response.json()
    assert response.json()["id"] == str(pooled_fund_id(COUNCIL, POOL))
