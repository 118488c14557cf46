"""Budget years (rule 14): each financial year has its own allocation, funds check and figures;
a budget without year events keeps its one allocation for a year from the approval."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import (
    BudgetYearClosedError,
    BudgetYearError,
    BudgetYearNotAllocatedError,
    InsufficientFundsError,
    InvalidCommandError,
    SurplusExceededError,
)
from ledger.postings import Account
from ledger.values import Deployment, Period
from tests.support import START, World, allocation

DIRECT = Deployment("direct-payment")
FY11 = date(2011, 4, 1)  # 2011-12: 366 days (29 February 2012)
ANNUAL = 10_400_00  # £200 a week


def cash_budget(world: World) -> str:
    return world.active_budget(allocation(total=ANNUAL, client=0, contingency=0), DIRECT)


def four_weeks(start: date) -> Period:
    return Period(start, date.fromordinal(start.toordinal() + 27))


def pay(world: World, budget_id: str, pence: int, on: date) -> None:
    world.app.issue_cash_payment(budget_id, pence, four_weeks(on), on, world.prov())


def test_cash_at_the_annual_rate_runs_out_without_the_next_year_and_not_with_it(
    world: World,
) -> None:
    # given a budget paid £800 every 4 weeks from its approval, 13 times in the approval year
    budget_id = cash_budget(world)
    day = START
    for _ in range(13):
        pay(world, budget_id, 800_00, day)
        day = date.fromordinal(day.toordinal() + 28)
    # then without year events the approval's one allocation is spent: the 14th is refused
    with pytest.raises(InsufficientFundsError):
        pay(world, budget_id, 800_00, day)
    # when 2011-12 is rolled over
    world.app.allocate_year(budget_id, FY11, "rolled-over", FY11, world.prov())
    # then cash at the annual rate is paid on from the approval's anniversary, in the new year
    day = date(2011, 4, 5)
    for _ in range(12):
        pay(world, budget_id, 800_00, day)
        day = date.fromordinal(day.toordinal() + 28)
    years = world.app.budget(budget_id).budget_years()
    assert [y.label for y in years] == ["2010-04-05 approval year", "2011-12"]
    assert years[0].closed and not years[1].closed
    assert years[0].ends_on == date(2011, 4, 4)
    assert years[0].drawn_pence == 13 * 800_00


def test_the_first_year_after_a_mid_year_approval_is_pro_rated_by_day(world: World) -> None:
    # given a budget approved on 5 April 2010: its allocation runs to 4 April 2011
    budget_id = cash_budget(world)
    # when 2011-12 is rolled over
    world.app.allocate_year(budget_id, FY11, "rolled-over", FY11, world.prov())
    # then 2011-12 has the days from 5 April 2011 to 31 March 2012: 362 of its 366
    budget = world.app.budget(budget_id)
    assert budget.year_allocations[FY11].total_pence == ANNUAL * 362 // 366
    assert budget.available_pence == ANNUAL + ANNUAL * 362 // 366
    # and a later year runs whole
    world.app.allocate_year(budget_id, date(2012, 4, 1), "rolled-over", FY11, world.prov())
    assert world.app.budget(budget_id).year_allocations[date(2012, 4, 1)].total_pence == ANNUAL


def test_each_year_has_its_own_funds_check(world: World) -> None:
    budget_id = cash_budget(world)
    world.app.allocate_year(budget_id, FY11, "rolled-over", FY11, world.prov())
    in_2011 = date(2011, 6, 1)
    year_share = ANNUAL * 362 // 366
    before = world.event_count()
    with pytest.raises(InsufficientFundsError) as refused:
        pay(world, budget_id, year_share + 1, in_2011)
    assert refused.value.facts["year"] == "2011-12"
    assert world.event_count() == before
    pay(world, budget_id, year_share, in_2011)  # exactly the year's allocation
    # the approval year still has all of its own money for care dated in it
    pay(world, budget_id, ANNUAL, START)


def test_an_entry_in_a_year_not_allocated_is_refused_and_writes_nothing(world: World) -> None:
    budget_id = cash_budget(world)
    world.app.allocate_year(budget_id, FY11, "rolled-over", FY11, world.prov())
    before = world.event_count()
    with pytest.raises(BudgetYearNotAllocatedError) as refused:
        pay(world, budget_id, 100_00, date(2012, 4, 2))
    assert refused.value.facts["year"] == "2012-13"
    assert refused.value.facts["allocated_years"] == ["2010-04-05 approval year", "2011-12"]
    assert world.event_count() == before


def test_only_the_next_year_is_allocated_and_only_on_1_april(world: World) -> None:
    budget_id = cash_budget(world)
    before = world.event_count()
    for wrong in (date(2012, 4, 1), date(2011, 5, 1), date(2010, 4, 1)):
        with pytest.raises(BudgetYearError) as refused:
            world.app.allocate_year(budget_id, wrong, "rolled-over", FY11, world.prov())
        assert refused.value.facts["expected_year_starts_on"] == "2011-04-01"
    with pytest.raises(InvalidCommandError):
        world.app.allocate_year(budget_id, FY11, "carried", FY11, world.prov())
    with pytest.raises(InvalidCommandError):  # re-assessed states its figures
        world.app.allocate_year(budget_id, FY11, "re-assessed", FY11, world.prov())
    assert world.event_count() == before


def test_a_re_assessed_year_takes_its_new_figures(world: World) -> None:
    budget_id = cash_budget(world)
    new = allocation(total=12_000_00, client=1_200_00, contingency=0)
    world.app.allocate_year(budget_id, FY11, "re-assessed", FY11, world.prov(), new)
    budget = world.app.budget(budget_id)
    assert budget.allocation == new
    assert budget.year_allocations[FY11].total_pence == 12_000_00 * 362 // 366
    assert budget.year_allocations[START].total_pence == ANNUAL  # the approval year keeps its


def test_a_revision_re_assesses_the_latest_year_only(world: World) -> None:
    budget_id = cash_budget(world)
    world.app.allocate_year(budget_id, FY11, "rolled-over", FY11, world.prov())
    new = allocation(total=12_000_00, client=0, contingency=0)
    before = world.event_count()
    with pytest.raises(BudgetYearClosedError):
        world.app.revise_budget(budget_id, new, date(2011, 3, 1), world.prov())
    assert world.event_count() == before
    world.app.revise_budget(budget_id, new, date(2011, 9, 1), world.prov())
    budget = world.app.budget(budget_id)
    assert budget.year_allocations[FY11].total_pence == 12_000_00 * 362 // 366
    assert budget.year_allocations[START].total_pence == ANNUAL


def test_the_budget_book_holds_every_years_allocation(world: World) -> None:
    budget_id = cash_budget(world)
    world.app.allocate_year(budget_id, FY11, "rolled-over", FY11, world.prov())
    pay(world, budget_id, 800_00, date(2011, 5, 1))
    world.app.revise_budget(
        budget_id, allocation(total=11_000_00, client=0, contingency=0), FY11, world.prov()
    )
    balance = world.trial_balance()
    assert sum(balance.values()) == 0
    assert balance[Account.AVAILABLE] == world.app.budget(budget_id).available_pence


def test_surplus_is_tested_against_the_years_own_rate_not_a_later_years(world: World) -> None:
    # given £3,000 held on a £10,400 budget (£200 a week: 8 weeks is £1,600), and 2011-12
    # re-assessed at twice the rate (£400 a week: 8 weeks is £3,200) before its year starts
    budget_id = cash_budget(world)
    pay(world, budget_id, 3_000_00, date(2011, 3, 1))
    doubled = allocation(total=2 * ANNUAL, client=0, contingency=0)
    world.app.allocate_year(
        budget_id, FY11, "re-assessed", date(2011, 3, 20), world.prov(), allocation=doubled
    )
    # when the surplus is identified in the approval year
    world.app.identify_surplus(budget_id, date(2011, 3, 25), world.prov())
    # then it is tested against the approval year's rate: £3,000 - 8 x £200 = £1,400
    budget = world.app.budget(budget_id)
    assert budget.surplus_outstanding_pence == 3_000_00 - 8 * 200_00
    # and in 2011-12, against that year's rate: the £1,600 still held is no surplus
    before = world.event_count()
    with pytest.raises(SurplusExceededError) as refused:
        world.app.identify_surplus(budget_id, date(2011, 4, 10), world.prov())
    assert refused.value.facts["threshold_pence"] == 8 * 400_00
    assert world.event_count() == before
