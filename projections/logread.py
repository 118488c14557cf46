# ruff: noqa: S608 - the only names in this SQL are the recorder's own table and schema
"""The stored log read for the checks that hash every event (the chain, the Merkle tree).

The library's ``select_notifications`` builds a ``Notification`` per event (and on SQLite a
``UUID`` from the stored text): ~8 µs an event here, most of ``verify``'s time, where SHA-256
over the same bytes takes ~1 µs. The checks need five plain values, so they read them straight
from the recorder's table, in pages of ``PAGE``, the next page read by a second thread while
this one is hashed (the database, and on SQLite the step through its pages, run outside the
interpreter's lock): ``(position, aggregate id as text, version, topic, state exactly as
stored)`` — the values a ``Notification`` carries, the aggregate id as ``str(UUID)`` as the
chain and the leaves have always written it. A store without SQL (``memory://``) is read
through the library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

PAGE = 10_000
ID_CACHE = 100_000  # aggregate ids remembered while reading SQLite (~15 MB at most)
Stored = tuple[int, str, int, str, Any]  # position, aggregate id, version, topic, state
Reader = Callable[[int], list[Stored]]  # a page, from a position on
_UUID_HEX = re.compile(r"[0-9a-f]{32}")


def stored_pages(recorder: Any, stop: int | None = None) -> Iterator[list[Stored]]:
    """Every stored event with position ≤ ``stop`` (all without), in log order, a page at a time."""
    read = _reader(recorder, stop)
    with ThreadPoolExecutor(1, thread_name_prefix="careledger-logread") as ahead:
        pending: Future[list[Stored]] | None = ahead.submit(read, 1)
        while pending is not None:
            page = pending.result()
            more = len(page) == PAGE
            if stop is not None and page and page[-1][0] > stop:
                page, more = [e for e in page if e[0] <= stop], False
            pending = ahead.submit(read, page[-1][0] + 1) if more else None
            if page:
                yield page


def stored_events(recorder: Any, stop: int | None = None) -> Iterator[Stored]:
    """``stored_pages``, one event at a time."""
    for page in stored_pages(recorder, stop):
        yield from page


def _reader(recorder: Any, stop: int | None) -> Reader:
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres(recorder)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite(recorder)
    return _library(recorder, stop)


# The page's end is cut in Python (``stored_pages``), never a second bound in the WHERE: with
# stale statistics PostgreSQL planned ``>= a AND <= b`` as a bitmap scan and an on-disk sort of
# the whole range for each page (4 times slower over the log here).


def _postgres(recorder: PostgresApplicationRecorder) -> Reader:
    statement = SQL(
        "SELECT notification_id, originator_id::text, originator_version, topic, state"
        " FROM {schema}.{table} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
    ).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )

    def read(start: int) -> list[Stored]:
        with (
            recorder.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as cur,
        ):
            cur.execute(statement, (start, PAGE))
            return cur.fetchall()

    return read


def _sqlite(recorder: SQLiteApplicationRecorder) -> Reader:
    statement = (
        "SELECT rowid, originator_id, originator_version, topic, state"
        f" FROM {recorder.events_table_name} WHERE rowid >= ? ORDER BY rowid LIMIT ?"
    )
    as_uuid = recorder.datastore.originator_id_type == "uuid"
    convert = recorder.convert_originator_id  # the library's own: UUID(text), or the text
    ids: dict[str, str] = {}  # stored id → its text: an aggregate's events share one

    def text_of(stored: str) -> str:
        """As ``str(convert(stored))``; 32 lower-case hex digits hyphenated without a UUID."""
        if _UUID_HEX.fullmatch(stored):
            text = f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
        else:  # anything else: the library's answer, or its error
            text = str(convert(stored))
        ids[stored] = text
        return text

    def read(start: int) -> list[Stored]:
        with recorder.datastore.transaction(commit=False) as c:
            c.sqlite_cursor.row_factory = None  # plain tuples: sqlite3.Row halves the speed
            c.execute(statement, (start, PAGE))
            rows = c.fetchall()
        if not as_uuid:
            return rows  # type: ignore[no-any-return]
        if len(ids) > ID_CACHE:
            ids.clear()
        return [(r[0], ids.get(r[1]) or text_of(r[1]), r[2], r[3], r[4]) for r in rows]

    return read


def _library(recorder: Any, stop: int | None) -> Reader:
    def read(start: int) -> list[Stored]:
        page = recorder.select_notifications(start, PAGE, stop=stop)
        return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state) for n in page]

    return read
