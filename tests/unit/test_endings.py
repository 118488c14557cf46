"""Endings that settle (rule 12): after an ending (death included) final invoices for care
delivered before the end are received, approved and paid, invoices approved before it are paid,
the direct-payment balance left is recovered by its own entry, and an ending recorded in error is
reversed by a reinstatement that references it. Refusals are named and write nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

import ledger.errors as err
from ledger.ids import entry_id
from ledger.postings import Account
from ledger.values import Deployment, Period
from tests.support import FOUR_WEEKS, PROVIDER, START, World, allocation

ENDED = date(2010, 5, 5)  # the day after the first four weeks' care (to 2 May) was delivered
AFTER = date(2010, 5, 20)
DIRECT = Deployment("direct-payment")


def refused(world: World, error: type[err.LedgerError], command: Callable[[], Any]) -> Any:
    before = world.event_count()
    with pytest.raises(error) as refusal:
        command()
    assert world.event_count() == before
    return refusal.value


def post(world: World, budget_id: str, number: str, period: Period = FOUR_WEEKS) -> str:
    draft = world.draft(budget_id, number, 4000, period)
    invoice_id: str = world.app.post_invoice(PROVIDER, draft, world.as_provider())["invoice_id"]
    return invoice_id


def end(world: World, budget_id: str, reason: str = "death", on: date = ENDED) -> str:
    """End the budget; returns the ending's entry id."""
    version = world.app.end_budget(budget_id, reason, on, world.prov(reason=reason))["version"]
    return entry_id(world.app.budget(budget_id).id, version)


def test_a_final_invoice_after_a_death_is_received_approved_and_paid(world: World) -> None:
    budget_id = world.active_budget()
    end(world, budget_id)

    invoice_id = post(world, budget_id, "INV-FINAL")  # care 5 April - 2 May, sent after the end
    world.app.approve_invoice(invoice_id, AFTER, world.prov())
    paid = world.app.pay_invoice(invoice_id, "BACS-9", AFTER, world.prov())

    assert paid["status"] == "paid"
    assert world.app.budget(budget_id).drawn_pence == 52_000
    balance = world.trial_balance()
    assert sum(balance.values()) == 0
    assert balance.get(Account.PAYABLE, 0) == 0  # nothing stuck in ProviderPayable


def test_an_invoice_approved_before_the_end_is_paid_after_it(world: World) -> None:
    budget_id = world.active_budget()
    invoice_id = post(world, budget_id, "INV-1")
    world.app.approve_invoice(invoice_id, date(2010, 5, 3), world.prov())
    end(world, budget_id)

    world.app.pay_invoice(invoice_id, "BACS-1", AFTER, world.prov())

    assert world.app.invoice(invoice_id).paid_pence == 52_000
    assert world.trial_balance().get(Account.PAYABLE, 0) == 0


def test_refuses_an_invoice_for_care_after_the_end(world: World) -> None:
    budget_id = world.active_budget()
    end(world, budget_id)
    beyond = Period(date(2010, 5, 3), date(2010, 5, 30))

    error = refused(
        world, err.EffectiveDateOutsideBudgetError, lambda: post(world, budget_id, "INV-2", beyond)
    )

    assert error.facts["date_field"] == "period.end"
    assert error.facts["budget_ends_on"] == ENDED.isoformat()


def test_no_new_cash_is_paid_after_the_end(world: World) -> None:
    budget_id = world.active_budget(deployment=DIRECT)
    end(world, budget_id)

    refused(
        world,
        err.BudgetEndedError,
        lambda: world.app.issue_cash_payment(budget_id, 1_00, FOUR_WEEKS, AFTER, world.prov()),
    )


def cash_budget_ended(world: World, contribution: int = 0) -> str:
    """£10,400 a year (£1,040 client, £20 a week); £2,000 paid, £300 spent, then ended."""
    alloc = allocation(total=10_400_00, client=1_040_00, contingency=0)
    budget_id = world.active_budget(alloc, DIRECT)
    app = world.app
    app.issue_cash_payment(budget_id, 2_000_00, FOUR_WEEKS, START, world.prov())
    app.report_direct_payment_spend(budget_id, 300_00, FOUR_WEEKS, date(2010, 5, 1), world.prov())
    if contribution:
        app.receive_contribution(budget_id, contribution, date(2010, 5, 1), world.prov())
    end(world, budget_id)
    return budget_id


def test_recovers_the_balance_left_after_the_end_by_its_own_entry(world: World) -> None:
    budget_id = cash_budget_ended(world)

    outcome = world.app.recover_balance(budget_id, None, AFTER, world.prov())

    assert (outcome["refunded_pence"], outcome["recovered_pence"]) == (0, 1_700_00)
    budget = world.app.budget(budget_id)
    assert budget.held_pence == 0
    balance = world.trial_balance()
    assert balance.get(Account.DP_ACCOUNTS, 0) == 0
    assert balance[Account.RECOVERED] == 1_700_00
    recoveries = [e for e in world.events() if type(e).__name__ == "BalanceRecovered"]
    assert [(e.refunded_pence, e.recovered_pence) for e in recoveries] == [(0, 1_700_00)]


def test_the_balance_recovery_refunds_over_paid_contribution_first(world: World) -> None:
    # £500 received; four whole weeks at £20 were due by the end: £420 over-paid
    budget_id = cash_budget_ended(world, contribution=500_00)

    outcome = world.app.recover_balance(budget_id, None, AFTER, world.prov())

    assert (outcome["refunded_pence"], outcome["recovered_pence"]) == (420_00, 1_280_00)
    assert world.trial_balance()[Account.CONTRIBUTIONS] == -(500_00 - 420_00)


def test_refuses_a_balance_recovery_that_breaks_a_rule(world: World) -> None:
    running = world.active_budget(deployment=DIRECT)
    refused(
        world,
        err.BudgetNotEndedError,
        lambda: world.app.recover_balance(running, None, AFTER, world.prov()),
    )
    budget_id = cash_budget_ended(world)
    app = world.app
    error = refused(
        world,
        err.RecoveryExceedsBalanceError,
        lambda: app.recover_balance(budget_id, 1_700_01, AFTER, world.prov()),
    )
    assert (error.facts["amount_pence"], error.facts["held_pence"]) == (1_700_01, 1_700_00)
    refused(
        world,
        err.EffectiveDateOutsideBudgetError,
        lambda: app.recover_balance(budget_id, None, date(2010, 5, 4), world.prov()),
    )
    app.recover_balance(budget_id, None, AFTER, world.prov())
    refused(  # nothing left
        world,
        err.RecoveryExceedsBalanceError,
        lambda: app.recover_balance(budget_id, None, AFTER, world.prov()),
    )


def test_a_balance_recovery_is_reversed_by_a_correction(world: World) -> None:
    budget_id = cash_budget_ended(world, contribution=500_00)
    version = world.app.recover_balance(budget_id, None, AFTER, world.prov())["version"]
    entry = entry_id(world.app.budget(budget_id).id, version)
    prov = world.prov(reason="recovered-in-error")

    world.app.correct_entry(entry, 1_500_00, AFTER, prov)  # £1,280 recovered, then £220 refund

    budget = world.app.budget(budget_id)
    assert (budget.held_pence, budget.recovered_pence, budget.refunded_pence) == (
        1_500_00,
        0,
        200_00,
    )
    balance = world.trial_balance()
    assert balance[Account.DP_ACCOUNTS] == 1_500_00 and sum(balance.values()) == 0
    refused(
        world,
        err.CorrectionExceedsOriginalError,
        lambda: world.app.correct_entry(entry, 200_01, AFTER, world.prov(reason="again")),
    )


def test_an_ending_recorded_in_error_is_reversed_by_a_reinstatement(world: World) -> None:
    budget_id = world.active_budget(deployment=DIRECT)
    ending = end(world, budget_id, "moved-away")

    world.app.reinstate_budget(budget_id, ending, AFTER, world.prov(reason="ended-in-error"))

    budget = world.app.budget(budget_id)
    assert (budget.status.value, budget.ended_on, budget.end_reason) == ("active", None, None)
    world.app.issue_cash_payment(budget_id, 100_00, FOUR_WEEKS, AFTER, world.prov())
    reinstated = [e for e in world.events() if type(e).__name__ == "Reinstated"]
    assert [e.ending_version for e in reinstated] == [int(ending.split("/")[1])]


def test_a_suspended_budget_ended_in_error_returns_to_suspended(world: World) -> None:
    budget_id = world.active_budget()
    world.app.suspend_budget(budget_id, START, world.prov())
    ending = end(world, budget_id)

    world.app.reinstate_budget(budget_id, ending, AFTER, world.prov(reason="not-dead"))

    assert world.app.budget(budget_id).status.value == "suspended"


def test_only_the_ending_in_force_is_reinstated(world: World) -> None:
    budget_id = world.active_budget()
    running = world.active_budget()
    ending = end(world, budget_id)
    approval = entry_id(world.app.budget(budget_id).id, 4)
    app = world.app

    error = refused(
        world,
        err.NotAnEndingError,
        lambda: app.reinstate_budget(budget_id, approval, AFTER, world.prov(reason="x")),
    )
    assert error.facts["ending_version"] == int(ending.split("/")[1])
    refused(
        world,
        err.InvalidCommandError,  # a reinstatement states its reason
        lambda: app.reinstate_budget(budget_id, ending, AFTER, world.prov()),
    )
    elsewhere = entry_id(app.budget(running).id, 4)
    refused(
        world,
        err.BudgetNotEndedError,
        lambda: app.reinstate_budget(running, elsewhere, AFTER, world.prov(reason="x")),
    )
    refused(
        world,
        err.EntryNotCorrectableError,  # an ending is reversed by a reinstatement, not a correction
        lambda: app.correct_entry(ending, 1, AFTER, world.prov(reason="x")),
    )


def test_a_repeated_balance_recovery_answers_its_first_outcome_and_writes_nothing(
    world: World,
) -> None:
    budget_id = cash_budget_ended(world)
    prov = world.prov()
    first = world.app.recover_balance(budget_id, None, AFTER, prov)
    before = world.event_count()

    again = world.app.recover_balance(budget_id, None, AFTER, prov)

    assert world.event_count() == before
    assert again["replayed"] and again["recovered_pence"] == first["recovered_pence"] == 1_700_00
