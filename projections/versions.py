# ruff: noqa: S608 - every name in this SQL is a view table's or a column's, never input
"""Rows whose versions their view writes: a page projected once, its history exact.

A view that keeps history through database triggers (``projections.history``) must be handed a
page one recorded instant at a time: the trigger stamps a row with the clock, and the clock is
one instant. On a log where every command is its own instant (a live service) that is one call
per view per event, and each call writes each row it touches, firing its trigger — the rebuild
with history took 3.4 times the one without, and a catch-up the same.

Here the view reads and writes a table's rows through ``Rows`` instead, one page at a time. Each
change is given the event's ``stamp`` (the last position of the events recorded at its instant,
set by the runner; None when the runner keeps no history), and ``flush`` writes:

* the live table once a page: each key's last state (an upsert, or a delete);
* each key's versions in this page, one per instant that changed it, with ``valid_from`` its
  stamp and ``valid_to`` the next one's (``FOREVER`` for the last) — appended in one statement;
* the key's version left open by an earlier page, closed at this page's first stamp.

The versions are those the triggers wrote for the same page (a row as at a position is the
same), without an instant's intermediate writes, and without a version that changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

from projections.bulk import insert_rows, update_rows
from projections.db import SqlCursor
from projections.history import FOREVER, SUFFIX, VALID_FROM, VALID_TO

CHUNK = 300  # keys per lookup, well inside both dialects' limits on parameters
Key = tuple[Any, ...]
Row = dict[str, Any]


class Table:
    """A view table written through ``Rows``: its columns and its primary key (constants)."""

    def __init__(self, name: str, columns: Sequence[str], key: Sequence[str]) -> None:
        self.name = name
        self.columns = tuple(columns)
        self.key = tuple(key)
        rest = [c for c in self.columns if c not in self.key]
        self.replace = f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET " + ", ".join(
            f"{c} = excluded.{c}" for c in rest
        )
        self.match = " AND ".join(f"{k} = ?" for k in self.key)
        get = itemgetter(*self.columns)
        self.values: Callable[[Row], tuple[Any, ...]] = (
            get if len(self.columns) > 1 else lambda row: (get(row),)
        )  # a row's values in column order

    def key_of(self, row: Row) -> Key:
        return tuple(row[k] for k in self.key)

    def rows(self, cur: SqlCursor) -> Rows:
        """This table's rows for one page, in the transaction of ``cur``."""
        return Rows(self, cur)


class Rows:
    """One page's reads and writes of a ``Table``: what it held before the page (read once per
    key), each key's states in the page by stamp, and ``flush`` to write them."""

    def __init__(self, table: Table, cur: SqlCursor) -> None:
        self.table = table
        self.cur = cur
        self.before: dict[Key, Row | None] = {}  # as stored before this page
        self.states: dict[Key, list[tuple[int | None, Row | None]]] = {}
        self.whole: set[Any] = set()  # first key values whose every stored row is read

    def load_by_first(self, values: Iterable[Any]) -> None:
        """Read every stored row whose first key column is one of ``values`` (a budget's rows
        by year, say): a key of theirs not read has no row."""
        wanted = sorted(set(values) - self.whole)
        first = self.table.key[0]
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            sql = (
                f"SELECT {', '.join(self.table.columns)} FROM {self.table.name}"
                f" WHERE {first} IN ({', '.join('?' * len(chunk))})"
            )
            for row in self.cur.execute(sql, chunk).fetchall():
                self.before.setdefault(self.table.key_of(row), dict(row))
        self.whole.update(wanted)

    def new_first(self, values: Iterable[Any]) -> None:
        """``values`` of the first key column are new in this page: no stored row has them."""
        self.whole.update(values)

    def keys_of(self, first: Any) -> list[Key]:
        """The keys starting with ``first`` that have a row now (after ``load_by_first``)."""
        keys = {k for k in (*self.before, *self.states) if k[0] == first}
        return sorted(k for k in keys if self.get(k) is not None)

    def load(self, keys: Iterable[Key]) -> None:
        """Read the stored rows of ``keys`` not yet read, a chunk of keys per query."""
        wanted = sorted({k for k in keys if k not in self.before and k not in self.states})
        width = len(self.table.key)
        columns = ", ".join(self.table.key)
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            self.before.update(dict.fromkeys(chunk))
            if width == 1:
                where = f"{columns} IN ({', '.join('?' * len(chunk))})"
            else:  # row values: SQLite 3.15+ and PostgreSQL
                one = f"({', '.join('?' * width)})"
                where = f"({columns}) IN (VALUES {', '.join([one] * len(chunk))})"
            params = [v for key in chunk for v in key]
            sql = f"SELECT {', '.join(self.table.columns)} FROM {self.table.name} WHERE {where}"
            for row in self.cur.execute(sql, params).fetchall():
                self.before[self.table.key_of(row)] = dict(row)

    def new(self, keys: Iterable[Key]) -> None:
        """``keys`` are created in this page: nothing stored to read."""
        for key in keys:
            if key not in self.states:
                self.before.setdefault(key, None)

    def get(self, key: Key) -> Row | None:
        """The key's row as this page has left it so far (a copy: change it, then ``put``)."""
        states = self.states.get(key)
        if states:
            row = states[-1][1]
        else:
            self._known(key)
            row = self.before[key]
        return None if row is None else dict(row)

    def _known(self, key: Key) -> None:
        """Make sure ``before`` holds ``key``: read it unless known to have no stored row."""
        if key in self.before or key in self.states:
            return
        if key[0] in self.whole:
            self.before[key] = None
        else:
            self.load([key])

    def put(self, row: Row, stamp: int | None) -> None:
        """``row`` is its key's state from the instant ``stamp`` on (kept as given: do not
        change it afterwards; ``get`` gives a copy to change)."""
        self._state(self.table.key_of(row), stamp, row)

    def delete(self, key: Key, stamp: int | None) -> None:
        """The key has no row from the instant ``stamp`` on."""
        if self.get(key) is not None:
            self._state(key, stamp, None)

    def _state(self, key: Key, stamp: int | None, row: Row | None) -> None:
        self._known(key)
        states = self.states.setdefault(key, [])
        if states and states[-1][0] == stamp:
            states.pop()  # the same instant again: its last write is its state
        previous = states[-1][1] if states else self.before[key]
        if row != previous:
            states.append((stamp, row))

    def flush(self) -> None:
        """Write the page: the live rows once, then (when stamped) their versions."""
        table, columns = self.table, self.table.columns
        keys = sorted(k for k, states in self.states.items() if states)
        last = {k: self.states[k][-1][1] for k in keys}
        gone = [k for k in keys if last[k] is None and self.before[k] is not None]
        if gone:
            self.cur.executemany(f"DELETE FROM {table.name} WHERE {table.match}", gone)
        live = [table.values(row) for row in last.values() if row is not None]
        insert_rows(self.cur, table.name, columns, live, table.replace)
        if keys and self.states[keys[0]][0][0] is not None:
            self._versions(keys)
        self.before.update(last)
        self.states = {}

    def _versions(self, keys: list[Key]) -> None:
        table, past = self.table, f"{self.table.name}{SUFFIX}"
        closing = [
            (self.states[k][0][0], *k) for k in keys if self.before[k] is not None
        ]  # the version an earlier page left open ends where this page's first begins
        update_rows(self.cur, past, VALID_TO, table.key, closing, (VALID_TO, FOREVER))
        rows = []
        for k in keys:
            states = self.states[k]
            for (stamp, row), (until, _) in zip(
                states, [*states[1:], (FOREVER, None)], strict=True
            ):
                if row is not None:
                    rows.append((*table.values(row), stamp, until))
        insert_rows(self.cur, past, (*table.columns, VALID_FROM, VALID_TO), rows)
