"""A personal budget from opening to review: rules 1, 2 and 11, and bad input refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.budget import PersonalBudget
from ledger.errors import (
    BudgetEndedError,
    ContingencyExceedsPolicyError,
    ContributionMismatchError,
    CouncilNotFoundError,
    FundingMismatchError,
    InsufficientBudgetError,
    InsufficientFundsError,
    InvalidCommandError,
    InvalidTransitionError,
    NoAgreedPlanError,
    PoolOverdrawnError,
)
from ledger.values import (
    Allocation,
    BudgetStatus,
    Deployment,
    EndReason,
    FundingStream,
    PlanLine,
)
from tests.support import COUNCIL, FOUR_WEEKS, HOME_CARE, POOL, START, World, allocation

LATER = START + timedelta(weeks=13)
DEARER_PLAN = (PlanLine("home-care", 2000, 13_00),)  # £260 a week: £13,520 a year


def unplanned(world: World, person_ref: str, reason: str = "physical") -> str:
    """A budget opened for ``person_ref``, with no indicative budget or plan yet."""
    outcome = world.app.open_budget(COUNCIL, person_ref, reason, START, world.prov())
    return str(outcome["budget_id"])


def pool_undrawn(world: World) -> int:
    return world.app.pooled_fund(COUNCIL, POOL).undrawn_pence


def test_records_a_budget_through_its_whole_life(world: World) -> None:
    # given a budget opened for a person
    budget_id = unplanned(world, "person-a")
    assert world.app.budget(budget_id).status is BudgetStatus.OPENED

    # when it is planned, approved, deployed, revised, suspended, resumed, reviewed and ended
    world.app.set_indicative_budget(budget_id, 150, 180_00, "RAS-2010-v2", START, world.prov())
    world.app.agree_support_plan(budget_id, (HOME_CARE,), START, world.prov())
    world.app.approve_budget(budget_id, allocation(), START, world.prov())
    world.app.choose_deployment(budget_id, Deployment("council-managed"), START, world.prov())
    world.app.revise_budget(budget_id, allocation(total=12_000_00), LATER, world.prov())
    world.app.suspend_budget(budget_id, LATER, world.prov())
    suspended = world.app.budget(budget_id).status
    world.app.resume_budget(budget_id, LATER + timedelta(days=7), world.prov())
    world.app.review_budget(budget_id, LATER + timedelta(days=14), world.prov())
    world.app.end_budget(budget_id, "residential-care", LATER + timedelta(days=21), world.prov())

    # then each step left its mark
    budget = world.app.budget(budget_id)
    assert suspended is BudgetStatus.SUSPENDED
    assert budget.person_ref == "person-a"
    assert budget.indicative_weekly_pence == 180_00
    assert budget.plan == (HOME_CARE,)
    assert budget.approved_on == START
    assert budget.deployment == Deployment("council-managed")
    assert budget.allocation.total_pence == 12_000_00
    assert budget.allocation.council_contribution_pence == 11_000_00
    assert budget.available_pence == 12_000_00
    assert budget.last_review_on == LATER + timedelta(days=14)
    assert budget.status is BudgetStatus.ENDED
    assert budget.ended_on == LATER + timedelta(days=21)
    assert budget.end_reason == "residential-care"
    assert budget.version == 10
    assert sum(world.trial_balance().values()) == 0


def test_refuses_a_total_that_is_not_client_plus_council(world: World) -> None:
    # given a budget with an agreed plan
    budget_id = world.opened_budget()
    before = world.event_count()
    # when the total is £10,000 but the parts add up to £9,000
    bad = Allocation(10_000_00, 1_000_00, 8_000_00, (FundingStream("council-fund", 8_000_00),))
    # then rule 1 refuses it and nothing is written
    with pytest.raises(ContributionMismatchError):
        world.app.approve_budget(budget_id, bad, START, world.prov())
    assert world.event_count() == before
    assert world.app.budget(budget_id).status is BudgetStatus.OPENED


def test_refuses_funding_streams_that_do_not_add_up_to_the_council_share(world: World) -> None:
    budget_id = world.opened_budget()
    before = world.event_count()
    bad = Allocation(10_000_00, 1_000_00, 9_000_00, (FundingStream("council-fund", 8_999_99),))
    with pytest.raises(FundingMismatchError):
        world.app.approve_budget(budget_id, bad, START, world.prov())
    assert world.event_count() == before


def test_refuses_approval_without_an_agreed_plan(world: World) -> None:
    budget_id = unplanned(world, "person-b", "social")
    before = world.event_count()
    with pytest.raises(NoAgreedPlanError):
        world.app.approve_budget(budget_id, allocation(), START, world.prov())
    assert world.event_count() == before


def test_refuses_a_budget_a_penny_short_of_the_plan(world: World) -> None:
    # given a plan costing £130 a week, £6,760 a year
    budget_id = world.opened_budget()
    before = world.event_count()
    # when the budget is £6,759.99
    with pytest.raises(InsufficientBudgetError):
        world.app.approve_budget(budget_id, allocation(total=6_759_99), START, world.prov())
    assert world.event_count() == before
    # then exactly £6,760 is enough
    world.app.approve_budget(budget_id, allocation(total=6_760_00), START, world.prov())
    assert world.app.budget(budget_id).available_pence == 6_760_00


def test_refuses_a_dearer_plan_the_approved_budget_does_not_cover(world: World) -> None:
    budget_id = world.active_budget()  # £10,000 a year
    before = world.event_count()
    with pytest.raises(InsufficientBudgetError):
        world.app.agree_support_plan(budget_id, DEARER_PLAN, LATER, world.prov())
    assert world.event_count() == before
    assert world.app.budget(budget_id).plan == (HOME_CARE,)


def test_refuses_a_second_approval(world: World) -> None:
    budget_id = world.active_budget()
    before = world.event_count()
    with pytest.raises(InvalidTransitionError):
        world.app.approve_budget(budget_id, allocation(total=11_000_00), LATER, world.prov())
    assert world.event_count() == before
    assert world.app.budget(budget_id).allocation == allocation()


def test_refuses_a_revision_below_what_has_been_drawn(world: World) -> None:
    # given £9,000 paid out of a £10,000 budget
    budget_id = world.active_budget(deployment=Deployment("direct-payment"))
    world.app.issue_cash_payment(budget_id, 9_000_00, FOUR_WEEKS, START, world.prov())
    before = world.event_count()
    # when it is revised to £8,999.99 with no contingency
    revised = allocation(total=8_999_99, contingency=0)
    with pytest.raises(InsufficientFundsError):
        world.app.revise_budget(budget_id, revised, LATER, world.prov())
    # then nothing is written and the old allocation stands
    assert world.event_count() == before
    assert world.app.budget(budget_id).allocation.total_pence == 10_000_00
    # and revising to exactly what was drawn is accepted
    exact = allocation(total=9_000_00, contingency=0)
    world.app.revise_budget(budget_id, exact, LATER, world.prov())
    assert world.app.budget(budget_id).available_pence == 0


def test_draws_a_pooled_stream_from_the_pool_and_releases_it_on_revision(world: World) -> None:
    # given a pool of £50,000
    assert pool_undrawn(world) == 50_000_00
    # when a budget with a £3,000 pooled stream is approved
    budget_id = world.active_budget(allocation(pooled=3_000_00))
    # then the pool is drawn down by £3,000
    assert pool_undrawn(world) == 47_000_00
    # when the revision lowers the pooled share to £1,000
    world.app.revise_budget(budget_id, allocation(pooled=1_000_00), LATER, world.prov())
    # then £2,000 goes back to the pool
    pool = world.app.pooled_fund(COUNCIL, POOL)
    assert pool.undrawn_pence == 49_000_00
    assert pool.drawn_by_budget == {budget_id: 1_000_00}
    assert world.trial_balance()["Funding:PooledFund"] == -1_000_00
    assert world.trial_balance()["Pool:Disentangled"] == 1_000_00
    assert sum(world.trial_balance().values()) == 0


def test_approves_a_budget_that_draws_the_pool_to_exactly_nothing(world: World) -> None:
    world.active_budget(allocation(total=51_000_00, pooled=50_000_00))
    assert pool_undrawn(world) == 0


def test_refuses_an_approval_that_would_overdraw_the_pool(world: World) -> None:
    budget_id = world.opened_budget()
    before = world.event_count()
    too_much = allocation(total=51_000_01, pooled=50_000_01)
    with pytest.raises(PoolOverdrawnError):
        world.app.approve_budget(budget_id, too_much, START, world.prov())
    assert world.event_count() == before
    assert world.app.budget(budget_id).status is BudgetStatus.OPENED
    assert pool_undrawn(world) == 50_000_00


def test_refuses_a_revision_that_would_overdraw_the_pool(world: World) -> None:
    # given two budgets sharing the pool: £30,000 drawn, £20,000 left
    world.active_budget(allocation(total=31_000_00, pooled=30_000_00))
    budget_id = world.active_budget(allocation(total=20_000_00, pooled=10_000_00))
    before = world.event_count()
    # when the second asks for £10,000.01 more
    too_much = allocation(total=30_000_01, pooled=20_000_01)
    with pytest.raises(PoolOverdrawnError):
        world.app.revise_budget(budget_id, too_much, LATER, world.prov())
    # then neither the budget nor the pool moved
    assert world.event_count() == before
    assert world.app.budget(budget_id).allocation.total_pence == 20_000_00
    assert pool_undrawn(world) == 10_000_00


@pytest.mark.parametrize("reason", [r.value for r in EndReason])
def test_records_each_end_reason(world: World, reason: str) -> None:
    budget_id = world.active_budget()
    world.app.end_budget(budget_id, reason, LATER, world.prov())
    ended = [e for e in world.events() if isinstance(e, PersonalBudget.Ended)]
    assert [(str(e.originator_id), e.end_reason, e.effective_on) for e in ended] == [
        (budget_id, reason, LATER)
    ]


def test_refuses_to_end_or_review_an_ended_budget(world: World) -> None:
    budget_id = world.active_budget()
    world.app.end_budget(budget_id, "death", LATER, world.prov())
    before = world.event_count()
    with pytest.raises(BudgetEndedError):
        world.app.end_budget(budget_id, "moved-away", LATER, world.prov())
    with pytest.raises(BudgetEndedError):
        world.app.review_budget(budget_id, LATER, world.prov())
    assert world.event_count() == before
    assert world.app.budget(budget_id).end_reason == "death"


def test_refuses_to_resume_a_budget_that_is_not_suspended(world: World) -> None:
    budget_id = world.active_budget()
    before = world.event_count()
    with pytest.raises(InvalidTransitionError):
        world.app.resume_budget(budget_id, LATER, world.prov())
    assert world.event_count() == before


def test_refuses_a_budget_for_an_unknown_council(world: World) -> None:
    before = world.event_count()
    with pytest.raises(CouncilNotFoundError):
        world.app.open_budget("E99999999", "person-c", "physical", START, world.prov())
    assert world.event_count() == before


@pytest.mark.parametrize(
    ("person_ref", "reason"),
    [
        ("person\x00", "physical"),  # control character
        ("person\u202e", "physical"),  # right-to-left override
        ("p" * 65, "physical"),  # too long
        ("", "physical"),
        ("person-d", "Physical"),  # not a primary support reason
        ("person-d", "unknown"),
    ],
)
def test_refuses_to_open_with_bad_values(world: World, person_ref: str, reason: str) -> None:
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.open_budget(COUNCIL, person_ref, reason, START, world.prov())
    assert world.event_count() == before


@pytest.mark.parametrize(
    ("score", "weekly", "version"),
    [
        (-1, 180_00, "RAS-v2"),
        (10_001, 180_00, "RAS-v2"),
        (150, 0, "RAS-v2"),
        (150, -180_00, "RAS-v2"),
        (150, 1_000_000_001, "RAS-v2"),
        (150, 180_00, "RAS\nv2"),
    ],
)
def test_refuses_an_indicative_budget_with_bad_values(
    world: World, score: int, weekly: int, version: str
) -> None:
    budget_id = unplanned(world, "person-e")
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.set_indicative_budget(budget_id, score, weekly, version, START, world.prov())
    assert world.event_count() == before
    assert world.app.budget(budget_id).indicative_weekly_pence is None


@pytest.mark.parametrize(
    "bad",
    [
        Allocation(-10_000_00, 0, -10_000_00, ()),
        Allocation(0, 0, 0, ()),
        Allocation(
            1_000_000_001, 0, 1_000_000_001, (FundingStream("council-fund", 1_000_000_000),)
        ),
        Allocation(10_000_00, -1_000_00, 11_000_00, (FundingStream("council-fund", 11_000_00),)),
        allocation(contingency=-1),
    ],
)
def test_refuses_an_allocation_with_bad_amounts(world: World, bad: Allocation) -> None:
    budget_id = world.opened_budget()
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.approve_budget(budget_id, bad, START, world.prov())
    assert world.event_count() == before


def test_refuses_bad_end_reasons_and_deployment_kinds(world: World) -> None:
    budget_id = world.active_budget()
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.end_budget(budget_id, "bored", LATER, world.prov())
    with pytest.raises(InvalidCommandError):
        world.app.choose_deployment(budget_id, Deployment("cash-in-hand"), LATER, world.prov())
    with pytest.raises(InvalidCommandError):
        world.app.choose_deployment(budget_id, Deployment("mixed", None, 0), LATER, world.prov())
    assert world.event_count() == before
    assert world.app.budget(budget_id).status is BudgetStatus.ACTIVE


def test_refuses_a_plan_line_with_control_characters(world: World) -> None:
    budget_id = unplanned(world, "person-f")
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.agree_support_plan(
            budget_id, (PlanLine("home\tcare", 1000, 13_00),), START, world.prov()
        )
    assert world.event_count() == before


def test_refuses_a_contingency_beyond_the_councils_policy(world: World) -> None:
    # given the council's default policy: a contingency of up to 10% of the budget
    budget_id = world.opened_budget()
    before = world.event_count()
    # when a £10,000 budget asks for £1,000.01 of contingency: then it is refused, nothing written
    with pytest.raises(ContingencyExceedsPolicyError) as refused:
        world.app.approve_budget(budget_id, allocation(contingency=1_000_01), START, world.prov())
    assert refused.value.facts["allowed_pence"] == 1_000_00
    assert world.event_count() == before
    # and exactly 10% is accepted
    world.app.approve_budget(budget_id, allocation(contingency=1_000_00), START, world.prov())
    assert world.app.budget(budget_id).allocation.contingency_pence == 1_000_00


def test_a_revision_follows_the_councils_changed_contingency_policy(world: World) -> None:
    # given an active budget with a 5% contingency, and the council lowering its limit to 2%
    budget_id = world.active_budget(allocation(contingency=500_00))
    world.app.change_council_policy(COUNCIL, 8, 500, START, world.admin(), max_contingency_bp=200)
    before = world.event_count()
    # when a revision keeps the 5% contingency: then it is refused and nothing is written
    with pytest.raises(ContingencyExceedsPolicyError):
        world.app.revise_budget(budget_id, allocation(contingency=500_00), START, world.prov())
    assert world.event_count() == before
    world.app.revise_budget(budget_id, allocation(contingency=200_00), START, world.prov())
    assert world.app.budget(budget_id).allocation.contingency_pence == 200_00
