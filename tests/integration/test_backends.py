"""The same scenario on memory, SQLite and PostgreSQL: same balances, survives a restart."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ledger.application import CareLedger
from ledger.errors import (
    BudgetEndedError,
    DuplicateInvoiceError,
    IdempotencyConflictError,
    InsufficientFundsError,
    RepresentativeNotAppointedError,
)
from ledger.provenance import Provenance
from tests.support import FOUR_WEEKS, PROVIDER, World, allocation, count_events

EXPECTED_TRIAL_BALANCE = {
    "Funding:CouncilFund": -6_000_00,
    "Funding:PooledFund": -3_000_00,
    "Funding:ClientContribution": -1_000_00,
    "Budgets:Available": 10_000_00 - 2_000_00 - 520_00 + 13_00,
    "Budgets:Drawn": 2_000_00 + 520_00 - 13_00,
    "Assets:Bank": -2_000_00 - 520_00 + 13_00 + 150_00,
    "Assets:DirectPaymentAccounts": 2_000_00 - 300_00,
    "Liabilities:ProviderPayable": 0,
    "Expenses:DirectPaymentSpend": 300_00,
    "Expenses:CommissionedCare": 520_00 - 13_00,
    "Income:ClientContributions": -150_00,
    "Pool:Held": 50_000_00 - 3_000_00,
    "Pool:PartnerContributions": -50_000_00,
    "Pool:Disentangled": 3_000_00,
}


def run_scenario(world: World) -> dict[str, Any]:
    """Approve, pay cash, take spend and contributions, post/approve/pay/credit an invoice, and
    try each refused command of issue 2's check: all refused with nothing written."""
    app = world.app
    budget_id = world.active_budget(allocation(pooled=3_000_00))
    app.appoint_representative(budget_id, "rep-1", "carer", "none", date(2010, 4, 6), world.prov())
    app.issue_cash_payment(budget_id, 2_000_00, FOUR_WEEKS, date(2010, 4, 6), world.prov())
    app.report_direct_payment_spend(budget_id, 300_00, FOUR_WEEKS, date(2010, 5, 3), world.prov())
    app.receive_contribution(budget_id, 150_00, date(2010, 5, 3), world.prov())
    invoice = app.post_invoice(PROVIDER, world.draft(budget_id, "INV-1"), world.as_provider())
    app.approve_invoice(invoice["invoice_id"], date(2010, 5, 4), world.prov())
    app.pay_invoice(invoice["invoice_id"], "BACS-0001", date(2010, 5, 5), world.prov())
    app.issue_credit_note(
        invoice["invoice_id"], "CN-1", 13_00, date(2010, 5, 6), world.as_provider()
    )
    app.revoke_representative(budget_id, "rep-1", date(2010, 5, 7), world.prov())

    before = world.event_count()
    repeated = Provenance("officer-1", "council", "same-key")
    app.receive_contribution(budget_id, 1_00, date(2010, 5, 8), repeated)
    count_after_first = world.event_count()
    refusals = [
        (
            DuplicateInvoiceError,
            lambda: app.post_invoice(
                PROVIDER, world.draft(budget_id, "INV-1"), world.as_provider()
            ),
        ),
        (
            InsufficientFundsError,
            lambda: app.issue_cash_payment(
                budget_id, 9_000_00, FOUR_WEEKS, date(2010, 5, 8), world.prov()
            ),
        ),
        (
            RepresentativeNotAppointedError,
            lambda: app.record_decision(
                budget_id,
                "rep-1",
                "choose-provider",
                PROVIDER,
                date(2010, 5, 8),
                world.prov("representative", "rep-1"),
            ),
        ),
        (
            IdempotencyConflictError,
            lambda: app.receive_contribution(budget_id, 2_00, date(2010, 5, 8), repeated),
        ),
    ]
    for error, command in refusals:
        with pytest.raises(error):
            command()
    assert app.receive_contribution(budget_id, 1_00, date(2010, 5, 8), repeated)["replayed"] is True
    assert (
        world.event_count() == count_after_first == before + 2
    )  # contribution + its command record

    app.correct_entry(
        f"{budget_id}/{app.budget(budget_id).version}",
        1_00,
        date(2010, 5, 9),
        world.prov(reason="duplicate-receipt"),
    )
    app.end_budget(budget_id, "moved-away", date(2010, 6, 1), world.prov())
    with pytest.raises(BudgetEndedError):
        app.issue_cash_payment(budget_id, 1_00, FOUR_WEEKS, date(2010, 6, 2), world.prov())
    return {
        "budget_id": budget_id,
        "invoice_id": invoice["invoice_id"],
        "events": world.event_count(),
    }


def figures(app: CareLedger, budget_id: str) -> dict[str, int | str]:
    b = app.budget(budget_id)
    return {
        "status": b.status.value,
        "available": b.available_pence,
        "drawn": b.drawn_pence,
        "held": b.held_pence,
        "contributions": b.contributions_received_pence,
        "version": b.version,
    }


def test_the_scenario_gives_the_hand_computed_balances_on_every_backend(database_url: str) -> None:
    app = CareLedger(database_url)
    world = World(app).setup(pool_pence=50_000_00)

    result = run_scenario(world)

    assert world.trial_balance() == EXPECTED_TRIAL_BALANCE
    assert figures(app, result["budget_id"]) == {
        "status": "ended",
        "available": 10_000_00 - 2_000_00 - 520_00 + 13_00,
        "drawn": 2_000_00 + 520_00 - 13_00,
        "held": 2_000_00 - 300_00,
        "contributions": 150_00,
        "version": 17,
    }
    app.close()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_events_survive_a_restart(backend: str, request: pytest.FixtureRequest) -> None:
    url = str(request.getfixturevalue(f"{backend}_url"))
    first = CareLedger(url)
    result = run_scenario(World(first).setup(pool_pence=50_000_00))
    before = figures(first, result["budget_id"])
    first.close()

    second = CareLedger(url)

    assert figures(second, result["budget_id"]) == before
    assert count_events(second) == result["events"]
    assert second.invoice(result["invoice_id"]).status.value == "paid"
    second.close()


@pytest.mark.postgres
def test_sqlite_and_postgresql_agree_event_for_event(sqlite_url: str, postgres_url: str) -> None:
    outcomes = []
    for url in (sqlite_url, postgres_url):
        app = CareLedger(url)
        world = World(app).setup(pool_pence=50_000_00)
        result = run_scenario(world)
        topics = [n.topic for n in app.recorder.select_notifications(1, 10_000)]
        outcomes.append((figures(app, result["budget_id"]), world.trial_balance(), topics))
        app.close()

    assert outcomes[0] == outcomes[1]
