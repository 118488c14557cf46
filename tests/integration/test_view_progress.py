"""Council and national progress (the 2010 Audit Commission picture, ASCOF 1a/1b/2a/2b): uptake
against the 30% target, direct payments, spend through personal budgets and pooled NHS money,
split by primary support reason, on every backend. Every figure is worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from ledger.application import CareLedger
from ledger.errors import CouncilNotFoundError
from ledger.values import Allocation, Deployment, Period
from projections.db import SqliteViewDb, ViewDb, open_view_db
from projections.runner import Runner
from projections.views.progress import (
    ProgressView,
    council_progress,
    financial_year,
    national_progress,
)
from tests.support import FOUR_WEEKS, HOME_CARE, POOL, PROVIDER, START, World, allocation

WESTMINSTER, BIRMINGHAM, HARTLEPOOL = "E09000033", "E08000025", "E06000001"
YEAR_END = date(2011, 3, 31)  # the 2010 target date: 30% by April 2011
MIXED = Deployment("mixed", None, 5_000_00)
CASH = Deployment("direct-payment")
MANAGED = Deployment("council-managed")
REASONS = ("physical", "sensory", "memory-cognition", "learning-disability", "mental-health",
           "social")  # fmt: skip


@pytest.fixture
def db(database_url: str) -> Iterator[ViewDb]:
    views = open_view_db(database_url)
    yield views
    views.close()


@dataclass
class Scenario:
    world: World
    budgets: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> CareLedger:
        return self.world.app

    def budget(
        self,
        name: str,
        council: str,
        reason: str,
        deployment: Deployment,
        approved_on: date = START,
        alloc: Allocation | None = None,
        carer: bool = False,
    ) -> str:
        w = self.world
        budget_id: str = self.app.open_budget(
            council, f"person-{name}", reason, START, w.prov(), carer_budget=carer
        )["budget_id"]
        self.app.set_indicative_budget(budget_id, 150, 180_00, "RAS-2010-v2", START, w.prov())
        self.app.agree_support_plan(budget_id, (HOME_CARE,), START, w.prov())
        self.app.approve_budget(budget_id, alloc or allocation(), approved_on, w.prov())
        self.app.choose_deployment(budget_id, deployment, approved_on, w.prov())
        self.budgets[name] = budget_id
        return budget_id

    def cash(self, name: str, pence: int, on: date) -> int:
        outcome = self.app.issue_cash_payment(
            self.budgets[name], pence, Period(on, on), on, self.world.prov()
        )
        return int(outcome["version"])

    def invoice(
        self,
        name: str,
        number: str,
        credit_pence: int = 0,
        period: Period = FOUR_WEEKS,
        approved_on: date = date(2010, 5, 4),
    ) -> None:
        """40 hours at £13 (£520) for four weeks, approved; paid and credited if asked."""
        w = self.world
        draft = w.draft(self.budgets[name], number, period=period)
        invoice_id = self.app.post_invoice(PROVIDER, draft, w.as_provider())["invoice_id"]
        self.app.approve_invoice(invoice_id, approved_on, w.prov())
        if credit_pence:
            self.app.pay_invoice(invoice_id, f"BACS-{number}", date(2010, 5, 5), w.prov())
            self.app.issue_credit_note(
                invoice_id, f"CN-{number}", credit_pence, date(2010, 5, 6), w.as_provider()
            )


def councils(s: Scenario) -> None:
    app, admin = s.app, s.world.admin
    app.register_provider(PROVIDER, "Acme Home Care Ltd", date(2009, 1, 1), admin())
    for code, name in ((WESTMINSTER, "Westminster"), (BIRMINGHAM, "Birmingham"),
                       (HARTLEPOOL, "Hartlepool")):  # fmt: skip
        app.register_council(code, name, date(2010, 4, 1), admin())
    population = app.record_eligible_population
    population(WESTMINSTER, {"physical": 100}, date(2009, 4, 1), admin())
    population(
        WESTMINSTER,
        {"physical": 4, "mental-health": 2, "learning-disability": 2},
        date(2010, 4, 1),
        admin(),
    )
    population(WESTMINSTER, {"physical": 40}, date(2011, 4, 1), admin())
    population(BIRMINGHAM, {"physical": 10}, date(2010, 4, 1), admin())
    population(HARTLEPOOL, {"physical": 3, "sensory": 2}, date(2010, 4, 1), admin())
    app.record_gross_spend(WESTMINSTER, "2010-11", 47_470_00, date(2011, 6, 30), admin())
    app.record_gross_spend(HARTLEPOOL, "2010-11", 10_000_00, date(2011, 6, 30), admin())
    app.establish_pooled_fund(WESTMINSTER, POOL, ("NHS-RV3",), date(2010, 4, 1), admin())
    app.receive_pool_contribution(
        WESTMINSTER, POOL, "NHS-RV3", 50_000_00, date(2010, 4, 1), admin()
    )
    app.receive_pool_contribution(
        WESTMINSTER, POOL, "NHS-RV3", 10_000_00, date(2011, 6, 1), admin()
    )


def build(app: CareLedger) -> Scenario:
    """Three councils in 2010-11. Westminster: 8 eligible, 3 users with a budget at the year end
    (37.5%), a carer's budget, an ended budget, a mental-health budget drawing on the pool."""
    s = Scenario(World(app))
    councils(s)
    w = s.world
    s.budget("w1", WESTMINSTER, "physical", MIXED)
    s.budget("w2", WESTMINSTER, "physical", MANAGED)
    s.budget("w3", WESTMINSTER, "mental-health", CASH, alloc=allocation(pooled=3_000_00))
    s.budget("w4", WESTMINSTER, "learning-disability", MANAGED)
    s.budget("w5", WESTMINSTER, "physical", MANAGED, approved_on=date(2011, 4, 10))
    app.open_budget(WESTMINSTER, "person-w6", "social", START, w.prov())  # never approved
    s.budget("carer", WESTMINSTER, "physical", CASH, carer=True)
    s.budget("b1", BIRMINGHAM, "physical", MANAGED, approved_on=date(2010, 6, 1))
    for name, reason, deployment in (("h1", "physical", CASH), ("h2", "physical", MIXED),
                                     ("h3", "sensory", MANAGED)):  # fmt: skip
        s.budget(name, HARTLEPOOL, reason, deployment)

    # Westminster's spend in 2010-11: w1 2,000 cash + 520 invoice - 13 credit - 100 corrected.
    version = s.cash("w1", 2_000_00, date(2010, 4, 6))
    s.invoice("w1", "INV-W1", credit_pence=13_00)
    app.correct_entry(
        f"{s.budgets['w1']}/{version}", 100_00, date(2010, 5, 10), w.prov(reason="keying-error")
    )
    s.invoice("w2", "INV-W2")
    s.cash("w3", 1_000_00, date(2010, 4, 6))
    s.cash("w3", 500_00, date(2011, 4, 6))  # paid in advance for 2011-12
    s.invoice("w4", "INV-W4")
    app.end_budget(s.budgets["w4"], "moved-away", date(2011, 1, 31), w.prov())
    s.cash("carer", 300_00, date(2010, 4, 6))
    june = Period(date(2010, 6, 1), date(2010, 6, 28))
    s.invoice(
        "b1", "INV-B1", period=june, approved_on=date(2010, 7, 1)
    )  # Birmingham states no gross spend: left out of national spend
    s.cash("h1", 1_000_00, date(2010, 9, 1))
    app.suspend_budget(s.budgets["h3"], date(2010, 10, 1), w.prov())  # suspended still counts
    return s


def project(app: CareLedger, db: ViewDb) -> None:
    Runner(app, db, [ProgressView()]).catch_up()


def ratio(name: str, bp: int | None, text: str) -> dict[str, Any]:
    """A share's two fields: ``{name}_bp`` and ``{name}_ratio``."""
    return {f"{name}_bp": bp, f"{name}_ratio": text}


def pick(figures: dict[str, Any], name: str) -> dict[str, Any]:
    """The share ``name``'s two fields of ``figures``."""
    return {k: figures[k] for k in (f"{name}_bp", f"{name}_ratio")}


UPTAKE, DP, SPENT = (
    "with_budget_share_of_eligible",
    "direct_payment_share_of_eligible",
    ("net_budget_spend_share_of_gross"),
)
POOLED = "disentangled_share_of_contributions"


# --- one council -----------------------------------------------------------------------------


def test_a_councils_uptake_at_the_year_end_counts_approved_unended_user_budgets(
    app: CareLedger, db: ViewDb
) -> None:
    build(app)
    project(app, db)

    progress = council_progress(db, WESTMINSTER, YEAR_END)

    users = progress["users"]
    assert (progress["council"], progress["name"]) == (WESTMINSTER, "Westminster")
    assert (progress["on"], progress["financial_year"]) == ("2011-03-31", "2010-11")
    assert users["eligible_people"] == 8  # the 2010 record: 4 + 2 + 2
    assert users["people_with_budget"] == 3  # w1, w2, w3; w4 ended, w5 later, w6 not approved
    assert pick(users, UPTAKE) == ratio(UPTAKE, 3750, "3/8")
    assert progress["meets_target"] is True
    assert users["people_on_direct_payment"] == 2  # w1 mixed, w3 direct payment
    assert pick(users, DP) == ratio(DP, 2500, "2/8")


def test_a_councils_figures_are_split_by_primary_support_reason(
    app: CareLedger, db: ViewDb
) -> None:
    build(app)
    project(app, db)

    by_reason = council_progress(db, WESTMINSTER, YEAR_END)["users"]["by_reason"]

    assert list(by_reason) == list(REASONS)
    physical, mental, learning = (
        by_reason["physical"],
        by_reason["mental-health"],
        by_reason["learning-disability"],
    )
    assert (physical["eligible_people"], physical["people_with_budget"]) == (4, 2)
    assert pick(physical, UPTAKE) == ratio(UPTAKE, 5000, "2/4")
    assert pick(physical, DP) == ratio(DP, 2500, "1/4")
    assert mental["people_with_budget"] == 1
    assert pick(mental, DP) == ratio(DP, 5000, "1/2")
    assert learning["people_with_budget"] == 0
    assert pick(learning, UPTAKE) == ratio(UPTAKE, 0, "0/2")
    assert pick(by_reason["sensory"], UPTAKE) == ratio(UPTAKE, None, "0/0")


def test_spend_through_budgets_is_the_years_spend_over_the_councils_gross_spend(
    app: CareLedger, db: ViewDb
) -> None:
    build(app)
    project(app, db)

    progress = council_progress(db, WESTMINSTER, YEAR_END)

    # users: w1 2,407 + w2 520 + w3 1,000 (not the 500 for 2011-12) + w4 520 = 4,447
    assert progress["users"]["net_budget_spend_pence"] == 4_447_00
    assert pick(progress["users"], SPENT) == ratio(SPENT, 936, "444700/4747000")  # 9.368%
    assert progress["carers"]["net_budget_spend_pence"] == 300_00
    assert progress["spend"] == {
        "gross_asc_spend_pence": 47_470_00,
        "net_budget_spend_pence": 4_747_00,
        **ratio(SPENT, 1000, "474700/4747000"),
    }
    by_reason = progress["users"]["by_reason"]
    assert by_reason["physical"]["net_budget_spend_pence"] == 2_927_00
    assert pick(by_reason["physical"], SPENT) == ratio(SPENT, 616, "292700/4747000")
    assert pick(by_reason["mental-health"], SPENT) == ratio(SPENT, 210, "100000/4747000")
    assert pick(by_reason["learning-disability"], SPENT) == ratio(SPENT, 109, "52000/4747000")


def test_recovered_surplus_is_not_spend_through_budgets(app: CareLedger, db: ViewDb) -> None:
    s = build(app)
    w, h1 = s.world, s.budgets["h1"]
    s.cash("h1", 3_000_00, date(2010, 9, 2))  # 4,000 held: 8 weeks of £10,000 is 1,538.40
    app.identify_surplus(h1, date(2010, 10, 1), w.prov())
    app.recover_surplus(h1, 1_000_00, date(2010, 10, 2), w.prov())
    project(app, db)

    spend = council_progress(db, HARTLEPOOL, YEAR_END)["spend"]

    assert spend["net_budget_spend_pence"] == 1_000_00 + 3_000_00 - 1_000_00
    assert pick(spend, SPENT) == ratio(SPENT, 3000, "300000/1000000")


def test_carers_budgets_are_counted_apart_from_users(app: CareLedger, db: ViewDb) -> None:
    build(app)
    project(app, db)

    carers = council_progress(db, WESTMINSTER, YEAR_END)["carers"]

    carers_dp = "direct_payment_share_of_with_budget"
    assert (carers["people_with_budget"], carers["people_on_direct_payment"]) == (1, 1)
    assert pick(carers, carers_dp) == ratio(carers_dp, 10_000, "1/1")
    assert carers["by_reason"]["physical"]["people_with_budget"] == 1
    assert pick(carers, SPENT) == ratio(SPENT, 63, "30000/4747000")


def test_pooled_money_is_disentangled_by_what_budgets_drew_by_the_date(
    app: CareLedger, db: ViewDb
) -> None:
    build(app)
    project(app, db)

    pools = council_progress(db, WESTMINSTER, YEAR_END)["pooled_funds"]
    later = council_progress(db, WESTMINSTER, date(2011, 6, 30))["pooled_funds"]

    assert pools == {
        "partner_contributions_pence": 50_000_00,  # the June 2011 contribution is not yet in
        "net_disentangled_pence": 3_000_00,  # w3's pooled share, drawn on approval
        **ratio(POOLED, 600, "300000/5000000"),
        "fund_count": 1,
        "funds": [
            {
                "council": WESTMINSTER,
                "fund_ref": POOL,
                "partner_contributions_pence": 50_000_00,
                "net_disentangled_pence": 3_000_00,
                **ratio(POOLED, 600, "300000/5000000"),
            }
        ],
    }
    assert later["partner_contributions_pence"] == 60_000_00
    assert pick(later, POOLED) == ratio(POOLED, 500, "300000/6000000")


def test_an_ended_budget_counts_until_its_end_date(app: CareLedger, db: ViewDb) -> None:
    build(app)
    project(app, db)

    before_end = council_progress(db, WESTMINSTER, date(2011, 1, 30))["users"]
    on_end = council_progress(db, WESTMINSTER, date(2011, 1, 31))["users"]

    assert before_end["people_with_budget"] == 4
    assert pick(before_end, UPTAKE) == ratio(UPTAKE, 5000, "4/8")
    assert on_end["people_with_budget"] == 3
    assert pick(on_end, UPTAKE) == ratio(UPTAKE, 3750, "3/8")


def test_the_latest_population_on_or_before_the_date_is_the_denominator(
    app: CareLedger, db: ViewDb
) -> None:
    build(app)
    project(app, db)

    early = council_progress(db, WESTMINSTER, date(2010, 3, 31))
    next_year = council_progress(db, WESTMINSTER, date(2011, 4, 30))

    assert (early["users"]["eligible_people"], early["users"]["people_with_budget"]) == (100, 0)
    assert early["financial_year"] == "2009-10"
    users = next_year["users"]
    assert (users["eligible_people"], users["people_with_budget"]) == (40, 4)  # w5: 10 April
    assert pick(users, UPTAKE) == ratio(UPTAKE, 1000, "4/40")
    assert next_year["meets_target"] is False
    assert pick(users["by_reason"]["mental-health"], UPTAKE) == ratio(UPTAKE, None, "1/0")
    assert next_year["spend"] == {
        "gross_asc_spend_pence": None,  # 2011-12 not yet stated
        "net_budget_spend_pence": 500_00,
        **ratio(SPENT, None, "50000/0"),
    }


def test_a_council_below_target_and_without_gross_spend(app: CareLedger, db: ViewDb) -> None:
    build(app)
    project(app, db)

    progress = council_progress(db, BIRMINGHAM, YEAR_END)

    assert pick(progress["users"], UPTAKE) == ratio(UPTAKE, 1000, "1/10")
    assert progress["meets_target"] is False
    assert progress["spend"]["gross_asc_spend_pence"] is None
    assert pick(progress["pooled_funds"], POOLED) == ratio(POOLED, None, "0/0")


def test_an_unknown_council_is_not_found(app: CareLedger, db: ViewDb) -> None:
    build(app)
    project(app, db)

    with pytest.raises(CouncilNotFoundError):
        council_progress(db, "E99999999", YEAR_END)


# --- national ---------------------------------------------------------------------------------


def test_national_progress_totals_the_councils_and_counts_those_at_the_target(
    app: CareLedger, db: ViewDb
) -> None:
    build(app)
    project(app, db)

    nation = national_progress(db, YEAR_END)

    assert (nation["councils"], nation["councils_with_population"]) == (3, 3)
    assert nation["councils_meeting_target"] == 2  # Westminster 37.5%, Hartlepool 60%
    assert nation["uptake_min"] == {"council": BIRMINGHAM, **ratio(UPTAKE, 1000, "1/10")}
    assert nation["uptake_max"] == {"council": HARTLEPOOL, **ratio(UPTAKE, 6000, "3/5")}
    users = nation["users"]
    assert (users["eligible_people"], users["people_with_budget"]) == (23, 7)
    assert pick(users, UPTAKE) == ratio(UPTAKE, 3043, "7/23")
    assert nation["meets_target"] is True
    assert pick(users, DP) == ratio(DP, 1739, "4/23")
    assert pick(users["by_reason"]["sensory"], UPTAKE) == ratio(UPTAKE, 5000, "1/2")
    assert nation["carers"]["people_with_budget"] == 1


def test_national_spend_counts_only_councils_that_stated_gross_spend(
    app: CareLedger, db: ViewDb
) -> None:
    build(app)
    project(app, db)

    nation = national_progress(db, YEAR_END)

    assert nation["councils_reporting_spend"] == 2
    assert nation["spend"] == {
        "gross_asc_spend_pence": 57_470_00,  # Westminster 47,470 + Hartlepool 10,000
        "net_budget_spend_pence": 5_747_00,  # 4,747 + 1,000; Birmingham's 520 left out
        **ratio(SPENT, 1000, "574700/5747000"),
    }
    assert nation["users"]["net_budget_spend_pence"] == 5_447_00
    assert nation["pooled_funds"]["partner_contributions_pence"] == 50_000_00
    assert "funds" not in nation["pooled_funds"]


def test_national_progress_with_no_councils_is_empty(app: CareLedger, db: ViewDb) -> None:
    project(app, db)

    nation = national_progress(db, YEAR_END)

    assert (nation["councils"], nation["councils_meeting_target"]) == (0, 0)
    assert (nation["uptake_min"], nation["uptake_max"]) == (None, None)
    assert pick(nation["users"], UPTAKE) == ratio(UPTAKE, None, "0/0")


# --- the stored rows, rebuilds and paging ----------------------------------------------------


def test_budget_status_rows_hold_what_the_events_say(app: CareLedger, db: ViewDb) -> None:
    s = build(app)
    project(app, db)

    rows = {
        r["budget_id"]: r
        for r in db.query("SELECT * FROM v_budget_status WHERE council = ?", (WESTMINSTER,))
    }

    w1, w4 = rows[s.budgets["w1"]], rows[s.budgets["w4"]]
    assert (w1["status"], w1["deployment"], w1["approved_on"], w1["ended_on"]) == (
        "active",
        "mixed",
        "2010-04-05",
        None,
    )
    assert (w1["allocated_pence"], w1["net_budget_spend_pence"], w1["carer_budget"]) == (
        10_000_00,
        2_407_00,
        0,
    )
    assert (w4["status"], w4["ended_on"], w4["net_budget_spend_pence"]) == (
        "ended",
        "2011-01-31",
        520_00,
    )
    assert rows[s.budgets["carer"]]["carer_budget"] == 1
    assert len(rows) == 7  # w1..w6 and the carer


def test_a_policy_change_and_a_restated_population_replace_the_earlier_rows(
    app: CareLedger, db: ViewDb
) -> None:
    s = build(app)
    admin = s.world.admin
    app.change_council_policy(BIRMINGHAM, 4, 250, date(2011, 1, 1), admin())
    app.record_eligible_population(BIRMINGHAM, {"sensory": 7}, date(2010, 4, 1), admin())
    app.record_gross_spend(HARTLEPOOL, "2010-11", 20_000_00, date(2011, 9, 30), admin())
    project(app, db)

    council = db.query("SELECT * FROM v_councils WHERE code = ?", (BIRMINGHAM,))[0]
    progress = council_progress(db, BIRMINGHAM, YEAR_END)

    assert (council["surplus_weeks"], council["invoice_tolerance_bp"]) == (4, 250)
    assert progress["users"]["eligible_people"] == 7
    assert pick(progress["users"]["by_reason"]["physical"], UPTAKE) == ratio(UPTAKE, None, "1/0")
    spend = council_progress(db, HARTLEPOOL, YEAR_END)["spend"]
    assert pick(spend, SPENT) == ratio(SPENT, 500, "100000/2000000")


def table_rows(db: ViewDb) -> dict[str, list[tuple[str, ...]]]:
    return {
        table: sorted(
            tuple("" if v is None else str(v) for v in r.values())
            for r in db.query(f"SELECT * FROM {table}")
        )
        for table in ProgressView.tables
    }


def test_a_rebuilt_view_equals_the_live_one_row_for_row(app: CareLedger, db: ViewDb) -> None:
    build(app)
    runner = Runner(app, db, [ProgressView()])
    runner.catch_up()
    live = table_rows(db)

    runner.rebuild(["progress"])

    assert table_rows(db) == live
    assert len(live["v_budget_spend"]) == 8  # w3 spends in two years


def test_one_event_per_page_builds_the_same_view_as_large_pages(
    app: CareLedger, db: ViewDb
) -> None:
    build(app)
    project(app, db)
    scratch = SqliteViewDb(":memory:")

    Runner(app, scratch, [ProgressView()], page_size=1).catch_up()

    assert table_rows(scratch) == table_rows(db)
    scratch.close()


def test_a_view_caught_up_in_steps_equals_one_built_at_the_end(app: CareLedger, db: ViewDb) -> None:
    s = Scenario(World(app))
    councils(s)
    runner = Runner(app, db, [ProgressView()])
    runner.catch_up()
    s.budget("w1", WESTMINSTER, "physical", MIXED)
    runner.catch_up()
    s.cash("w1", 2_000_00, date(2010, 4, 6))
    s.invoice("w1", "INV-W1", credit_pence=13_00)
    runner.catch_up()
    scratch = SqliteViewDb(":memory:")

    Runner(app, scratch, [ProgressView()]).catch_up()

    assert table_rows(scratch) == table_rows(db)
    assert (
        council_progress(db, WESTMINSTER, YEAR_END)["users"]["net_budget_spend_pence"] == 2_507_00
    )
    scratch.close()


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2010, 4, 1), "2010-11"),
        (date(2011, 3, 31), "2010-11"),
        (date(2011, 4, 1), "2011-12"),
        (date(2000, 1, 1), "1999-00"),
        (date(1999, 6, 1), "1999-00"),
    ],
)
def test_the_financial_year_runs_from_april_to_march(day: date, year: str) -> None:
    assert financial_year(day) == year


def test_allocations_follow_the_budget_years_each_in_the_year_it_applies_to(
    app: CareLedger, db: ViewDb
) -> None:
    # given a budget approved on 5 April 2010 at £10,000, revised to £12,000 in its approval year
    s = Scenario(World(app))
    councils(s)
    budget_id = s.budget("w1", WESTMINSTER, "physical", CASH)
    w = s.world
    app.revise_budget(budget_id, allocation(total=12_000_00), date(2010, 9, 1), w.prov())
    runner = Runner(app, db, [ProgressView()])
    runner.catch_up()
    # when 2011-12 is rolled over (live from the anniversary: 362 of its 366 days), caught up
    # apart, then re-assessed at £14,640 a year from 1 May 2011 (a revision of the latest year)
    fy11 = date(2011, 4, 1)
    app.allocate_year(budget_id, fy11, "rolled-over", fy11, w.prov())
    runner.catch_up()
    app.revise_budget(budget_id, allocation(total=14_640_00), date(2011, 5, 1), w.prov())
    runner.catch_up()

    # then each year holds its own allocation: the approval year as revised, 2011-12 pro-rated
    rows = db.query("SELECT * FROM v_budget_allocation WHERE budget_id = ?", (budget_id,))
    by_year = {r["financial_year"]: int(r["allocated_pence"]) for r in rows}
    assert by_year == {"2010-11": 12_000_00, "2011-12": 14_640_00 * 362 // 366}
    assert by_year["2011-12"] == 14_480_00
    # and the budget's allocation is every year's added up, as its balance and the ledger say
    (status,) = db.query("SELECT * FROM v_budget_status WHERE budget_id = ?", (budget_id,))
    assert int(status["allocated_pence"]) == 12_000_00 + 14_480_00
    assert sum(y.allocated_pence for y in app.budget(budget_id).budget_years()) == 26_480_00
    # and a view built in one go holds the same rows
    scratch = SqliteViewDb(":memory:")
    Runner(app, scratch, [ProgressView()]).catch_up()
    assert table_rows(scratch) == table_rows(db)
    scratch.close()
