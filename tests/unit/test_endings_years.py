"""Endings across budget years (rules 12 and 14): a final invoice approved after an ending is
charged to the budget year its care falls in; the balance is recovered after an ending in a later
financial year; a payment run after an ending skips the budget."""

from __future__ import annotations

from datetime import date

from ledger.values import Period
from tests.support import COUNCIL, FOUR_WEEKS, PROVIDER, START, World

NEXT_YEAR = date(2011, 4, 1)
ENDED_ON = date(2011, 5, 1)


def budget_into_next_year(world: World) -> str:
    budget_id = world.active_budget()
    world.app.allocate_year(budget_id, NEXT_YEAR, "rolled-over", date(2011, 3, 1), world.prov())
    return budget_id


def test_a_final_invoice_approved_after_an_ending_is_charged_to_its_care_year(
    world: World,
) -> None:
    budget_id = budget_into_next_year(world)
    world.app.end_budget(budget_id, "death", ENDED_ON, world.prov())
    early = world.draft(budget_id, "INV-A", 4000, FOUR_WEEKS)  # care in the approval year
    # the approval year runs to the day before its anniversary; 2011-12 from then
    late = world.draft(budget_id, "INV-B", 2000, Period(date(2011, 4, 5), date(2011, 4, 30)))
    for draft, on in ((early, date(2011, 5, 20)), (late, date(2011, 5, 21))):
        invoice_id = world.app.post_invoice(PROVIDER, draft, world.as_provider())["invoice_id"]
        world.app.approve_invoice(invoice_id, on, world.prov(reason="final-invoice"))
        world.app.pay_invoice(invoice_id, "BACS-9", on, world.prov())
    b = world.app.budget(budget_id)
    assert b.year_drawn == {START: 40 * 13_00, NEXT_YEAR: 20 * 13_00}
    assert sum(world.trial_balance().values()) == 0


def test_the_balance_is_recovered_after_an_ending_in_a_later_year(world: World) -> None:
    budget_id = budget_into_next_year(world)
    world.app.issue_cash_payment(budget_id, 400_00, FOUR_WEEKS, START, world.prov())
    world.app.end_budget(budget_id, "moved-away", ENDED_ON, world.prov())

    world.app.recover_balance(budget_id, None, date(2012, 6, 1), world.prov())

    b = world.app.budget(budget_id)
    assert b.held_pence == 0
    assert b.recovered_pence + b.refunded_pence == 400_00
    assert sum(world.trial_balance().values()) == 0


def test_a_payment_run_after_an_ending_skips_the_budget(world: World) -> None:
    budget_id = budget_into_next_year(world)
    world.app.end_budget(budget_id, "death", ENDED_ON, world.prov())
    before = world.app.budget(budget_id).cash_paid_pence

    outcome = world.app.run_payments(COUNCIL, date(2011, 6, 1), world.prov())

    line = next(r for r in outcome["results"] if r["budget_id"] == budget_id)
    assert (line["skipped_reason"], line["run_cash_paid_pence"]) == ("budget-ended", 0)
    assert world.app.budget(budget_id).cash_paid_pence == before
