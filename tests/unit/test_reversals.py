"""Rule 10 for every kind of money entry: a correction references the entry it reverses, posts
the exact reverse of its postings, never exceeds it (with the reversals before it), and the
original stays. Refusals are named, carry the amounts, and write nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

import ledger.errors as err
from ledger.ids import entry_id, pooled_fund_id
from ledger.postings import postings_for
from ledger.values import Deployment
from tests.support import COUNCIL, FOUR_WEEKS, POOL, PROVIDER, START, World, allocation

ON = date(2010, 5, 10)
LATER = date(2010, 6, 1)
DIRECT = Deployment("direct-payment")


def last_entry(world: World, record_id: str) -> tuple[str, Any]:
    """The entry id and event of the record's last event."""
    events = [e for e in world.events() if str(e.originator_id) == record_id]
    return entry_id(events[-1].originator_id, events[-1].originator_version), events[-1]


def cash_budget(world: World) -> str:
    alloc = allocation(total=10_400_00, client=1_040_00, contingency=0)
    budget_id = world.active_budget(alloc, DIRECT)
    world.app.issue_cash_payment(budget_id, 3_000_00, FOUR_WEEKS, START, world.prov())
    return budget_id


def invoice(world: World, *steps: str) -> str:
    budget_id = world.active_budget()
    draft = world.draft(budget_id, f"INV-{world.event_count()}")
    invoice_id: str = world.app.post_invoice(PROVIDER, draft, world.as_provider())["invoice_id"]
    if "approve" in steps:
        world.app.approve_invoice(invoice_id, ON, world.prov())
    if "pay" in steps:
        world.app.pay_invoice(invoice_id, "BACS-1", ON, world.prov())
    if "credit" in steps:
        world.app.issue_credit_note(invoice_id, "CN-1", 100_00, ON, world.as_provider())
    return invoice_id


def _cash(world: World) -> tuple[str, str]:
    budget_id = cash_budget(world)
    return budget_id, budget_id


def _spend(world: World) -> tuple[str, str]:
    budget_id = cash_budget(world)
    world.app.report_direct_payment_spend(budget_id, 250_00, FOUR_WEEKS, ON, world.prov())
    return budget_id, budget_id


def _assessed(world: World) -> tuple[str, str]:
    budget_id = cash_budget(world)
    world.app.assess_contribution(budget_id, 35_00, START, world.prov())
    return budget_id, budget_id


def _received(world: World) -> tuple[str, str]:
    budget_id = cash_budget(world)
    world.app.receive_contribution(budget_id, 80_00, ON, world.prov())
    return budget_id, budget_id


def _surplus_identified(world: World) -> tuple[str, str]:
    budget_id = cash_budget(world)  # £3,000 held; 8 weeks of £200 = £1,600 threshold
    world.app.identify_surplus(budget_id, ON, world.prov())
    return budget_id, budget_id


def _surplus_recovered(world: World) -> tuple[str, str]:
    budget_id = cash_budget(world)
    world.app.receive_contribution(budget_id, 500_00, ON, world.prov())  # over-paid: refunds
    world.app.recover_surplus(budget_id, None, ON, world.prov())
    return budget_id, budget_id


def _approved(world: World) -> tuple[str, str]:
    invoice_id = invoice(world, "approve")
    return invoice_id, world.app.invoice(invoice_id).budget_id


def _paid(world: World) -> tuple[str, str]:
    invoice_id = invoice(world, "approve", "pay")
    return invoice_id, world.app.invoice(invoice_id).budget_id


def _credited(world: World) -> tuple[str, str]:
    invoice_id = invoice(world, "approve", "pay", "credit")
    return invoice_id, world.app.invoice(invoice_id).budget_id


def _pool_contribution(world: World) -> tuple[str, str]:
    world.app.receive_pool_contribution(COUNCIL, POOL, "NHS-RV3", 7_000_00, ON, world.admin())
    return str(pooled_fund_id(COUNCIL, POOL)), ""


def _pool_drawdown(world: World) -> tuple[str, str]:
    budget_id = world.active_budget(allocation(pooled=2_000_00))  # its share drawn on approval
    return str(pooled_fund_id(COUNCIL, POOL)), budget_id


ENTRIES: dict[str, Callable[[World], tuple[str, str]]] = {
    "cash payment": _cash,
    "spend reported": _spend,
    "contribution assessed": _assessed,
    "contribution received": _received,
    "surplus identified": _surplus_identified,
    "surplus recovered": _surplus_recovered,
    "invoice approval": _approved,
    "invoice payment": _paid,
    "credit note": _credited,
    "pooled-fund contribution": _pool_contribution,
    "pooled-fund drawdown (a budget's share)": _pool_drawdown,
}


def amount_of(event: Any) -> int:
    if hasattr(event, "recovered_pence"):
        return int(event.recovered_pence + event.refunded_pence)
    return int(getattr(event, "amount_pence", getattr(event, "weekly_pence", 0)))


@pytest.mark.parametrize("kind", ENTRIES)
def test_reverses_any_entry_exactly_once_and_the_original_stays(world: World, kind: str) -> None:
    record_id, _ = ENTRIES[kind](world)
    entry, original = last_entry(world, record_id)
    pence = amount_of(original)

    world.app.correct_entry(entry, pence, LATER, world.prov(reason="entered-in-error"))

    _, reversal = last_entry(world, record_id)
    assert getattr(reversal, "entry_version", None) == original.originator_version
    assert postings_for(reversal) == tuple(
        type(p)(p.account, -p.amount_pence) for p in postings_for(original)
    )
    assert sum(world.trial_balance().values()) == 0
    stored = [e for e in world.events() if e.originator_id == original.originator_id]
    assert original.originator_version in [e.originator_version for e in stored]
    again = world.prov(reason="again")
    before = world.event_count()
    with pytest.raises(err.CorrectionExceedsOriginalError) as refusal:
        world.app.correct_entry(entry, 1, LATER, again)
    assert world.event_count() == before
    assert (refusal.value.facts["original_pence"], refusal.value.facts["remaining_pence"]) == (
        pence,
        0,
    )


@pytest.mark.parametrize("kind", ["cash payment", "invoice approval", "surplus recovered"])
def test_partial_reversals_add_up_to_the_entry_and_no_more(world: World, kind: str) -> None:
    record_id, _ = ENTRIES[kind](world)
    entry, original = last_entry(world, record_id)
    pence = amount_of(original)
    prov = world.prov

    world.app.correct_entry(entry, pence - 1_00, LATER, prov(reason="part"))
    before = world.event_count()
    with pytest.raises(err.CorrectionExceedsOriginalError) as refusal:
        world.app.correct_entry(entry, 1_01, LATER, prov(reason="more"))
    assert world.event_count() == before
    assert refusal.value.facts["remaining_pence"] == 1_00
    world.app.correct_entry(entry, 1_00, LATER, prov(reason="rest"))
    assert sum(world.trial_balance().values()) == 0


def test_a_fully_reversed_approval_leaves_the_invoice_to_approve_again(world: World) -> None:
    invoice_id, budget_id = _approved(world)
    entry, _ = last_entry(world, invoice_id)

    world.app.correct_entry(entry, 52_000, LATER, world.prov(reason="approved-in-error"))

    assert world.app.invoice(invoice_id).status.value == "posted"
    assert world.app.budget(budget_id).outstanding_invoices_pence == 52_000
    assert world.app.budget(budget_id).drawn_pence == 0
    world.app.approve_invoice(invoice_id, LATER, world.prov())
    assert world.app.budget(budget_id).drawn_pence == 52_000


def test_a_reversed_payment_is_owed_and_paid_again(world: World) -> None:
    invoice_id, _ = _paid(world)
    entry, _ = last_entry(world, invoice_id)

    world.app.correct_entry(entry, 52_000, LATER, world.prov(reason="bacs-returned"))
    assert world.app.invoice(invoice_id).status.value == "approved"
    world.app.pay_invoice(invoice_id, "BACS-2", LATER, world.prov())

    assert world.app.invoice(invoice_id).paid_pence == 52_000
    assert world.trial_balance().get("Liabilities:ProviderPayable", 0) == 0


def refused(world: World, error: type[err.LedgerError], command: Callable[[], Any]) -> Any:
    before = world.event_count()
    with pytest.raises(error) as refusal:
        command()
    assert world.event_count() == before
    return refusal.value


def test_later_entries_are_reversed_first(world: World) -> None:
    invoice_id = invoice(world, "approve", "pay", "credit")
    versions = {type(e).__name__: e.originator_version for e in world.events()
                if str(e.originator_id) == invoice_id}  # fmt: skip
    approval = entry_id(world.app.invoice(invoice_id).id, versions["Approved"])
    payment = entry_id(world.app.invoice(invoice_id).id, versions["Paid"])
    prov = world.prov(reason="error")

    refused(
        world,
        err.ReverseLaterEntryFirstError,
        lambda: world.app.correct_entry(approval, 1_00, LATER, prov),
    )
    error = refused(
        world,
        err.ReverseLaterEntryFirstError,
        lambda: world.app.correct_entry(payment, 52_000, LATER, prov),
    )
    assert error.facts["credited_pence"] == 100_00


def test_refuses_to_reverse_what_moves_no_correctable_money(world: World) -> None:
    budget_id = world.active_budget()
    approval = entry_id(world.app.budget(budget_id).id, 4)  # the budget's approval
    pool = str(pooled_fund_id(COUNCIL, POOL))
    establishment = f"{pool}/1"
    prov = world.prov(reason="error")

    refused(
        world,
        err.EntryNotCorrectableError,
        lambda: world.app.correct_entry(approval, 1_00, LATER, prov),
    )
    refused(
        world,
        err.EntryNotCorrectableError,
        lambda: world.app.correct_entry(establishment, 1_00, LATER, prov),
    )
    refused(
        world,
        err.EntryNotFoundError,
        lambda: world.app.correct_entry(f"{budget_id}/999", 1_00, LATER, prov),
    )
    refused(  # a correction states its reason
        world,
        err.InvalidCommandError,
        lambda: world.app.correct_entry(f"{pool}/2", 1_00, LATER, world.prov()),
    )


def test_a_pool_contribution_is_never_reversed_below_what_budgets_drew(world: World) -> None:
    world.active_budget(allocation(pooled=40_000_00, total=41_000_00, client=1_000_00))
    pool = str(pooled_fund_id(COUNCIL, POOL))

    error = refused(
        world,
        err.PoolOverdrawnError,
        lambda: world.app.correct_entry(f"{pool}/2", 10_000_01, LATER, world.prov(reason="e")),
    )
    assert error.facts["undrawn_pence"] == 10_000_00


def test_a_reversed_credit_note_never_overdraws_the_budget(world: World) -> None:
    invoice_id, budget_id = _credited(world)
    entry, _ = last_entry(world, invoice_id)
    # spend what the credit note freed, and more, by cash (mixed deployment, £500 contingency)
    budget = world.app.budget(budget_id)
    room = budget.available_pence + budget.allocation.contingency_pence
    world.app.issue_cash_payment(budget_id, room, FOUR_WEEKS, ON, world.prov())

    refused(
        world,
        err.InsufficientFundsError,
        lambda: world.app.correct_entry(entry, 1_00, LATER, world.prov(reason="e")),
    )


def test_an_assessment_replaced_by_a_later_one_is_not_reversed(world: World) -> None:
    budget_id, _ = _assessed(world)
    entry, _ = last_entry(world, budget_id)
    world.app.assess_contribution(budget_id, 40_00, ON, world.prov())

    refused(
        world,
        err.ReverseLaterEntryFirstError,
        lambda: world.app.correct_entry(entry, 1_00, LATER, world.prov(reason="e")),
    )


def test_a_reversed_drawdown_moves_the_budgets_share_to_the_council_fund(world: World) -> None:
    pool, budget_id = _pool_drawdown(world)
    entry, _ = last_entry(world, pool)

    world.app.correct_entry(entry, 500_00, LATER, world.prov(reason="wrong-fund"))

    budget = world.app.budget(budget_id)
    assert budget.allocation.pool_amounts() == {POOL: 1_500_00}
    assert budget.allocation.total_pence == 10_000_00
    assert world.app.pooled_fund(COUNCIL, POOL).drawn_by_budget[budget_id] == 1_500_00
    balance = world.trial_balance()
    assert balance["Funding:PooledFund"] == -1_500_00
    assert balance["Pool:Disentangled"] == 1_500_00
    assert sum(balance.values()) == 0


def test_a_release_is_not_corrected_but_revised(world: World) -> None:
    pool, budget_id = _pool_drawdown(world)
    world.app.revise_budget(budget_id, allocation(pooled=1_000_00), ON, world.prov())
    release, event = last_entry(world, pool)
    assert type(event).__name__ == "Released"

    refused(
        world,
        err.EntryNotCorrectableError,
        lambda: world.app.correct_entry(release, 1_00, LATER, world.prov(reason="e")),
    )
