"""A budget's years (rule 14) as every reader shows them: the API's budget, balance and statement
(``years``) and the per-year CSV export (``careledger export csv budget-years``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from projections.asat import aggregate_at, view_db
from projections.db import ViewDb

# The per-year export's columns (README "Glossary"): the budget, then ``years_of``'s figures.
YEAR_COLUMNS = (
    "budget_id", "council", "year", "year_starts_on", "year_ends_on", "year_allocated_pence",
    "year_drawn_pence", "year_available_pence", "contingency_pence", "year_closed",
)  # fmt: skip


def years_of(b: PersonalBudget) -> list[dict[str, Any]]:
    """The budget's years as the budget, its statement and its balance show them."""
    return [
        {
            "year": y.label,
            "year_starts_on": y.starts_on,
            "year_ends_on": y.ends_on,
            "year_allocated_pence": y.allocated_pence,
            "year_drawn_pence": y.drawn_pence,
            "year_available_pence": y.available_pence,
            "contingency_pence": y.contingency_pence,
            "year_closed": y.closed,
        }
        for y in b.budget_years()
    ]


def budget_year_rows(app: CareLedger, db: ViewDb, stop: int | None) -> list[dict[str, Any]]:
    """Every budget's years, one row each (budgets in id order, years oldest first), as known
    at log position ``stop`` (None: now); the budgets are those of the balances view then."""
    budgets = view_db(db, stop).query(
        "SELECT budget_id, council FROM v_budget_balances ORDER BY budget_id"
    )
    rows = []
    for r in budgets:
        uid = UUID(str(r["budget_id"]))
        b = app.budget(uid) if stop is None else aggregate_at(app, db, uid, stop)
        if not isinstance(b, PersonalBudget):
            continue
        rows += [{"budget_id": str(uid), "council": r["council"], **y} for y in years_of(b)]
    return rows
