"""Payment runs: every direct payment due by the run date and not yet paid, 4-weekly in advance
from the direct payment's start, net or gross; one command per council and run date."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.errors import DeploymentError
from ledger.postings import Account
from ledger.values import Deployment
from tests.support import COUNCIL, OTHER_COUNCIL, START, World, allocation

DIRECT = Deployment("direct-payment")
ANNUAL = 10_400_00  # £200 a week, 2010-11 has 365 days
CLIENT = 1_040_00  # £20 a week
GROSS_4W = ANNUAL * 28 // 365
CONTRIBUTION_4W = 20_00 * 4


def dp_budget(world: World, net: bool | None = None) -> str:
    budget_id = world.active_budget(allocation(total=ANNUAL, client=CLIENT, contingency=0), DIRECT)
    if net is not None:
        world.app.choose_payment_basis(budget_id, net, START, world.prov())
    return budget_id


def run(world: World, on: date) -> dict[str, Any]:
    return world.app.run_payments(COUNCIL, on, world.prov())


def line(outcome: dict[str, Any], budget_id: str) -> dict[str, Any]:
    return next(r for r in outcome["results"] if r["budget_id"] == budget_id)


def test_pays_every_period_due_by_the_run_date_in_advance(world: World) -> None:
    budget_id = dp_budget(world)
    outcome = run(world, START + timedelta(days=56))
    # periods starting on 5 April, 3 May and 31 May are due (in advance)
    mine = line(outcome, budget_id)
    assert mine["periods_paid"] == 3
    assert mine["run_cash_paid_pence"] == 3 * GROSS_4W
    assert mine["paid_through"] == (START + timedelta(days=83)).isoformat()
    assert world.app.budget(budget_id).cash_paid_pence == 3 * GROSS_4W


def test_a_run_repeated_for_the_same_date_pays_nothing_twice(world: World) -> None:
    budget_id = dp_budget(world)
    first = run(world, START + timedelta(days=30))
    before = world.event_count()
    again = world.app.run_payments(
        COUNCIL, START + timedelta(days=30), world.prov("council", "officer-2")
    )
    assert again["replayed"] is True
    assert again["results"] == first["results"]
    assert world.event_count() == before
    # a later run pays only what fell due since
    later = run(world, START + timedelta(days=60))
    assert line(later, budget_id)["periods_paid"] == 1
    assert world.app.budget(budget_id).cash_paid_pence == 3 * GROSS_4W


def test_periods_already_paid_by_hand_are_not_paid_again(world: World) -> None:
    budget_id = dp_budget(world)
    first = run(world, START)  # pays the first period
    assert line(first, budget_id)["periods_paid"] == 1
    outcome = run(world, START + timedelta(days=28))
    assert line(outcome, budget_id)["periods_paid"] == 1
    assert world.app.budget(budget_id).cash_paid_pence == 2 * GROSS_4W


def test_a_retry_after_a_failed_save_pays_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget_id = dp_budget(world)
    real_save = CareLedger.save
    calls = {"n": 0}

    def failing_save(self: CareLedger, *objs: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full")
        return real_save(self, *objs, **kwargs)

    monkeypatch.setattr(CareLedger, "save", failing_save)
    before = world.event_count()
    with pytest.raises(OSError):
        run(world, START + timedelta(days=28))
    assert world.event_count() == before  # nothing of the run was written
    outcome = run(world, START + timedelta(days=28))
    assert line(outcome, budget_id)["periods_paid"] == 2
    run(world, START + timedelta(days=28))
    assert world.app.budget(budget_id).cash_paid_pence == 2 * GROSS_4W


def test_suspended_and_ended_budgets_are_skipped_with_the_reason(world: World) -> None:
    suspended, ended = dp_budget(world), dp_budget(world)
    world.app.suspend_budget(suspended, START, world.prov())
    world.app.end_budget(ended, "moved-away", START, world.prov())
    outcome = run(world, START + timedelta(days=28))
    assert line(outcome, suspended)["skipped_reason"] == "budget-suspended"
    assert line(outcome, ended)["skipped_reason"] == "budget-ended"
    assert line(outcome, ended)["run_cash_paid_pence"] == 0
    assert outcome["budgets_skipped"] == 2


def test_a_run_stops_a_budget_at_the_first_refusal_and_says_why(world: World) -> None:
    budget_id = dp_budget(world)
    # the approval's one allocation covers 13 periods; the 14th starts 4 April 2011
    outcome = run(world, date(2011, 4, 10))
    mine = line(outcome, budget_id)
    assert mine["skipped_reason"] == "insufficient-funds"
    # the last period of 2010-11 is cut at 31 March, and 2011-12 starts afresh on 1 April
    assert mine["paid_through"] == "2011-03-31"
    assert mine["run_cash_paid_pence"] == world.app.budget(budget_id).cash_paid_pence


def test_net_payments_leave_the_contribution_to_the_person(world: World) -> None:
    net, gross = dp_budget(world, net=True), dp_budget(world, net=False)
    outcome = run(world, START + timedelta(days=28))
    assert line(outcome, net)["run_cash_paid_pence"] == 2 * (GROSS_4W - CONTRIBUTION_4W)
    assert line(outcome, gross)["run_cash_paid_pence"] == 2 * GROSS_4W
    for budget_id in (net, gross):
        b = world.app.budget(budget_id)
        assert b.contributions_owed_pence == 2 * CONTRIBUTION_4W
        assert b.contribution_arrears_pence == CONTRIBUTION_4W  # the first period's is overdue
        assert b.drawn_pence == 2 * GROSS_4W  # net or gross, the budget pays the whole care
    # the person pays their contribution: into the account (net) or to the council (gross)
    world.app.receive_contribution(
        net, 2 * CONTRIBUTION_4W, START + timedelta(days=30), world.prov()
    )
    world.app.receive_contribution(gross, CONTRIBUTION_4W, START + timedelta(days=30), world.prov())
    assert world.app.budget(net).held_pence == 2 * GROSS_4W
    assert world.app.budget(net).contribution_arrears_pence == 0
    assert world.app.budget(gross).contribution_arrears_pence == 0
    assert world.app.budget(gross).contributions_owed_pence == CONTRIBUTION_4W
    balance = world.trial_balance()
    assert sum(balance.values()) == 0
    assert balance[Account.CONTRIBUTIONS_OWED] == CONTRIBUTION_4W
    assert balance[Account.DP_ACCOUNTS] == sum(world.app.budget(b).held_pence for b in (net, gross))


def test_only_a_direct_payment_is_paid_net_or_gross(world: World) -> None:
    managed = world.active_budget(deployment=Deployment("council-managed"))
    before = world.event_count()
    with pytest.raises(DeploymentError):
        world.app.choose_payment_basis(managed, True, START, world.prov())
    assert world.event_count() == before
    # a council-managed budget is not paid by a run
    assert all(r["budget_id"] != managed for r in run(world, START)["results"])


def test_the_days_a_budget_was_suspended_are_not_paid_after_it_resumes(world: World) -> None:
    budget_id = dp_budget(world)
    run(world, START)  # the first period: 5 April to 2 May
    world.app.suspend_budget(budget_id, START + timedelta(days=28), world.prov())
    world.app.resume_budget(budget_id, START + timedelta(days=56), world.prov())
    outcome = run(world, START + timedelta(days=56))
    mine = line(outcome, budget_id)
    # one period, from the resumption: the four suspended weeks are not paid
    assert mine["periods_paid"] == 1
    assert mine["paid_through"] == (START + timedelta(days=83)).isoformat()
    assert world.app.budget(budget_id).cash_paid_pence == 2 * GROSS_4W


def _opened_in_log(world: World, council: str) -> list[str]:
    """The reference: every budget the council opened, in log order, from all the events."""
    return [
        str(e.originator_id)
        for e in world.events()
        if isinstance(e, PersonalBudget.Opened) and e.council == council
    ]


def test_the_run_finds_the_councils_budgets_from_its_index_as_the_log_has_them(
    world: World,
) -> None:
    # given budgets of two councils opened before and between runs
    app = world.app
    app.register_council(OTHER_COUNCIL, "Birmingham", date(2010, 4, 1), world.admin())
    first = dp_budget(world)
    app.open_budget(OTHER_COUNCIL, "person-other-1", "physical", START, world.prov())
    outcome = run(world, START + timedelta(days=1))
    assert [r["budget_id"] for r in outcome["results"]] == [first]
    # when more are opened after the index was first read
    second = dp_budget(world)
    app.open_budget(OTHER_COUNCIL, "person-other-2", "physical", START, world.prov())
    third = dp_budget(world)
    later = run(world, START + timedelta(days=29))
    # then the run reads the same budgets, in the same order, as a pass over the whole log
    assert [str(i) for i in app.council_budget_ids(COUNCIL)] == _opened_in_log(world, COUNCIL)
    assert [str(i) for i in app.council_budget_ids(OTHER_COUNCIL)] == _opened_in_log(
        world, OTHER_COUNCIL
    )
    assert [r["budget_id"] for r in later["results"]] == [first, second, third]
    assert [line(later, b)["periods_paid"] for b in (first, second, third)] == [1, 2, 2]
