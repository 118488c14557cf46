"""An optional filter, ``(CAST(? AS TEXT) IS NULL OR council = ?)``, is written out before the
database sees it (``projections.db.written_out``): dropped when not asked for, ``council = ?``
when asked for, so the column's index serves it. The rows are the same either way."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from projections.db import SqliteViewDb, written_out

SQL = (
    "SELECT id FROM t WHERE n >= ? AND (CAST(? AS TEXT) IS NULL OR council = ?)"
    " AND (CAST(? AS TEXT) IS NULL OR day <= ?) ORDER BY id"
)
ROWS = [(i, f"E0{i % 3}", f"2011-0{1 + i % 9}-01", i % 5) for i in range(40)]


def test_a_filter_not_asked_for_is_dropped_and_one_asked_for_is_a_plain_comparison() -> None:
    assert written_out(SQL, (2, None, None, "2011-03-01", "2011-03-01")) == (
        "SELECT id FROM t WHERE n >= ? AND 1 = 1 AND (day <= ?) ORDER BY id",
        (2, "2011-03-01"),
    )
    assert written_out(SQL, (2, "E01", "E01", None, None)) == (
        "SELECT id FROM t WHERE n >= ? AND (council = ?) AND 1 = 1 ORDER BY id",
        (2, "E01"),
    )


def test_a_statement_without_optional_filters_or_with_the_wrong_count_is_left_alone() -> None:
    assert written_out("SELECT 1 WHERE a = ?", [1]) == ("SELECT 1 WHERE a = ?", (1,))
    assert written_out(SQL, (1, None)) == (SQL, (1, None))  # the database names the mistake


def test_an_index_serves_a_filter_asked_for() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, council TEXT, day TEXT, n INTEGER)")
    db.execute("CREATE INDEX t_council ON t (council)")
    plan = " ".join(
        str(r[3]) for r in db.execute("EXPLAIN QUERY PLAN " + SQL, (0, "E01", "E01", None, None))
    )
    sql, params = written_out(SQL, (0, "E01", "E01", None, None))
    written = " ".join(str(r[3]) for r in db.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "t_council" not in plan  # the reason for writing it out
    assert "t_council" in written


@given(
    n=st.integers(0, 5),
    council=st.sampled_from([None, "E00", "E01", "E02", "E09"]),
    day=st.sampled_from([None, "2011-01-01", "2011-05-01", "2012-01-01"]),
)
def test_the_rows_are_those_of_the_filter_as_written(
    n: int, council: str | None, day: str | None
) -> None:
    raw = sqlite3.connect(":memory:")
    raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, council TEXT, day TEXT, n INTEGER)")
    raw.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    params = (n, council, council, day, day)
    expected = [r[0] for r in raw.execute(SQL, params)]  # as written, unsimplified
    db = SqliteViewDb(":memory:")
    with db.transaction() as cur:
        cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, council TEXT, day TEXT, n INTEGER)")
        cur.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    assert [r["id"] for r in db.query(SQL, params)] == expected
    db.close()
