"""Rule 10 for the money entries of net and gross direct payments: a contribution charged (net:
drawn from the budget year too; gross) and a contribution paid (into the direct-payment account;
to the council) are reversed by a correction with the exact reverse postings; the figures move
back exactly; a payment-run payment reversed is not paid again by the next run."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

import ledger.errors as err
from ledger.budget import PersonalBudget
from ledger.ids import entry_id
from ledger.postings import postings_for
from tests.support import COUNCIL, FOUR_WEEKS, START, World
from tests.unit.test_payment_runs import CONTRIBUTION_4W, GROSS_4W, dp_budget

LATER = START + timedelta(days=40)


def figures(b: PersonalBudget) -> tuple[int, ...]:
    return (
        b.contributions_charged_pence, b.contributions_paid_pence, b.contributions_owed_pence,
        b.contributions_received_pence, b.held_pence, b.drawn_pence, b.year_drawn.get(START, 0),
    )  # fmt: skip


def entry_of(world: World, budget_id: str, kind: str) -> tuple[str, Any]:
    """The id and event of the budget's first entry of ``kind``."""
    b = world.app.budget(budget_id)
    version = min(v for v, (t, _) in b.entries.items() if t == kind)
    event = next(
        e for e in world.events()
        if str(e.originator_id) == budget_id and e.originator_version == version
    )  # fmt: skip
    return entry_id(b.id, version), event


def reversal_postings_are_exact(world: World, budget_id: str, original: Any) -> None:
    """The corrections of the entry, taken together, post the exact reverse of it."""
    reversals = [
        e for e in world.events()
        if isinstance(e, PersonalBudget.Corrected) and str(e.originator_id) == budget_id
        and e.entry_version == original.originator_version
    ]  # fmt: skip
    totals: dict[str, int] = {}
    for p in (p for e in reversals for p in postings_for(e)):
        totals[p.account] = totals.get(p.account, 0) + p.amount_pence
    assert reversals
    assert totals == {p.account: -p.amount_pence for p in postings_for(original)}
    assert sum(world.trial_balance().values()) == 0


@pytest.mark.parametrize(
    ("net", "kind"), [(True, "ContributionChargedNet"), (False, "ContributionCharged")]
)
def test_a_contribution_charged_net_or_gross_is_reversed_exactly(
    world: World, net: bool, kind: str
) -> None:
    budget_id = dp_budget(world, net=net)
    world.app.run_payments(COUNCIL, START, world.prov())
    before = figures(world.app.budget(budget_id))
    entry, original = entry_of(world, budget_id, kind)
    assert original.net is net

    world.app.correct_entry(entry, CONTRIBUTION_4W, LATER, world.prov(reason="not-owed"))

    reversal_postings_are_exact(world, budget_id, original)
    after = figures(world.app.budget(budget_id))
    drawn_back = CONTRIBUTION_4W if net else 0  # a net charge drew the client's share
    charged, paid, owed, received, held, drawn, year = before
    assert after == (
        charged - CONTRIBUTION_4W, paid, owed - CONTRIBUTION_4W, received, held,
        drawn - drawn_back, year - drawn_back,
    )  # fmt: skip
    refusal = refused(
        world, lambda: world.app.correct_entry(entry, 1, LATER, world.prov(reason="x"))
    )
    assert isinstance(refusal, err.CorrectionExceedsOriginalError)


@pytest.mark.parametrize(
    ("net", "kind"), [(True, "ContributionPaidIntoAccount"), (False, "ContributionPaid")]
)
def test_a_contribution_paid_into_the_account_or_to_the_council_is_reversed_exactly(
    world: World, net: bool, kind: str
) -> None:
    budget_id = dp_budget(world, net=net)
    world.app.run_payments(COUNCIL, START, world.prov())
    world.app.receive_contribution(budget_id, CONTRIBUTION_4W, START, world.prov())
    before = figures(world.app.budget(budget_id))
    entry, original = entry_of(world, budget_id, kind)
    assert original.into_account is net

    world.app.correct_entry(entry, 30_00, LATER, world.prov(reason="bounced"))
    world.app.correct_entry(entry, CONTRIBUTION_4W - 30_00, LATER, world.prov(reason="bounced"))

    reversal_postings_are_exact(world, budget_id, original)
    charged, paid, owed, received, held, drawn, year = before
    into = CONTRIBUTION_4W if net else 0  # paid against what is owed: never "received"
    assert figures(world.app.budget(budget_id)) == (
        charged, paid - CONTRIBUTION_4W, owed + CONTRIBUTION_4W, received, held - into, drawn,
        year,
    )  # fmt: skip
    refusal = refused(
        world, lambda: world.app.correct_entry(entry, 1, LATER, world.prov(reason="x"))
    )
    assert isinstance(refusal, err.CorrectionExceedsOriginalError)


def refused(world: World, command: Any) -> err.LedgerError:
    before = world.event_count()
    with pytest.raises(err.LedgerError) as refusal:
        command()
    assert world.event_count() == before
    return refusal.value


def test_a_charge_already_paid_is_reversed_after_the_payment_is_refunded(world: World) -> None:
    budget_id = dp_budget(world, net=False)
    world.app.run_payments(COUNCIL, START, world.prov())
    world.app.receive_contribution(budget_id, CONTRIBUTION_4W, START, world.prov())
    charge, _ = entry_of(world, budget_id, "ContributionCharged")
    payment, _ = entry_of(world, budget_id, "ContributionPaid")
    prov = world.prov(reason="not-owed")

    refusal = refused(world, lambda: world.app.correct_entry(charge, 1, LATER, prov))
    assert isinstance(refusal, err.ReverseLaterEntryFirstError)
    assert refusal.facts["contributions_owed_pence"] == 0

    world.app.correct_entry(payment, CONTRIBUTION_4W, LATER, world.prov(reason="refunded"))
    world.app.correct_entry(charge, CONTRIBUTION_4W, LATER, world.prov(reason="not-owed"))
    assert world.app.budget(budget_id).contributions_owed_pence == 0


def test_money_paid_into_the_account_and_spent_cannot_be_reversed(world: World) -> None:
    budget_id = dp_budget(world, net=True)
    world.app.run_payments(COUNCIL, START, world.prov())
    world.app.receive_contribution(budget_id, CONTRIBUTION_4W, START, world.prov())
    held = world.app.budget(budget_id).held_pence
    world.app.report_direct_payment_spend(budget_id, held, FOUR_WEEKS, START, world.prov())
    paid, _ = entry_of(world, budget_id, "ContributionPaidIntoAccount")
    refusal = refused(
        world, lambda: world.app.correct_entry(paid, 1, LATER, world.prov(reason="bounced"))
    )
    assert isinstance(refusal, err.InsufficientFundsError)


def test_a_reversed_payment_run_payment_is_not_paid_again_by_the_next_run(world: World) -> None:
    """A council reverses a run's payment because it should not have been made (a duplicate,
    a wrong amount): the period stays paid through, so the next run does not pay it again; a
    period still owed is paid by hand (``issue_cash_payment``)."""
    budget_id = dp_budget(world, net=False)
    world.app.run_payments(COUNCIL, START, world.prov())
    payment, _ = entry_of(world, budget_id, "CashPaymentIssued")
    world.app.correct_entry(payment, GROSS_4W, START, world.prov(reason="paid-in-error"))

    outcome = world.app.run_payments(COUNCIL, START + timedelta(days=27), world.prov())

    line = next(r for r in outcome["results"] if r["budget_id"] == budget_id)
    assert (line["periods_paid"], line["skipped_reason"]) == (0, "nothing-due")
    assert world.app.budget(budget_id).cash_paid_pence == 0
    nxt = world.app.run_payments(COUNCIL, START + timedelta(days=28), world.prov())
    line = next(r for r in nxt["results"] if r["budget_id"] == budget_id)
    assert (line["periods_paid"], line["run_cash_paid_pence"]) == (1, GROSS_4W)
    assert date(2010, 5, 3) == START + timedelta(days=28)
