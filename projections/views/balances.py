"""Budget balances: one row per budget, folded from its events with ``projections.balance``.

A page loads the rows of the budgets it touches in one query (not those it opens), folds each
budget's events in Python and writes each budget once, with a version for each instant that
changed it (``projections.versions``). A row holds every ``BudgetBalance`` field (the budget's
open invoices as sorted-key JSON), so a row read back equals ``balance_of`` for the same budget.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ledger.budget import PersonalBudget
from projections.balance import BudgetBalance, fold, restore
from projections.db import SqlCursor, ViewDb
from projections.refs import RefsView
from projections.versions import Table
from projections.views.stale import drop_if_stale

if TYPE_CHECKING:
    from projections.runner import Item

TABLE = "v_budget_balances"
COLUMNS = tuple(f.name for f in dataclasses.fields(BudgetBalance))
TEXT_COLUMNS = (
    "budget_id", "council", "support_reason", "status", "deployment", "approved_on",
    "ended_on", "last_review_on", "open_invoices", "payment_basis",
)  # fmt: skip
NULLABLE = ("deployment", "contribution_weekly_assessed_pence", "approved_on", "ended_on",
            "last_review_on", "payment_basis")  # fmt: skip
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def _ddl() -> str:
    columns = []
    for name in COLUMNS:
        kind = "TEXT" if name in TEXT_COLUMNS else "BIGINT"
        null = "" if name in NULLABLE else " NOT NULL"
        columns.append(f"{name} {kind}{null}")
    return f"CREATE TABLE IF NOT EXISTS {TABLE} ({', '.join(columns)}, PRIMARY KEY (budget_id))"


BALANCES = Table(TABLE, COLUMNS, ("budget_id",))


_values = operator.attrgetter(*COLUMNS)
_OPEN = COLUMNS.index("open_invoices")


def to_row(balance: BudgetBalance) -> tuple[Any, ...]:
    row = list(_values(balance))
    row[_OPEN] = json.dumps(balance.open_invoices, sort_keys=True)
    return tuple(row)


def _stored(balance: BudgetBalance) -> dict[str, Any]:
    return dict(zip(COLUMNS, to_row(balance), strict=True))


def from_row(row: dict[str, Any]) -> BudgetBalance:
    values = {c: row[c] for c in COLUMNS}
    values["open_invoices"] = json.loads(row["open_invoices"])
    return restore(values)


class BalancesView:
    name = "balances"
    tables: tuple[str, ...] = (TABLE,)
    indexes: tuple[str, ...] = (
        f"CREATE INDEX IF NOT EXISTS {TABLE}_council ON {TABLE} (council, budget_id)",
    )

    writes_versions = (TABLE,)

    def create(self, cur: SqlCursor) -> None:
        drop_if_stale(cur, self, {TABLE: COLUMNS})
        cur.execute(_ddl())

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        events: dict[str, list[Item]] = {}
        for item in items:
            if isinstance(item.event, PersonalBudget.Event):
                events.setdefault(item.aggregate_id, []).append(item)
        if not events:
            return
        rows = BALANCES.rows(cur)
        opened = {b for b, e in events.items() if isinstance(e[0].event, PersonalBudget.Opened)}
        rows.new((b,) for b in opened)
        rows.load((b,) for b in events)
        for budget_id in sorted(events):  # in key order: each index page visited once
            stored = rows.get((budget_id,))
            balance = None if stored is None else from_row(stored)
            for stamp, run in _by_stamp(events[budget_id]):
                balance = fold(balance, run)
                rows.put(_stored(balance), stamp)
        rows.flush()


def _by_stamp(items: list[Item]) -> list[tuple[int | None, list[Any]]]:
    """A budget's events of a page, grouped by the instant that recorded them."""
    runs: list[tuple[int | None, list[Any]]] = []
    for item in items:
        if runs and runs[-1][0] == item.stamp:
            runs[-1][1].append(item.event)
        else:
            runs.append((item.stamp, [item.event]))
    return runs


def _as_dict(row: dict[str, Any]) -> dict[str, Any]:
    """The stored row as it is (derived figures too), its open invoices decoded."""
    return {**{c: row[c] for c in COLUMNS}, "open_invoices": json.loads(row["open_invoices"])}


def get_balance(db: ViewDb, budget_id: str) -> dict[str, Any] | None:
    """The budget's row as a dict of ``BudgetBalance`` fields, or None if the view has none."""
    rows = db.query(f"SELECT * FROM {TABLE} WHERE budget_id = ?", (budget_id,))  # noqa: S608
    return _as_dict(rows[0]) if rows else None


def list_balances(
    db: ViewDb,
    council: str | None = None,
    limit: int = DEFAULT_LIMIT,
    after_budget_id: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Balances in budget id order (only those in ``status`` if given); pass the last row's
    ``budget_id`` to get the next page."""
    where, params = [], []
    if council is not None:
        where.append("council = ?")
        params.append(council)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    if after_budget_id is not None:
        where.append("budget_id > ?")
        params.append(after_budget_id)
    sql = f"SELECT * FROM {TABLE}"  # noqa: S608
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY budget_id LIMIT ?"
    rows = db.query(sql, [*params, max(1, min(limit, MAX_LIMIT))])
    return [_as_dict(r) for r in rows]
