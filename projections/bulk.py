"""Writing a page's rows in few statements.

SQLite's ``executemany`` loops in C. psycopg's sends one statement per row, with microseconds of
Python for each, so on PostgreSQL a page's rows go by ``COPY``: straight into the table, or, when
a conflict clause is needed, into a temporary copy of it, then ``INSERT ... SELECT ... ON
CONFLICT`` in one statement. A ``DO UPDATE`` clause then must not meet two rows with the same key;
the views' pages never hold two (each writes a key once a page). A few rows (a command's, in
inline mode) go by ``executemany``: creating the temporary table would cost more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.db import SqlCursor

FEW = 50  # rows below which a temporary table does not pay


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


def update_rows(
    cur: SqlCursor,
    table: str,
    column: str,
    key: Sequence[str],
    rows: Sequence[Sequence[Any]],
    only: tuple[str, int],
) -> None:
    """Set ``column`` of ``table`` for each row ``(value, *key values)``, where the row's
    ``only`` column holds its given value as well (``table``, ``column``, ``key`` and ``only``
    are constants, never input). On PostgreSQL many rows go by ``COPY`` into a temporary table
    and one ``UPDATE … FROM`` it, not a statement per row."""
    if not rows:
        return
    also, value = only
    if cur.dialect != "postgres" or len(rows) < FEW:
        match = " AND ".join(f"{k} = ?" for k in key)
        sql = f"UPDATE {table} SET {column} = ? WHERE {match} AND {also} = {int(value)}"  # noqa: S608
        cur.executemany(sql, rows)
        return
    names, staging = ", ".join((column, *key)), f"staging_set_{table}"
    cur.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS"  # noqa: S608
        f" SELECT {names} FROM {table} WITH NO DATA"
    )
    with cur.raw.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    match = " AND ".join(f"t.{k} = s.{k}" for k in key)
    cur.execute(
        f"UPDATE {table} AS t SET {column} = s.{column} FROM {staging} AS s"  # noqa: S608
        f" WHERE {match} AND t.{also} = {int(value)}"
    )
    cur.execute(f"TRUNCATE {staging}")
