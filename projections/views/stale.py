"""A view whose tables an earlier version built with other columns (issue 11 renamed the figures)
is dropped and set back to position 0 when the views are set up, so the next catch-up rebuilds it
from the log — a store written before the renames never fails on a missing column. Views are
derived: nothing is lost."""

from __future__ import annotations

from typing import Protocol

import structlog

from projections.db import SqlCursor

log = structlog.get_logger()


class Named(Protocol):
    name: str
    tables: tuple[str, ...]


def columns(cur: SqlCursor, table: str) -> tuple[str, ...]:
    """A table's column names in order (empty if there is no such table)."""
    if cur.dialect == "postgres":
        sql = (
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
        )
    else:
        sql = "SELECT name FROM pragma_table_info(?)"
    return tuple(r["name"] for r in cur.execute(sql, (table,)).fetchall())


def drop_if_stale(cur: SqlCursor, view: Named, expected: dict[str, tuple[str, ...]]) -> bool:
    """Drop every table of ``view`` and set it back to position 0 if any table in ``expected``
    exists with another set of columns than expected (order aside); True if it did."""
    stale = [
        t for t, want in expected.items() if (found := columns(cur, t)) and set(found) != set(want)
    ]
    if not stale:
        return False
    for table in view.tables:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"DROP TABLE IF EXISTS {table}__h")  # its history (projections.history)
    cur.execute("UPDATE careledger_view_tracking SET position = 0 WHERE view = ?", (view.name,))
    log.warning("projections.stale_view_dropped", view=view.name, tables=stale)
    return True
