"""Writing a page's rows in few statements.

SQLite's ``executemany`` loops in C. psycopg's sends one statement per row, with microseconds of
Python for each, so on PostgreSQL a page's rows go by ``COPY``: straight into the table, or, when
a conflict clause is needed, into a temporary copy of it, then ``INSERT ... SELECT ... ON
CONFLICT`` in one statement. A ``DO UPDATE`` clause then must not meet two rows with the same key;
the views' pages never hold two (each writes a key once a page). A few rows (a command's, in
inline mode) go by ``executemany``: creating the temporary table would cost more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from projections.db import SqlCursor

FEW = 50  # rows below which a temporary table does not pay
T = TypeVar("T")


class Written(Generic[T]):
    """The rows a view has written in the current transaction, by key. A page is projected as
    several runs (one per recorded instant, so the views keep their history): with this, a view
    reads each row once a page, not once a run. A new transaction (another cursor) starts
    empty, so a rolled-back one leaves nothing behind."""

    def __init__(self) -> None:
        self._cur: SqlCursor | None = None
        self._rows: dict[str, T] = {}

    def read(
        self,
        cur: SqlCursor,
        keys: set[str],
        new: set[str],
        load: Callable[[SqlCursor, list[str]], dict[str, T]],
    ) -> dict[str, T]:
        """The rows of ``keys``: those written in this transaction, the rest by ``load`` (in
        key order), except ``new`` ones, not stored yet."""
        if self._cur is not cur:
            self._cur, self._rows = cur, {}
        rows = {k: self._rows[k] for k in keys & self._rows.keys()}
        rows.update(load(cur, sorted(keys - new - rows.keys())))
        return rows

    def wrote(self, rows: dict[str, T]) -> None:
        """``rows`` were written in this transaction (after ``read`` with its cursor)."""
        self._rows.update(rows)


def insert_rows(
    cur: SqlCursor,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: str = "",
) -> None:
    """Insert ``rows`` (values in ``columns`` order) into ``table``, with an optional
    ``ON CONFLICT`` clause; ``table``, ``columns`` and ``conflict`` are constants, never input."""
    if not rows:
        return
    names = ", ".join(columns)
    if cur.dialect != "postgres" or (conflict and len(rows) < FEW):
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}"  # noqa: S608
        cur.executemany(sql, rows)
        return
    target = table
    if conflict:
        target = f"staging_{table}"
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {target} (LIKE {table}) ON COMMIT DROP")
    with cur.raw.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    if conflict:
        sql = f"INSERT INTO {table} ({names}) SELECT {names} FROM {target} {conflict}"  # noqa: S608
        cur.execute(sql)
        cur.execute(f"TRUNCATE {target}")  # a page may write the table again
