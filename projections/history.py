# ruff: noqa: S608 - every name in this SQL is a view table's or a constant, never input
"""Every view keeps its own history: a read as at a past log position is an index lookup.

The mechanism lives here, under the views:

* each view table ``<table>`` gets a sibling ``<table>__h`` holding every version of every
  row, with ``valid_from`` (the log position from which it held) and ``valid_to`` (from which
  it no longer did; ``FOREVER`` while it still holds); the live table is untouched, so reads
  as at now cost what they did;
* the views' busy tables (budgets, invoices, spend, progress, exceptions) have their versions
  written by their view, a page at a time, from each event's ``stamp`` (``projections.versions``,
  named in the view's ``writes_versions``);
* any other table's versions are kept by database triggers, whatever SQL the view writes (an
  upsert, ``UPDATE … SET x = x + ?``, a delete): the position comes from a clock (a one-row
  table on SQLite, a transaction-local setting on PostgreSQL) set in the same transaction —
  by the view before each such write (``stamps_itself``), else by the runner, which then hands
  that view a page one recorded instant at a time (``runs_by_instant``);
* a read as at position ``p`` sees each table as its versions with ``valid_from <= p <
  valid_to``: ``AsAtDb`` rewrites every ``FROM``/``JOIN`` of a view table into that, so every
  read function answers as at ``p`` unchanged.

An event's changes are stamped with the last position of the page's events recorded at its
instant (``stamps``), and an instant resolves to the last position recorded by then
(``projections.asat.position_at``), so every position a reader can ask for is exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from projections.db import SqlCursor, ViewDb

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from projections.runner import Item

SUFFIX = "__h"
VALID_FROM = "valid_from"
VALID_TO = "valid_to"
CLOCK = "careledger_history_clock"
REGISTRY = "careledger_history_tables"
HISTORY_COLUMNS = (VALID_FROM, VALID_TO)
FOREVER = 2**62  # the valid_to of a version still true
SETUP_DDL = (
    f"CREATE TABLE IF NOT EXISTS {CLOCK} (id INTEGER PRIMARY KEY, position BIGINT NOT NULL)",
    f"INSERT INTO {CLOCK} (id, position) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    f"CREATE TABLE IF NOT EXISTS {REGISTRY} (name TEXT PRIMARY KEY, columns TEXT NOT NULL,"
    " by_position TEXT)",
)
_NOW = f"(SELECT position FROM {CLOCK} WHERE id = 1)"


def setup(cur: SqlCursor) -> None:
    """The clock and the list of tables that keep history."""
    for statement in SETUP_DDL:
        cur.execute(statement)


def set_clock(cur: SqlCursor, position: int) -> None:
    """Rows written from now on in this transaction are true from ``position`` (on PostgreSQL a
    setting local to the transaction: parallel workers never wait on one clock row)."""
    if cur.dialect == "postgres":
        cur.execute("SELECT set_config('careledger.clock', ?, true)", (str(position),))
    else:
        cur.execute(f"UPDATE {CLOCK} SET position = ? WHERE id = 1", (position,))


def stamps(instants: Sequence[Any], positions: Sequence[int]) -> list[int]:
    """For each event of a page (its recorded instant and position, in log order), the last
    position of the page's events recorded at its instant: where its changes become true."""
    out = list(positions)
    for i in range(len(out) - 2, -1, -1):
        if instants[i] == instants[i + 1]:
            out[i] = out[i + 1]
    return out


def runs_by_instant(items: Sequence[Item]) -> Iterator[Sequence[Item]]:
    """``items`` cut into runs of consecutive events recorded at the same instant."""
    start = 0
    for i in range(1, len(items)):
        if items[i].event.timestamp != items[i - 1].event.timestamp:
            yield items[start:i]
            start = i
    if items:
        yield items[start:]


def _columns(cur: SqlCursor, table: str) -> list[str]:
    if cur.dialect == "postgres":
        sql = (
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
        )
    else:
        sql = "SELECT name FROM pragma_table_info(?)"
    return [r["name"] for r in cur.execute(sql, (table,)).fetchall()]


def _key_columns(cur: SqlCursor, table: str) -> list[str]:
    if cur.dialect == "postgres":
        sql = (
            "SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a"
            " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = CAST(? AS regclass) AND i.indisprimary"
        )
        return [r["name"] for r in cur.execute(sql, (table,)).fetchall()]
    rows = cur.execute("SELECT name, pk FROM pragma_table_info(?)", (table,)).fetchall()
    return [r["name"] for r in sorted(rows, key=lambda r: r["pk"]) if r["pk"]]


def lacks_history(cur: SqlCursor, table: str) -> bool:
    """True if ``table`` exists without its history (built by an older release: rebuild it)."""
    return bool(_columns(cur, table)) and not _columns(cur, f"{table}{SUFFIX}")


def keep_by_position(cur: SqlCursor, table: str, column: str) -> None:
    """An append-only table whose rows carry the log position they came from in ``column``:
    its rows up to ``p`` are already its state at ``p``, so it needs no versions."""
    cur.execute(f"DROP TABLE IF EXISTS {table}{SUFFIX}")
    cur.execute(
        f"INSERT INTO {REGISTRY} (name, columns, by_position) VALUES (?, '*', ?)"
        " ON CONFLICT (name) DO UPDATE SET columns = '*', by_position = excluded.by_position",
        (table, column),
    )


def keep_history(cur: SqlCursor, table: str, *, triggers: bool = True) -> None:
    """Give ``table`` (just created, or kept with its history) its history table, holding every
    version of every row with ``valid_from``/``valid_to``, and the triggers that keep it — or,
    ``triggers=False``, none: its view writes the versions (``projections.versions``; an older
    release's triggers are dropped). The live table is untouched: reads as at now stay as they
    were. Idempotent."""
    base = _columns(cur, table)
    past = f"{table}{SUFFIX}"
    if not _columns(cur, past):
        if cur.dialect == "postgres":
            cur.execute(f"CREATE TABLE {past} (LIKE {table})")
        else:
            cur.execute(f"CREATE TABLE {past} AS SELECT * FROM {table} WHERE 0")
        for column in HISTORY_COLUMNS:
            cur.execute(f"ALTER TABLE {past} ADD COLUMN {column} BIGINT")
        keys = ", ".join(_key_columns(cur, table) or base)
        # A row's open version is found by its key (closing it), a row as at p by its key too.
        cur.execute(f"CREATE INDEX {past}_key ON {past} ({keys}, {VALID_TO}, {VALID_FROM})")
    primary = _key_columns(cur, table)
    key = primary or base
    if not triggers:
        _drop_triggers(cur, table)
    elif cur.dialect == "postgres":
        _pg_triggers(cur, table, base, key, nullable=not primary)
    else:
        _sqlite_triggers(cur, table, base, key)
    cur.execute(
        f"INSERT INTO {REGISTRY} (name, columns, by_position) VALUES (?, ?, NULL)"
        " ON CONFLICT (name) DO UPDATE SET columns = excluded.columns, by_position = NULL",
        (table, ",".join(base)),
    )


_INDEX = re.compile(r"^CREATE INDEX IF NOT EXISTS (\w+) ON (\w+) \((.*)\)$", re.DOTALL)


def mirrored_index(statement: str, versioned: Iterable[str]) -> list[str]:
    """The same reader's index on the history of its table, if that table keeps versions (so a
    read as at a past position finds its rows as a read as at now does), else nothing. It ends
    with both bounds of a version: a version not true at the position is passed over in the
    index, its row never fetched. (An older release's index without ``valid_from``, named
    ``…__h``, is dropped.)"""
    match = _INDEX.match(statement.strip())
    if match is None or match.group(2) not in versioned:
        return []
    name, table, columns = match.groups()
    return [
        f"DROP INDEX IF EXISTS {name}{SUFFIX}",
        f"CREATE INDEX IF NOT EXISTS {name}{SUFFIX}v ON {table}{SUFFIX}"
        f" ({columns}, {VALID_TO}, {VALID_FROM})",
    ]


def clear_history(cur: SqlCursor, table: str) -> None:
    """Forget ``table``'s versions (its view is being projected again from position 0)."""
    if _columns(cur, f"{table}{SUFFIX}"):
        cur.execute(f"DELETE FROM {table}{SUFFIX}")


def drop_history(cur: SqlCursor, table: str) -> None:
    """Drop ``table``'s versions (with the table itself, when a view is rebuilt)."""
    cur.execute(f"DROP TABLE IF EXISTS {table}{SUFFIX}")


def _close(past: str, key: list[str], row: str, now: str) -> list[str]:
    """Statements ending the open version of the row ``row`` (OLD/NEW) at ``now``; a version
    opened at ``now`` itself (written twice in one run) is void and goes."""
    match = " AND ".join(f"{k} IS {row}.{k}" for k in key)
    open_ = f"{match} AND {VALID_TO} = {FOREVER}"
    return [
        f"DELETE FROM {past} WHERE {open_} AND {VALID_FROM} = {now};",
        f"UPDATE {past} SET {VALID_TO} = {now} WHERE {open_};",
    ]


def _open(past: str, base: list[str], now: str) -> str:
    names = ", ".join([*base, VALID_FROM, VALID_TO])
    values = ", ".join([*(f"NEW.{c}" for c in base), now, str(FOREVER)])
    return f"INSERT INTO {past} ({names}) VALUES ({values});"


def _sqlite_triggers(cur: SqlCursor, table: str, base: list[str], key: list[str]) -> None:
    past = f"{table}{SUFFIX}"
    opened, closed = _open(past, base, _NOW), " ".join(_close(past, key, "OLD", _NOW))
    for statement in (
        f"CREATE TRIGGER IF NOT EXISTS {table}__hi AFTER INSERT ON {table} BEGIN {opened} END",
        f"CREATE TRIGGER IF NOT EXISTS {table}__hu AFTER UPDATE ON {table}"
        f" BEGIN {closed} {opened} END",
        f"CREATE TRIGGER IF NOT EXISTS {table}__hd AFTER DELETE ON {table} BEGIN {closed} END",
    ):
        cur.execute(statement)


def _drop_triggers(cur: SqlCursor, table: str) -> None:
    if cur.dialect == "postgres":
        cur.execute(f"DROP TRIGGER IF EXISTS {table}__ht ON {table}")
        cur.execute(f"DROP FUNCTION IF EXISTS {table}__hf()")
        return
    for suffix in ("hi", "hu", "hd"):
        cur.execute(f"DROP TRIGGER IF EXISTS {table}__{suffix}")


def _pg_triggers(
    cur: SqlCursor, table: str, base: list[str], key: list[str], *, nullable: bool
) -> None:
    past = f"{table}{SUFFIX}"
    # A primary key is never NULL: ``=`` finds the open version by the key index. (``IS NOT
    # DISTINCT FROM``, needed only for a table without one, hides the index from PostgreSQL:
    # every write scanned the whole history.)
    same = " IS NOT DISTINCT FROM OLD." if nullable else " = OLD."
    closed = " ".join(_close(past, key, "OLD", "now_at")).replace(" IS OLD.", same)
    cur.execute(
        f"CREATE OR REPLACE FUNCTION {table}__hf() RETURNS trigger LANGUAGE plpgsql AS $$"
        " DECLARE now_at BIGINT := COALESCE("
        f"NULLIF(current_setting('careledger.clock', true), '')::bigint, {_NOW});"
        " BEGIN"
        f" IF TG_OP <> 'INSERT' THEN {closed} END IF;"
        f" IF TG_OP <> 'DELETE' THEN {_open(past, base, 'now_at')} END IF;"
        " RETURN NULL;"
        " END $$"
    )
    cur.execute(
        f"CREATE OR REPLACE TRIGGER {table}__ht AFTER INSERT OR UPDATE OR DELETE ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION {table}__hf()"
    )


# A view table that keeps history → its columns (comma-separated), and for an append-only table
# read by its position column, that column: ("*", "position").
Tables = dict[str, tuple[str, str | None]]


def history_tables(db: ViewDb) -> Tables:
    """The view tables that keep history: their columns, and the position column of those
    that are append-only. Read once per database object (every read as at an instant needs
    it); ``forget_tables`` after the views' tables change."""
    if db.kept_tables:
        return db.kept_tables
    rows = db.query(f"SELECT name, columns, by_position FROM {REGISTRY}")
    tables = {r["name"]: (r["columns"], r["by_position"]) for r in rows}
    db.kept_tables = tables or None  # none yet (views not set up): asked again next time
    return tables


def forget_tables(db: ViewDb) -> None:
    """The views' tables have changed (set up, rebuilt): read the registry again."""
    db.kept_tables = None


# A view table after FROM or JOIN, with its alias if any (an identifier that is not a keyword).
_KEYWORDS = frozenset(
    [
        "where",
        "group",
        "order",
        "join",
        "left",
        "right",
        "inner",
        "outer",
        "cross",
        "on",
        "limit",
        "union",
        "having",
        "as",
        "using",
        "natural",
        "full",
        "window",
        "except",
        "intersect",
    ]
)
# Tables kept outside the log (not views) that readers join, each with the column holding the
# instant a row was recorded: as at a position, the rows recorded by the time it was.
KNOWN_BY = {"careledger_refusals": "recorded_at"}
_TABLE_REF = re.compile(
    rf"\b(FROM|JOIN)\s+(v_\w+|{'|'.join(KNOWN_BY)})(?:\s+(?:AS\s+)?([A-Za-z_]\w*))?",
    re.IGNORECASE,
)


# Where a read's position (and instant) go in its rewritten SQL, before they are bound.
_SLOT, _INSTANT = "\x00", "\x01"
_PLACES = re.compile(r"(\?|\x00|\x01)")
_BOUND = "CAST(? AS BIGINT)"


def as_at_sql(
    sql: str,
    tables: Tables,
    position: int,
    params: Sequence[Any] = (),
    instant: str | None = None,
) -> tuple[str, tuple[Any, ...]]:
    """``sql`` reading every view table in ``tables`` as it stood at ``position``, and its
    parameters. The position is bound, never written into the text: the same read as at any
    instant is the same statement, parsed and planned once (the database's statement cache).
    A table outside the log (``KNOWN_BY``) holds its rows recorded by ``instant`` (a UTC stamp,
    the instant asked for), else by the instant ``position`` was recorded."""

    def swap(match: re.Match[str]) -> str:
        keyword, table, alias = match.group(1), match.group(2), match.group(3)
        if table not in tables and table not in KNOWN_BY:
            return match.group(0)
        tail = ""
        if alias is not None and alias.lower() in _KEYWORDS:
            tail, alias = " " + alias, None
        past = _past_of(table, tables.get(table), instant is not None)
        return f"{keyword} {past} AS {alias or table}{tail}"

    text = _TABLE_REF.sub(swap, sql)
    if _SLOT not in text and _INSTANT not in text:
        return text, tuple(params)
    final = text.replace(_SLOT, _BOUND).replace(_INSTANT, "?")
    if text.count("?") != len(params):  # the read's own placeholders (ours are not "?" yet)
        return final, tuple(params)  # a wrong count: the database names it, as without as-at
    given, ours = iter(params), {_SLOT: int(position), _INSTANT: instant}
    bound = [ours[place] if place in ours else next(given) for place in _PLACES.findall(text)]
    return final, tuple(bound)


def _past_of(table: str, kept: tuple[str, str | None] | None, by_instant: bool) -> str:
    # ``columns`` are the registry's (never input text); the position is bound at ``_SLOT``.
    if kept is None:  # a table outside the log: its rows recorded by the instant
        recorded = (
            _INSTANT if by_instant else f"(SELECT known_by FROM v_audit WHERE position = {_SLOT})"
        )
        return f"(SELECT * FROM {table} WHERE {KNOWN_BY[table]} <= {recorded})"
    columns, by_position = kept
    if by_position is not None:
        return f"(SELECT * FROM {table} WHERE {by_position} <= {_SLOT})"
    return (
        f"(SELECT {columns} FROM {table}{SUFFIX}"
        f" WHERE {VALID_FROM} <= {_SLOT} AND {VALID_TO} > {_SLOT})"
    )


class AsAtCursor(SqlCursor):
    """A cursor whose every statement reads the views as at one position."""

    def __init__(
        self, raw: Any, dialect: str, tables: Tables, position: int, instant: str | None = None
    ) -> None:
        super().__init__(raw, dialect)
        self.tables = tables
        self.position = position
        self.instant = instant

    def execute(self, sql: str, params: Sequence[Any] = ()) -> SqlCursor:
        return super().execute(*as_at_sql(sql, self.tables, self.position, params, self.instant))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> SqlCursor:
        raise PermissionError("a view read as at a past position is read only")


class AsAtDb(ViewDb):
    """The views' database read as at log position ``position``: every read function given it
    answers as the ledger knew it then. Read only. ``instant`` (a UTC stamp), the instant asked
    for, bounds the tables kept outside the log (the refusal log) more finely than a position."""

    def __init__(self, db: ViewDb, position: int, instant: str | None = None) -> None:
        self.db = db
        self.dialect = db.dialect
        self.position = position
        self.instant = instant
        self.tables = history_tables(db)

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[SqlCursor]:
        if write:
            raise PermissionError("a view read as at a past position is read only")
        with self.db.transaction(write=False) as cur:
            yield AsAtCursor(cur.raw, self.dialect, self.tables, self.position, self.instant)

    def schema_transaction(self) -> AbstractContextManager[SqlCursor]:
        raise PermissionError("a view read as at a past position is read only")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self.db.query(*as_at_sql(sql, self.tables, self.position, params, self.instant))

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        return self.db.stream(*as_at_sql(sql, self.tables, self.position, params, self.instant))

    def stream_values(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Sequence[Any]]:
        return self.db.stream_values(
            *as_at_sql(sql, self.tables, self.position, params, self.instant)
        )

    def compact(self, table: str) -> None:
        raise PermissionError("a view read as at a past position is read only")

    def close(self) -> None:
        """The live database stays open: it is not this reader's."""
