"""Money on a personal budget: cash (rules 3, 7), surplus (rule 9), corrections (rule 10)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from ledger.budget import PersonalBudget
from ledger.errors import (
    BudgetEndedError,
    BudgetNotActiveError,
    BudgetSuspendedError,
    CorrectionExceedsOriginalError,
    DeploymentError,
    EntryNotCorrectableError,
    EntryNotFoundError,
    InsufficientFundsError,
    InvalidCommandError,
    SurplusExceededError,
)
from ledger.ids import council_id
from ledger.values import Deployment
from tests.support import COUNCIL, FOUR_WEEKS, START, World, allocation

LATER = START + timedelta(weeks=10)  # ten whole weeks after approval
DIRECT = Deployment("direct-payment")


def cash_budget(world: World) -> str:
    """£10,400 a year paid as a direct payment (£200 a week); client pays £1,040 (£20 a week)."""
    return world.active_budget(allocation(total=10_400_00, client=1_040_00, contingency=0), DIRECT)


def pay(world: World, budget_id: str, amount: int) -> str:
    """Issue a cash payment and return its entry id."""
    outcome = world.app.issue_cash_payment(budget_id, amount, FOUR_WEEKS, START, world.prov())
    return f"{budget_id}/{outcome['version']}"


def spend(world: World, budget_id: str, amount: int) -> None:
    world.app.report_direct_payment_spend(budget_id, amount, FOUR_WEEKS, LATER, world.prov())


def pence(record: object, names: str) -> tuple[int, ...]:
    """The named ``*_pence`` figures of a budget or event: ``pence(b, "available drawn")``."""
    return tuple(getattr(record, f"{name}_pence") for name in names.split())


def balances(world: World) -> dict[str, int]:
    return {account: pence for account, pence in world.trial_balance().items() if pence}


# --- cash payments (rules 3 and 7) ---------------------------------------------------------------


def test_pays_cash_up_to_the_contingency_exactly(world: World) -> None:
    # given £10,000 available and a £500 contingency
    budget_id = world.active_budget()
    # when £10,500 is paid
    pay(world, budget_id, 10_500_00)
    # then the budget is £500 into its contingency and no further
    budget = world.app.budget(budget_id)
    assert pence(budget, "available drawn held") == (-500_00, 10_500_00, 10_500_00)
    before = world.event_count()
    with pytest.raises(InsufficientFundsError):
        pay(world, budget_id, 1)
    assert world.event_count() == before
    assert sum(world.trial_balance().values()) == 0


def test_refuses_cash_beyond_available_plus_contingency(world: World) -> None:
    budget_id = world.active_budget()
    pay(world, budget_id, 6_000_00)
    before = world.event_count()
    with pytest.raises(InsufficientFundsError):
        pay(world, budget_id, 4_500_01)  # £4,000 available + £500 contingency
    assert world.event_count() == before
    assert world.app.budget(budget_id).drawn_pence == 6_000_00


def test_refuses_cash_while_suspended_and_after_ending(world: World) -> None:
    budget_id = world.active_budget()
    world.app.suspend_budget(budget_id, START, world.prov())
    before = world.event_count()
    with pytest.raises(BudgetSuspendedError):
        pay(world, budget_id, 100_00)
    assert world.event_count() == before
    world.app.resume_budget(budget_id, LATER, world.prov())
    world.app.end_budget(budget_id, "death", LATER, world.prov())
    before = world.event_count()
    with pytest.raises(BudgetEndedError):
        pay(world, budget_id, 100_00)
    assert world.event_count() == before
    assert world.app.budget(budget_id).cash_paid_pence == 0


def test_refuses_cash_before_approval(world: World) -> None:
    budget_id = world.opened_budget()
    before = world.event_count()
    with pytest.raises(BudgetNotActiveError):
        pay(world, budget_id, 100_00)
    assert world.event_count() == before


def test_refuses_cash_on_a_council_managed_budget(world: World) -> None:
    budget_id = world.active_budget(deployment=Deployment("council-managed"))
    before = world.event_count()
    with pytest.raises(DeploymentError):
        pay(world, budget_id, 100_00)
    assert world.event_count() == before


@pytest.mark.parametrize("amount", [0, -1, -100_00, 1_000_000_001, True, 12.5, "100"])
def test_refuses_cash_of_a_bad_amount(world: World, amount: object) -> None:
    budget_id = world.active_budget()
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        pay(world, budget_id, amount)  # type: ignore[arg-type]
    assert world.event_count() == before


def test_refuses_spend_reports_beyond_the_cash_held(world: World) -> None:
    # given £1,000 paid and £600 of it reported spent
    budget_id = world.active_budget()
    pay(world, budget_id, 1_000_00)
    spend(world, budget_id, 600_00)
    before = world.event_count()
    # when £400.01 more is reported: refused; £400 is fine
    with pytest.raises(InsufficientFundsError):
        spend(world, budget_id, 400_01)
    assert world.event_count() == before
    spend(world, budget_id, 400_00)
    assert world.app.budget(budget_id).held_pence == 0


def test_records_contributions_assessed_and_received(world: World) -> None:
    budget_id = world.active_budget()
    world.app.assess_contribution(budget_id, 25_00, START, world.prov())
    world.app.receive_contribution(budget_id, 100_00, LATER, world.prov())
    budget = world.app.budget(budget_id)
    assert budget.contributions_received_pence == 100_00
    assert budget.contribution_due_pence(START + timedelta(weeks=3, days=6)) == 75_00
    assert balances(world)["Income:ClientContributions"] == -100_00
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.assess_contribution(budget_id, -1, LATER, world.prov())
    with pytest.raises(InvalidCommandError):
        world.app.receive_contribution(budget_id, 0, LATER, world.prov())
    assert world.event_count() == before


# --- surplus (rule 9) ----------------------------------------------------------------------------


def test_recovers_surplus_refunding_overpaid_contribution_first(world: World) -> None:
    # given £200 a week of direct payment, so 8 weeks is £1,600;
    # £3,000 paid, £400 spent: £2,600 held; the person paid £300 against £200 due by week 10
    budget_id = cash_budget(world)
    pay(world, budget_id, 3_000_00)
    spend(world, budget_id, 400_00)
    world.app.receive_contribution(budget_id, 300_00, LATER, world.prov())
    # when the surplus is identified and all of it recovered
    world.app.identify_surplus(budget_id, LATER, world.prov())
    world.app.recover_surplus(budget_id, 1_000_00, LATER, world.prov())
    # then £1,000 was surplus: £100 refunded to the person first, £900 back to the council
    [identified] = [e for e in world.events() if isinstance(e, PersonalBudget.SurplusIdentified)]
    assert pence(identified, "amount held threshold") == (1_000_00, 2_600_00, 1_600_00)
    budget = world.app.budget(budget_id)
    assert pence(budget, "refunded recovered held") == (100_00, 900_00, 1_600_00)
    assert budget.surplus_outstanding_pence == 0
    # and the books, by hand: approval, cash, spend, contribution and recovery
    assert balances(world) == {
        "Funding:CouncilFund": -9_360_00,
        "Funding:ClientContribution": -1_040_00,
        "Budgets:Available": 7_400_00,  # 10,400 - 3,000
        "Budgets:Drawn": 2_000_00,  # 3,000 - 1,000 recovered
        "Budgets:Recovered": 1_000_00,
        "Assets:Bank": -1_800_00,  # -3,000 + 300 + 900
        "Assets:DirectPaymentAccounts": 1_600_00,  # 3,000 - 400 - 1,000
        "Expenses:DirectPaymentSpend": 400_00,
        "Income:ClientContributions": -200_00,  # 300 received, 100 refunded
        "Pool:Held": 50_000_00,
        "Pool:PartnerContributions": -50_000_00,
    }
    assert sum(balances(world).values()) == 0


def test_refunds_the_overpayment_first_across_two_recoveries(world: World) -> None:
    budget_id = cash_budget(world)
    pay(world, budget_id, 3_000_00)
    spend(world, budget_id, 400_00)
    world.app.receive_contribution(budget_id, 300_00, LATER, world.prov())
    world.app.identify_surplus(budget_id, LATER, world.prov())
    world.app.recover_surplus(budget_id, 60_00, LATER, world.prov())  # all of it refunded
    world.app.recover_surplus(budget_id, 940_00, LATER, world.prov())  # £40 refunded first
    recoveries = [e for e in world.events() if isinstance(e, PersonalBudget.SurplusRecovered)]
    assert [pence(e, "refunded recovered") for e in recoveries] == [(60_00, 0), (40_00, 900_00)]
    assert sum(world.trial_balance().values()) == 0


def test_uses_the_councils_surplus_weeks(world: World) -> None:
    # given the council holds only 4 weeks (£800) and a person holds £2,600
    world.app.change_council_policy(COUNCIL, 4, 500, START, world.admin())
    budget_id = cash_budget(world)
    pay(world, budget_id, 3_000_00)
    spend(world, budget_id, 400_00)
    # when the surplus is identified; then it is £1,800
    world.app.identify_surplus(budget_id, LATER, world.prov())
    assert world.app.budget(budget_id).surplus_outstanding_pence == 1_800_00


def test_counts_only_the_direct_payment_share_of_a_mixed_budget(world: World) -> None:
    # given £5,200 a year (£100 a week) paid as cash: 8 weeks is £800; £1,000 held
    budget_id = world.active_budget(deployment=Deployment("mixed", None, 5_200_00))
    pay(world, budget_id, 1_000_00)
    world.app.identify_surplus(budget_id, LATER, world.prov())
    assert world.app.budget(budget_id).surplus_outstanding_pence == 200_00


def test_refuses_to_identify_a_surplus_at_the_threshold(world: World) -> None:
    budget_id = cash_budget(world)
    pay(world, budget_id, 1_600_00)  # exactly 8 weeks of £200
    before = world.event_count()
    with pytest.raises(SurplusExceededError):
        world.app.identify_surplus(budget_id, LATER, world.prov())
    assert world.event_count() == before


def test_refuses_to_recover_more_than_identified(world: World) -> None:
    budget_id = cash_budget(world)
    pay(world, budget_id, 2_600_00)
    world.app.identify_surplus(budget_id, LATER, world.prov())  # £1,000
    before = world.event_count()
    with pytest.raises(SurplusExceededError):
        world.app.recover_surplus(budget_id, 1_000_01, LATER, world.prov())
    with pytest.raises(SurplusExceededError):
        world.app.identify_surplus(budget_id, LATER, world.prov())  # nothing new identified
    assert world.event_count() == before
    assert world.app.budget(budget_id).surplus_outstanding_pence == 1_000_00


# --- corrections (rule 10) -----------------------------------------------------------------------


def test_corrects_a_cash_payment_in_parts_and_keeps_the_original(world: World) -> None:
    # given a £1,000 cash payment
    budget_id = world.active_budget(deployment=DIRECT)
    entry = pay(world, budget_id, 1_000_00)
    assert entry == f"{budget_id}/6"
    # when £300 and then £200 of it are reversed
    world.app.correct_entry(entry, 300_00, LATER, world.prov(reason="duplicate-payment"))
    world.app.correct_entry(entry, 200_00, LATER, world.prov(reason="duplicate-payment"))
    # then £500 is reversed and back in the budget
    budget = world.app.budget(budget_id)
    assert budget.corrected == {6: 500_00}
    assert pence(budget, "cash_paid drawn available") == (500_00, 500_00, 9_500_00)
    assert balances(world)["Budgets:Available"] == budget.available_pence
    assert balances(world)["Assets:DirectPaymentAccounts"] == 500_00
    # and the original entry is still in the log, with both corrections pointing at it
    mine = [e for e in world.events() if str(e.originator_id) == budget_id]
    [original] = [e for e in mine if isinstance(e, PersonalBudget.CashPaymentIssued)]
    assert (original.originator_version, original.amount_pence) == (6, 1_000_00)
    corrections = [e for e in mine if isinstance(e, PersonalBudget.Corrected)]
    assert [(c.entry_version, c.amount_pence, c.prov.reason) for c in corrections] == [
        (6, 300_00, "duplicate-payment"),
        (6, 200_00, "duplicate-payment"),
    ]
    assert sum(world.trial_balance().values()) == 0


def test_refuses_a_correction_beyond_what_remains(world: World) -> None:
    budget_id = world.active_budget(deployment=DIRECT)
    entry = pay(world, budget_id, 1_000_00)
    world.app.correct_entry(entry, 600_00, LATER, world.prov(reason="overpaid"))
    before = world.event_count()
    with pytest.raises(CorrectionExceedsOriginalError):
        world.app.correct_entry(entry, 400_01, LATER, world.prov(reason="overpaid"))
    assert world.event_count() == before
    world.app.correct_entry(entry, 400_00, LATER, world.prov(reason="overpaid"))
    assert world.app.budget(budget_id).drawn_pence == 0


def test_corrects_contributions_and_spend_reports(world: World) -> None:
    budget_id = world.active_budget(deployment=DIRECT)
    pay(world, budget_id, 1_000_00)
    world.app.report_direct_payment_spend(budget_id, 400_00, FOUR_WEEKS, LATER, world.prov())
    world.app.receive_contribution(budget_id, 300_00, LATER, world.prov())  # version 8
    world.app.correct_entry(f"{budget_id}/7", 150_00, LATER, world.prov(reason="misreported"))
    world.app.correct_entry(f"{budget_id}/8", 100_00, LATER, world.prov(reason="bounced"))
    budget = world.app.budget(budget_id)
    assert pence(budget, "dp_spend held contributions_received") == (250_00, 750_00, 200_00)
    assert balances(world)["Income:ClientContributions"] == -200_00
    assert sum(world.trial_balance().values()) == 0


def test_refuses_to_take_back_cash_the_person_has_spent(world: World) -> None:
    budget_id = world.active_budget(deployment=DIRECT)
    entry = pay(world, budget_id, 1_000_00)
    spend(world, budget_id, 800_00)
    before = world.event_count()
    with pytest.raises(InsufficientFundsError):
        world.app.correct_entry(entry, 300_00, LATER, world.prov(reason="overpaid"))
    assert world.event_count() == before


def test_refuses_a_correction_without_a_reason_or_amount(world: World) -> None:
    budget_id = world.active_budget(deployment=DIRECT)
    entry = pay(world, budget_id, 1_000_00)
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.correct_entry(entry, 100_00, LATER, world.prov())
    for amount in (0, -100_00, 1_000_000_001):
        with pytest.raises(InvalidCommandError):
            world.app.correct_entry(entry, amount, LATER, world.prov(reason="overpaid"))
    assert world.event_count() == before


@pytest.mark.parametrize("which", ["approval", "council"])
def test_refuses_to_correct_an_entry_that_moves_no_cash(world: World, which: str) -> None:
    budget_id = world.active_budget(deployment=DIRECT)
    entry = f"{budget_id}/4" if which == "approval" else f"{council_id(COUNCIL)}/1"
    before = world.event_count()
    with pytest.raises(EntryNotCorrectableError):
        world.app.correct_entry(entry, 100_00, LATER, world.prov(reason="typo"))
    assert world.event_count() == before


@pytest.mark.parametrize(
    "entry", ["{budget}/99", "{budget}/0", "{unknown}/1", "not-an-entry", "{budget}/-1"]
)
def test_refuses_to_correct_an_unknown_entry(world: World, entry: str) -> None:
    budget_id = world.active_budget(deployment=DIRECT)
    pay(world, budget_id, 1_000_00)
    entry_id = entry.format(budget=budget_id, unknown=uuid.uuid4())
    before = world.event_count()
    with pytest.raises(EntryNotFoundError):
        world.app.correct_entry(entry_id, 100_00, LATER, world.prov(reason="typo"))
    assert world.event_count() == before


def test_recovering_with_nothing_identified_identifies_first_in_the_same_save(world: World) -> None:
    # given £2,600 held against an 8-week threshold of £1,600, nothing identified yet
    budget_id = cash_budget(world)
    pay(world, budget_id, 2_600_00)
    before = world.event_count()
    # when the council recovers without an amount
    world.app.recover_surplus(budget_id, None, LATER, world.prov())
    # then the £1,000 is identified and recovered together: two events and one command record
    budget = world.app.budget(budget_id)
    assert (budget.surplus_outstanding_pence, budget.held_pence) == (0, 1_600_00)
    assert world.event_count() == before + 3


def test_recovering_with_no_surplus_is_refused_and_writes_nothing(world: World) -> None:
    budget_id = cash_budget(world)
    pay(world, budget_id, 1_000_00)
    before = world.event_count()
    with pytest.raises(SurplusExceededError):
        world.app.recover_surplus(budget_id, None, LATER, world.prov())
    assert world.event_count() == before
