"""Budget balances: the fold agrees with the aggregate, the view with the fold, on every backend;
as-at and effective-on replays count what was known then, for the business date asked."""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.errors import BudgetNotFoundError, LedgerError
from ledger.values import Deployment, Period
from projections.balance import balance_of
from projections.db import ViewDb, open_view_db
from projections.runner import Runner
from projections.views.audit import AuditView
from projections.views.balances import BalancesView, get_balance, list_balances
from tests.integration.test_backends import run_scenario
from tests.support import COUNCIL, FOUR_WEEKS, PROVIDER, START, World, allocation

MIXED = Deployment("mixed", None, 5_000_00)


@pytest.fixture
def db(database_url: str) -> Iterator[ViewDb]:
    views = open_view_db(database_url)
    yield views
    views.close()


def all_rows(db: ViewDb) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM v_budget_balances ORDER BY budget_id")


# --- hand-computed figures ---------------------------------------------------------------------


def test_the_view_gives_the_hand_computed_balance_of_the_backends_scenario(
    world: World, db: ViewDb
) -> None:
    scenario = run_scenario(world)

    Runner(world.app, db, [BalancesView()]).catch_up()

    assert get_balance(db, scenario["budget_id"]) == {
        "budget_id": scenario["budget_id"],
        "council": COUNCIL,
        "support_reason": "physical",
        "status": "ended",
        "version": 17,
        "deployment": "mixed",
        "direct_payment_annual_pence": 5_000_00,
        "allocated_pence": 10_000_00,
        "contingency_pence": 500_00,
        "cash_paid_pence": 2_000_00,
        "cash_reversed_pence": 0,
        "direct_payment_spend_pence": 300_00,
        "direct_payment_spend_reversed_pence": 0,
        "invoices_awaiting_approval_pence": 0,
        "invoices_approved_pence": 520_00,  # 40 hours at £13
        "invoices_approved_reversed_pence": 0,
        "invoices_paid_pence": 520_00,
        "invoices_paid_reversed_pence": 0,
        "credit_notes_pence": 13_00,
        "credit_notes_reversed_pence": 0,
        "contribution_weekly_assessed_pence": None,
        "contributions_received_pence": 151_00,  # 150 + 1, gross of the 1 corrected
        "contributions_reversed_pence": 1_00,
        "surplus_identified_pence": 0,
        "surplus_identified_reversed_pence": 0,
        "surplus_outstanding_pence": 0,
        "surplus_recovered_pence": 0,
        "surplus_recovered_reversed_pence": 0,
        "surplus_refunded_pence": 0,
        "surplus_refunded_reversed_pence": 0,
        "balance_recovered_pence": 0,
        "balance_recovered_reversed_pence": 0,
        "balance_refunded_pence": 0,
        "balance_refunded_reversed_pence": 0,
        "net_drawn_pence": 2_000_00 + 520_00 - 13_00,
        "available_pence": 10_000_00 - 2_507_00,
        "held_pence": 2_000_00 - 300_00,
        "approved_on": "2010-04-05",
        "ended_on": "2010-06-01",
        "last_review_on": None,
        "weekly_funding_pence": 5_000_00 // 52,  # 9,615p
        "weeks_of_funding_held_x100": 1_700_00 * 100 // 9_615,  # 17.68 weeks
        "open_invoices": {},
        # no year events, no payment basis: one year from the approval, contributions not owed
        "allocation_annual_pence": 10_000_00,
        "payment_basis": None,
        "contributions_charged_pence": 0,
        "contributions_charged_reversed_pence": 0,
        "contributions_charged_net_pence": 0,
        "contributions_charged_net_reversed_pence": 0,
        "contribution_charge_latest_pence": 0,
        "contributions_paid_pence": 0,
        "contributions_paid_reversed_pence": 0,
        "contributions_paid_into_account_pence": 0,
        "contributions_paid_into_account_reversed_pence": 0,
        "contributions_owed_pence": 0,
        "contribution_arrears_pence": 0,
    }


def test_an_invoice_awaiting_approval_is_received_not_drawn_and_a_surplus_is_recovered(
    world: World, db: ViewDb
) -> None:
    app = world.app
    budget_id = world.active_budget(deployment=Deployment("direct-payment"))
    app.issue_cash_payment(budget_id, 3_000_00, FOUR_WEEKS, date(2010, 4, 6), world.prov())
    app.assess_contribution(budget_id, 10_00, date(2010, 4, 6), world.prov())
    app.receive_contribution(budget_id, 200_00, date(2010, 4, 7), world.prov())
    app.review_budget(budget_id, date(2010, 5, 1), world.prov())
    # 8 weeks of £10,000 a year (19,230p a week) is 153,840p: 300,000 - 153,840 is surplus.
    app.identify_surplus(budget_id, date(2010, 5, 3), world.prov())
    # Due by 4 May (4 whole weeks at £10): 4,000p; 20,000 - 4,000 = 16,000p is refunded first.
    app.recover_surplus(budget_id, 100_000, date(2010, 5, 4), world.prov())
    app.post_invoice(PROVIDER, world.draft(budget_id, "INV-9"), world.as_provider())

    Runner(app, db, [BalancesView()]).catch_up()
    row = get_balance(db, budget_id)

    assert row is not None
    assert {k: row[k] for k in FIGURES} == {
        "cash_paid_pence": 3_000_00,
        "invoices_awaiting_approval_pence": 520_00,
        "invoices_approved_pence": 0,
        "net_drawn_pence": 3_000_00 - 100_000,  # the recovery returns 100,000 to the council
        "available_pence": 7_000_00,  # ... not to the budget
        "surplus_identified_pence": 3_000_00 - 153_840,
        "surplus_outstanding_pence": 3_000_00 - 153_840 - 100_000,
        "surplus_refunded_pence": 16_000,
        "surplus_recovered_pence": 84_000,
        "held_pence": 2_000_00,
        "contribution_weekly_assessed_pence": 10_00,
        "last_review_on": "2010-05-01",
        "weekly_funding_pence": 19_230,
        "weeks_of_funding_held_x100": 2_000_00 * 100 // 19_230,
    }
    assert list(row["open_invoices"].values()) == [520_00]


FIGURES = (
    "cash_paid_pence", "invoices_awaiting_approval_pence", "invoices_approved_pence",
    "net_drawn_pence", "available_pence", "surplus_identified_pence", "surplus_outstanding_pence",
    "surplus_refunded_pence", "surplus_recovered_pence", "held_pence",
    "contribution_weekly_assessed_pence", "last_review_on", "weekly_funding_pence",
    "weeks_of_funding_held_x100",
)  # fmt: skip


def test_balances_list_by_council_in_pages(world: World, db: ViewDb) -> None:
    budgets = sorted(world.active_budget() for _ in range(3))
    Runner(world.app, db, [BalancesView()]).catch_up()

    first = list_balances(db, council=COUNCIL, limit=2)
    second = list_balances(db, council=COUNCIL, limit=2, after_budget_id=first[-1]["budget_id"])

    assert [r["budget_id"] for r in first + second] == budgets
    assert list_balances(db, council="E08000025") == []
    assert get_balance(db, "no-such-budget") is None


# --- incrementality and rebuild ----------------------------------------------------------------


def test_page_size_one_and_five_hundred_give_identical_rows(world: World, db: ViewDb) -> None:
    run_scenario(world)
    world.active_budget()
    Runner(world.app, db, [BalancesView()], page_size=1).catch_up()
    one_by_one = all_rows(db)

    Runner(world.app, db, [BalancesView()], page_size=500).rebuild(["balances"])

    assert all_rows(db) == one_by_one
    assert len(one_by_one) == 2


def test_a_rebuild_equals_the_view_kept_live_command_by_command(world: World, db: ViewDb) -> None:
    runner = Runner(world.app, db, [BalancesView()], page_size=3)
    live = random_history(world, random.Random(7), steps=40, after_each=runner.catch_up)
    runner.catch_up()
    before = all_rows(db)

    runner.rebuild(["balances"])

    assert all_rows(db) == before
    assert len(before) == len(live)


# --- the fold against the aggregate ------------------------------------------------------------


def reversed_by_type(budget: PersonalBudget) -> dict[str, int]:
    """Pence reversed by corrections, by the type of entry corrected."""
    reversed_: dict[str, int] = {}
    for version, pence in budget.corrected.items():
        entry_type = budget.entries[version][0]
        reversed_[entry_type] = reversed_.get(entry_type, 0) + pence
    return reversed_


def aggregate_figures(app: CareLedger, budget: PersonalBudget) -> dict[str, Any]:
    """The aggregate's own figures (and its invoices'), under the balance's names: the
    aggregate keeps its figures net of corrections, the balance gross beside each reversal."""
    invoices = [app.invoice(i) for i in budget.invoices]
    pays_cash = budget.deployment is not None and budget.deployment.pays_cash
    reversed_ = reversed_by_type(budget)
    cash_reversed = reversed_.get("CashPaymentIssued", 0)
    spend_reversed = reversed_.get("DirectPaymentSpendReported", 0)
    contributions_reversed = reversed_.get("ContributionReceived", 0)
    returned = budget.recovered_pence + budget.refunded_pence
    return {
        "status": budget.status.value,
        "version": budget.version,
        "allocated_pence": budget.allocation.total_pence,
        "contingency_pence": budget.allocation.contingency_pence,
        "cash_paid_pence": budget.cash_paid_pence + cash_reversed,
        "cash_reversed_pence": cash_reversed,
        "direct_payment_spend_pence": budget.dp_spend_pence + spend_reversed,
        "direct_payment_spend_reversed_pence": spend_reversed,
        "invoices_awaiting_approval_pence": budget.outstanding_invoices_pence,
        "invoices_approved_pence": sum(i.approved_pence for i in invoices),
        "invoices_paid_pence": sum(i.paid_pence for i in invoices),
        "credit_notes_pence": sum(i.credited_pence for i in invoices),
        "contribution_weekly_assessed_pence": budget.contribution_weekly_pence,
        "contributions_received_pence": budget.contributions_received_pence
        + contributions_reversed,
        "contributions_reversed_pence": contributions_reversed,
        "surplus_outstanding_pence": budget.surplus_outstanding_pence,
        "surplus_recovered_pence": budget.recovered_pence,
        "surplus_refunded_pence": budget.refunded_pence,
        "net_drawn_pence": budget.drawn_pence - returned,
        "available_pence": budget.available_pence,
        "held_pence": budget.held_pence,
        "approved_on": budget.approved_on and budget.approved_on.isoformat(),
        "ended_on": budget.ended_on and budget.ended_on.isoformat(),
        "last_review_on": budget.last_review_on and budget.last_review_on.isoformat(),
        "weekly_funding_pence": (
            budget.weekly_direct_payment_pence if pays_cash else budget.allocation.total_pence // 52
        ),
    }


MONEY_EVENTS = {
    "CashPaymentIssued", "DirectPaymentSpendReported", "ContributionReceived", "Corrected",
    "SurplusIdentified", "InvoiceCharged", "InvoiceSettled", "InvoiceCredited", "Revised",
    "Suspended",
}  # fmt: skip


@pytest.mark.parametrize("seed", [2, 3, 7])
def test_the_fold_agrees_with_the_aggregate_and_the_view_with_the_fold(
    world: World, db: ViewDb, seed: int
) -> None:
    app = world.app
    runner = Runner(app, db, [BalancesView()], page_size=5)
    budgets = random_history(world, random.Random(seed), steps=100)
    runner.catch_up()

    for budget_id in budgets:
        balance = balance_of(app, budget_id)
        figures = aggregate_figures(app, app.budget(budget_id))
        assert {k: getattr(balance, k) for k in figures} == figures
        assert get_balance(db, budget_id) == dataclasses.asdict(balance)
    types = {type(e).__name__ for e in world.events()}
    assert types >= MONEY_EVENTS  # the seeds were chosen so that every kind of entry is there


# --- as at a position, effective on a date -----------------------------------------------------


def test_a_back_dated_payment_counts_for_its_date_only_once_it_was_recorded(
    world: World, db: ViewDb
) -> None:
    app = world.app
    runner = Runner(app, db, [AuditView()])
    opened_at = world.event_count() + 1
    budget_id = world.active_budget(deployment=MIXED)
    march = Period(date(2011, 3, 1), date(2011, 3, 28))
    app.issue_cash_payment(budget_id, 1_000_00, march, date(2011, 3, 1), world.prov())
    reported_at = world.event_count()  # the March report was run here
    app.issue_cash_payment(budget_id, 200_00, march, date(2011, 3, 30), world.prov())  # late
    app.issue_cash_payment(budget_id, 300_00, march, date(2011, 4, 5), world.prov())
    app.revise_budget(budget_id, allocation(total=12_000_00), date(2011, 4, 10), world.prov())
    runner.catch_up()
    end_of_march = date(2011, 3, 31)

    as_reported = balance_of(
        app, budget_id, stop_position=reported_at, effective_on=end_of_march, db=db
    )
    as_known_now = balance_of(app, budget_id, effective_on=end_of_march)
    today = balance_of(app, budget_id)

    assert (as_reported.cash_paid_pence, as_reported.available_pence) == (1_000_00, 9_000_00)
    assert (as_known_now.cash_paid_pence, as_known_now.available_pence) == (1_200_00, 8_800_00)
    assert (today.cash_paid_pence, today.available_pence) == (1_500_00, 12_000_00 - 1_500_00)
    assert as_known_now.held_pence == 1_200_00
    assert as_known_now.weekly_funding_pence == 5_000_00 // 52
    with pytest.raises(BudgetNotFoundError):
        balance_of(app, budget_id, stop_position=opened_at - 1, db=db)
    assert balance_of(app, budget_id, stop_position=opened_at, db=db).status == "opened"


def test_an_approval_effective_after_the_date_does_not_count(world: World) -> None:
    budget_id = world.active_budget(deployment=MIXED)  # approved and deployed on 5 April 2010

    before = balance_of(world.app, budget_id, effective_on=START - timedelta(days=1))

    assert (before.allocated_pence, before.approved_on, before.status) == (0, None, "opened")
    assert before.deployment == "mixed"  # structural: counts once recorded


def test_as_at_needs_the_views_database_and_an_audit_view_that_has_caught_up(
    world: World, db: ViewDb
) -> None:
    budget_id = world.active_budget()
    Runner(world.app, db, [AuditView()]).setup()

    with pytest.raises(ValueError, match="db"):
        balance_of(world.app, budget_id, stop_position=1)
    with pytest.raises(LookupError, match="audit view"):
        balance_of(world.app, budget_id, stop_position=world.event_count(), db=db)
    with pytest.raises(BudgetNotFoundError):
        balance_of(world.app, "not-a-uuid")


# --- a random-ish history ----------------------------------------------------------------------

Step = Callable[[World, random.Random, str, date, list[str]], object]
REASON = "checked"


def _post(w: World, rng: random.Random, b: str, day: date, invoices: list[str]) -> object:
    start = START + timedelta(weeks=4 * rng.randint(0, 6))
    period = Period(start, start + timedelta(days=27))
    draft = w.draft(b, f"INV-{next(w.counter)}", rng.choice([2000, 4000, 6000]), period)
    outcome = w.app.post_invoice(PROVIDER, draft, w.as_provider())
    invoices.append(outcome["invoice_id"])
    return outcome


def _invoice(rng: random.Random, invoices: list[str]) -> str:
    if not invoices:
        raise LedgerError("no invoice yet")
    return rng.choice(invoices)


def _correct(w: World, rng: random.Random, b: str, day: date, _: list[str]) -> object:
    entries = sorted(w.app.budget(b).entries) or [1]
    entry = f"{b}/{rng.choice(entries)}"
    return w.app.correct_entry(entry, rng.randint(1, 300_00), day, w.prov(reason=REASON))


def _cash(w: World, r: random.Random, b: str, d: date, _: list[str]) -> object:
    return w.app.issue_cash_payment(b, r.randint(1, 1_500_00), FOUR_WEEKS, d, w.prov())


def _spend(w: World, r: random.Random, b: str, d: date, _: list[str]) -> object:
    return w.app.report_direct_payment_spend(b, r.randint(1, 500_00), FOUR_WEEKS, d, w.prov())


def _surplus(w: World, r: random.Random, b: str, d: date, _: list[str]) -> object:
    outstanding = w.app.budget(b).surplus_outstanding_pence
    if outstanding and r.random() < 0.7:
        return w.app.recover_surplus(b, r.randint(1, outstanding), d, w.prov())
    return w.app.identify_surplus(b, d, w.prov())


def _credit(w: World, r: random.Random, b: str, d: date, i: list[str]) -> object:
    number = f"CN-{next(w.counter)}"
    return w.app.issue_credit_note(_invoice(r, i), number, r.randint(1, 100_00), d, w.as_provider())


def _revise(w: World, r: random.Random, b: str, d: date, _: list[str]) -> object:
    return w.app.revise_budget(b, allocation(total=r.choice([8_000_00, 12_000_00])), d, w.prov())


# Each step with its weight: money moves often, status changes now and then.
STEPS: tuple[tuple[Step, int], ...] = (
    (_cash, 5),
    (_spend, 3),
    (lambda w, r, b, d, _: w.app.assess_contribution(b, r.randint(0, 50_00), d, w.prov()), 1),
    (lambda w, r, b, d, _: w.app.receive_contribution(b, r.randint(1, 300_00), d, w.prov()), 2),
    (_surplus, 3),
    (_correct, 2),
    (_post, 4),
    (lambda w, r, b, d, i: w.app.approve_invoice(_invoice(r, i), d, w.prov(reason=REASON)), 4),
    (lambda w, r, b, d, i: w.app.dispute_invoice(_invoice(r, i), d, w.prov(reason=REASON)), 1),
    (lambda w, r, b, d, i: w.app.reject_invoice(_invoice(r, i), d, w.prov(reason=REASON)), 1),
    (lambda w, r, b, d, i: w.app.pay_invoice(_invoice(r, i), f"BACS-{d}", d, w.prov()), 3),
    (_credit, 2),
    (lambda w, r, b, d, _: w.app.suspend_budget(b, d, w.prov()), 1),
    (lambda w, r, b, d, _: w.app.resume_budget(b, d, w.prov()), 2),
    (lambda w, r, b, d, _: w.app.review_budget(b, d, w.prov()), 1),
    (_revise, 1),
)
DEPLOYMENTS = (MIXED, Deployment("direct-payment"), Deployment("council-managed"), MIXED)


def random_history(
    world: World,
    rng: random.Random,
    steps: int,
    after_each: Callable[[], object] | None = None,
) -> list[str]:
    """Budgets with a seeded random run of commands; refused commands simply write nothing."""
    budgets = [world.active_budget(deployment=d) for d in DEPLOYMENTS]
    invoices: list[str] = []
    day = date(2010, 4, 6)
    for _ in range(steps):
        day += timedelta(days=rng.randint(0, 4))
        [step] = rng.choices([s for s, _ in STEPS], weights=[w for _, w in STEPS])
        with contextlib.suppress(LedgerError):
            step(world, rng, rng.choice(budgets), day, invoices)
        if after_each is not None:
            after_each()
    world.app.end_budget(budgets[-1], "moved-away", day, world.prov())
    return budgets
