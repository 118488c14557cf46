"""The views' database: the same SQLite file or PostgreSQL schema that holds the events.

Views are written with their tracking positions in one transaction. SQL is written once with
``?`` placeholders; PostgreSQL gets ``%s``. Amounts are BIGINT pence.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from ledger.persistence import persistence_env


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


class SqlCursor:
    """A cursor that takes ``?`` placeholders on both dialects and returns rows as dicts."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> SqlCursor:
        self.raw.execute(self._sql(sql), tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> SqlCursor:
        if rows:
            self.raw.executemany(self._sql(sql), [tuple(r) for r in rows])
        return self

    def fetchall(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.raw.fetchall()]

    def fetchone(self) -> dict[str, Any] | None:
        row = self.raw.fetchone()
        return dict(row) if row is not None else None


class ViewDb(ABC):
    """Connections to the views' database, one dialect or the other."""

    dialect: str

    @abstractmethod
    def transaction(self, *, write: bool = True) -> AbstractContextManager[SqlCursor]:
        """A transaction (a write one takes the database's write lock at once)."""

    def columns(self, table: str) -> list[str]:
        """A table's column names, in order."""
        if self.dialect == "postgres":
            rows = self.query(
                "SELECT column_name AS name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ?"
                " ORDER BY ordinal_position",
                (table,),
            )
        else:
            rows = self.query("SELECT name FROM pragma_table_info(?)", (table,))
        return [r["name"] for r in rows]

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.transaction(write=False) as cur:
            return cur.execute(sql, params).fetchall()

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """Rows one at a time, without holding the whole result in memory."""
        with self.transaction(write=False) as cur:
            cur.execute(sql, params)
            while rows := cur.raw.fetchmany(2000):
                yield from (dict(r) for r in rows)

    def wait_for_events(self, timeout: float) -> None:
        """Block until new events may have arrived, or ``timeout`` seconds pass."""
        time.sleep(timeout)

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


class SqliteViewDb(ViewDb):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._memory = path == ":memory:"
        self._shared: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    def _connection(self) -> sqlite3.Connection:
        if self._memory:
            if self._shared is None:
                self._shared = self._connect()
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        if not self._memory:
            conn.execute("PRAGMA journal_mode=WAL")
        return conn

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[SqlCursor]:
        with self._lock if self._memory else _nolock():
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield SqlCursor(conn.cursor(), self.dialect)
            except BaseException:
                conn.rollback()
                raise
            else:
                conn.commit()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._shared is not None:
            self._shared.close()
            self._shared = None


class PostgresViewDb(ViewDb):
    dialect = "postgres"

    def __init__(self, conninfo: str, schema: str, pool_size: int = 4) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.schema = schema
        self.conninfo = conninfo
        self._listener: Any = None
        options = f"-c search_path={schema}" if schema else ""
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"row_factory": dict_row, "options": options, "autocommit": False},
            open=True,
        )

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[SqlCursor]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield SqlCursor(cur, self.dialect)

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """Rows one at a time through a server-side cursor."""
        with (
            self.pool.connection() as conn,
            conn.transaction(),
            conn.cursor(name="careledger_stream") as cur,
        ):
            cur.itersize = 2000
            cur.execute(sql.replace("?", "%s"), tuple(params))
            yield from cur

    def wait_for_events(self, timeout: float, channel: str = "careledger_events") -> None:
        """Wake on the event store's NOTIFY (sent on every insert), or poll after ``timeout``."""
        import psycopg
        from psycopg import sql

        try:
            if self._listener is None or self._listener.closed:
                self._listener = psycopg.connect(self.conninfo, autocommit=True)
                self._listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                pass
        except psycopg.Error:
            self._listener = None  # the database went away: poll, and listen again later
            time.sleep(timeout)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self.pool.close()


@contextmanager
def _nolock() -> Iterator[None]:
    yield


def open_view_db(database_url: str) -> ViewDb:
    """The views' database for a CareLedger database URL (memory → a private in-memory SQLite)."""
    env = persistence_env(database_url)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.popo":
        return SqliteViewDb(":memory:")
    if module == "eventsourcing.sqlite":
        return SqliteViewDb(env["SQLITE_DBNAME"])
    parts = urlsplit(database_url)
    schema = parse_qs(parts.query).get("schema", ["public"])[-1]
    from psycopg.conninfo import make_conninfo

    conninfo = make_conninfo(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        dbname=env["POSTGRES_DBNAME"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=env["POSTGRES_CONNECT_TIMEOUT"],
    )
    return PostgresViewDb(conninfo, schema)
