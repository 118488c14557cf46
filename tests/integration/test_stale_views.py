"""A store whose views an earlier version built with the old figure names (``drawn``,
``spent_pence``, ``credited_pence``, …) has those views dropped and rebuilt from the log when the
views are next set up: the figures are then the new ones, and nothing fails on a missing column."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from projections.balance import balance_of
from projections.runner import Runner
from projections.service import LedgerService, all_views
from projections.views.balances import get_balance
from tests.integration.test_backends import run_scenario
from tests.support import World

OLD_NAMES = (  # (table, new column, the name an earlier version gave it)
    ("v_budget_balances", "net_drawn_pence", "drawn"),
    ("v_budget_status", "net_budget_spend_pence", "spent_pence"),
    ("v_invoices", "credit_notes_pence", "credited_pence"),
    ("v_spend_by_provider", "credit_notes_pence", "credited_pence"),
)


@pytest.fixture
def service(database_url: str) -> Iterator[LedgerService]:
    ledger = LedgerService(database_url)
    yield ledger
    ledger.close()


def test_views_with_old_column_names_are_rebuilt_from_the_log(service: LedgerService) -> None:
    budget_id = run_scenario(World(service.app).setup(pool_pence=50_000_00))["budget_id"]
    with service.db.transaction() as cur:
        for table, new, old in OLD_NAMES:
            cur.execute(f"ALTER TABLE {table} RENAME COLUMN {new} TO {old}")
    head = service.runner.head()

    restarted = Runner(service.app, service.db, all_views())  # sets the views up, as a restart
    restarted.catch_up()

    assert get_balance(service.db, budget_id) == dataclasses.asdict(
        balance_of(service.app, budget_id)
    )
    for table, new, old in OLD_NAMES:
        names = service.db.columns(table)
        assert new in names and old not in names, table
    assert set(restarted.positions().values()) == {head}
    invoices = service.db.query("SELECT credit_notes_pence FROM v_invoices")
    assert sum(int(r["credit_notes_pence"]) for r in invoices) == 13_00
