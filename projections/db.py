"""The views' database: the same SQLite file or PostgreSQL schema that holds the events.

Views are written with their tracking positions in one transaction. SQL is written once with
``?`` placeholders; PostgreSQL gets ``%s``. Amounts are BIGINT pence.

On PostgreSQL every wait is bounded (``PgLimits``, from the database URL): for a connection, for a
lock, for a statement. A request that runs out fails with 503 instead of holding a server thread
forever; the same bounds are put on the event store's connections (``bound_store_waits``).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, _GeneratorContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

from ledger.persistence import StoreUnavailableError, persistence_env
from projections.stores.pg_schema import schema_lock

if TYPE_CHECKING:
    from ledger.app_core import LedgerCore

# How long a pool keeps re-trying one lost connection (psycopg_pool's back-off doubles: 1, 2,
# 4 s …, for 5 minutes by default). Past it the pool gives up and the next request connects
# afresh, so a database back after a long outage is used within seconds, not minutes.
RECONNECT_TIMEOUT = 2.0
C = TypeVar("C")


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


# An optional filter: ``(CAST(? AS TEXT) IS NULL OR council = ?)`` holds for every row when its
# first parameter is None, else it is ``council = ?``.
_OPTIONAL = re.compile(r"\(CAST\(\? AS TEXT\) IS NULL OR ([^()?]*)\?\)|\?")


def written_out(sql: str, params: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """``sql`` with each optional filter written out for its parameters: dropped (``1 = 1``)
    when not asked for, ``(council = ?)`` when asked for. The database then uses the column's
    index: ``x IS NULL OR …`` with a bound ``x`` hides it from SQLite's and PostgreSQL's
    planners (a read as at a past instant scanned a view's whole history for one council)."""
    # None to write out, or a count the statement does not take (the database says so).
    if "IS NULL OR" not in sql or sql.count("?") != len(params):
        return sql, tuple(params)
    given, bound = iter(params), list[Any]()

    def write(match: re.Match[str]) -> str:
        if match.group(0) == "?":
            bound.append(next(given))
            return "?"
        asked, value = next(given), next(given)
        if asked is None:
            return "1 = 1"
        bound.append(value)
        return f"({match.group(1)}?)"

    return _OPTIONAL.sub(write, sql), tuple(bound)


class SqlCursor:
    """A cursor that takes ``?`` placeholders on both dialects and returns rows as dicts."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> SqlCursor:
        sql, bound = written_out(sql, params)
        self.raw.execute(self._sql(sql), bound)
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
    # The view tables that keep history, as ``projections.history.history_tables`` read them.
    kept_tables: dict[str, tuple[str, str | None]] | None = None

    @abstractmethod
    def transaction(self, *, write: bool = True) -> AbstractContextManager[SqlCursor]:
        """A transaction (a write one takes the database's write lock at once)."""

    def schema_transaction(self) -> AbstractContextManager[SqlCursor]:
        """A write transaction for DDL (CREATE, DROP): on PostgreSQL under the schema lock,
        so processes starting together never create the same tables at once."""
        return self.transaction()

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

    def stream_values(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Sequence[Any]]:
        """Rows one at a time as sequences of their values, in column order (no dict a row:
        a whole table compared in ``verify``)."""
        with self.transaction(write=False) as cur:
            cur.execute(sql, params)
            while rows := cur.raw.fetchmany(2000):
                yield from rows

    def wait_for_events(self, timeout: float) -> None:
        """Block until new events may have arrived, or ``timeout`` seconds pass."""
        time.sleep(timeout)

    @abstractmethod
    def compact(self, table: str) -> None:
        """Physically remove deleted or overwritten rows of ``table`` (erased keys)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


class SqliteViewDb(ViewDb):
    dialect = "sqlite"

    def __init__(self, path: str, *, scratch: bool = False) -> None:
        self.path = path
        # A scratch file (``verify``'s replay, removed when done): no journal, no syncs.
        self.scratch = scratch
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
        if self.scratch:
            # Nothing to recover after a crash (the replay starts again) and removed when done;
            # a replay that fails is thrown away whole (without a journal nothing rolls back).
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            return conn
        if not self._memory:
            conn.execute("PRAGMA journal_mode=WAL")
        # Deleted content is zeroed, not left in free space: erased keys and tokens stay gone.
        conn.execute("PRAGMA secure_delete=ON")
        return conn

    def compact(self, table: str) -> None:
        """Leave no old copy of ``table``'s rows behind: copy the WAL into the file (whose freed
        content secure_delete zeroed) and truncate the WAL."""
        if self._memory:
            return
        for _ in range(50):  # a reader holding an old snapshot blocks it: wait up to ~5 s
            busy = self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                return
            time.sleep(0.1)
        raise StoreUnavailableError(
            f"the WAL could not be truncated after erasing from {table}: readers kept it;"
            " the erasure is recorded and the key destroyed; retry with the same Idempotency-Key"
        )

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


@dataclass(frozen=True)
class PgLimits:
    """The longest any wait on PostgreSQL may last, in whole seconds (0: no limit)."""

    connect: int  # for a connection from the pool (the database is down, or the pool is busy)
    lock: int
    statement: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PgLimits:
        keys = ("POSTGRES_CONNECT_TIMEOUT", "POSTGRES_LOCK_TIMEOUT", "POSTGRES_STATEMENT_TIMEOUT")
        return cls(*(int(env[key]) for key in keys))

    def options(self) -> str:
        """libpq ``options`` for every session: reads wait for locks no longer than writes."""
        # jit off: the JIT spends ~70 ms compiling the batch's many-budget read, for nothing.
        return f"-c lock_timeout={self.lock}s -c statement_timeout={self.statement}s -c jit=off"


class PostgresViewDb(ViewDb):
    dialect = "postgres"

    def __init__(self, conninfo: str, schema: str, limits: PgLimits, pool_size: int = 4) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.schema = schema
        self.conninfo = conninfo
        self._listener: Any = None
        options = f"-c search_path={schema} " if schema else ""
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={
                "row_factory": dict_row,
                "options": options + limits.options(),
                "autocommit": False,
            },
            timeout=limits.connect,
            check=ConnectionPool.check_connection,  # drop connections a restart has killed
            reconnect_timeout=RECONNECT_TIMEOUT,
            open=True,
        )

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[SqlCursor]:
        with (
            _unavailable_named(),
            self.pool.connection() as conn,
            conn.transaction(),
            conn.cursor() as cur,
        ):
            yield SqlCursor(cur, self.dialect)

    @contextmanager
    def schema_transaction(self) -> Iterator[SqlCursor]:
        with schema_lock(self.conninfo), self.transaction() as cur:
            yield cur

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """Rows one at a time through a server-side cursor."""
        with (
            _unavailable_named(),
            self.pool.connection() as conn,
            conn.transaction(),
            conn.cursor(name="careledger_stream") as cur,
        ):
            cur.itersize = 2000
            text, bound = written_out(sql, params)
            cur.execute(text.replace("?", "%s"), bound)
            yield from cur

    def stream_values(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Sequence[Any]]:
        """Rows one at a time as tuples, through a server-side cursor."""
        from psycopg.rows import tuple_row

        with (
            _unavailable_named(),
            self.pool.connection() as conn,
            conn.transaction(),
            conn.cursor(name="careledger_stream", row_factory=tuple_row) as cur,
        ):
            text, bound = written_out(sql, params)
            cur.execute(text.replace("?", "%s"), bound)
            while rows := cur.fetchmany(10_000):  # a page a round trip, not a call a row
                yield from rows

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

    def compact(self, table: str) -> None:
        """Leave no dead copy of ``table``'s rows: VACUUM FULL rewrites it into a new file."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            name = sql.Identifier(self.schema, table) if self.schema else sql.Identifier(table)
            conn.execute(sql.SQL("VACUUM FULL {}").format(name))

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self.pool.close()


@contextmanager
def _nolock() -> Iterator[None]:
    yield


@contextmanager
def _unavailable_named() -> Iterator[None]:
    """psycopg's connection-level errors (database gone, no connection in time, a lock or
    statement timeout) raised as the event store's ``StoreUnavailableError``: one named error
    the API answers with 503, whichever database a request was waiting on."""
    import psycopg

    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError) as error:
        raise StoreUnavailableError(str(error)) from error


def open_view_db(database_url: str) -> ViewDb:
    """The views' database for a CareLedger database URL (memory → a private in-memory SQLite)."""
    env = persistence_env(database_url)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.popo":
        return SqliteViewDb(":memory:")
    if module == "eventsourcing.sqlite":
        return SqliteViewDb(env["SQLITE_DBNAME"])
    conninfo, schema = postgres_conninfo(database_url)
    return PostgresViewDb(conninfo, schema, PgLimits.from_env(env))


def postgres_conninfo(database_url: str) -> tuple[str, str]:
    """A PostgreSQL database URL as a libpq connection string, and its schema."""
    from psycopg.conninfo import make_conninfo

    env = persistence_env(database_url)
    schema = parse_qs(urlsplit(database_url).query).get("schema", ["public"])[-1]
    conninfo = make_conninfo(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        dbname=env["POSTGRES_DBNAME"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=env["POSTGRES_CONNECT_TIMEOUT"],
    )
    return conninfo, schema


def bound_store_waits(app: LedgerCore) -> None:
    """Give the event store's PostgreSQL connections the views' bounds (no-op on SQLite).

    The library sets ``lock_timeout`` only inside its insert transaction, so a read of the events
    table waited forever behind a lock; it keeps retrying a lost connection for minutes; and it
    retries a timed-out call ten times, so a 10 s timeout became 100 s. Here every session gets
    lock and statement timeouts, and a wait that ran out is raised at once as
    ``StoreUnavailableError`` (a dead connection is still retried, on a fresh one).
    """
    from eventsourcing.postgres import PostgresDatastore

    datastore = getattr(app.factory, "datastore", None)
    if not isinstance(datastore, PostgresDatastore):
        return
    limits = PgLimits.from_env(persistence_env(app.database_url))
    pool = datastore.pool
    connect_args = cast(dict[str, Any], pool.kwargs)  # the library passes a dict, never a callable
    pool.kwargs = {**connect_args, "options": limits.options()}
    pool.reconnect_timeout = RECONNECT_TIMEOUT
    pool.drain()  # the connections opened while the tables were created lack the options
    # The library builds its datastore itself (no subclass can be slotted in): wrap the method.
    datastore.get_connection = _failing_fast(datastore.get_connection)  # type: ignore[method-assign]


def _failing_fast(
    get_connection: Callable[[], AbstractContextManager[C]],
) -> Callable[[], _GeneratorContextManager[C]]:
    @contextmanager
    def bounded() -> Iterator[C]:
        from eventsourcing.persistence import OperationalError

        try:
            with get_connection() as conn:
                yield conn
        except OperationalError as error:
            if _wait_ran_out(error.__cause__):
                raise StoreUnavailableError(str(error)) from error.__cause__
            raise

    return bounded


def _wait_ran_out(error: BaseException | None) -> bool:
    """No connection in time (database down, pool busy), or a lock or statement timeout."""
    from psycopg import errors
    from psycopg_pool import PoolTimeout, TooManyRequests

    timeouts = (PoolTimeout, TooManyRequests, errors.LockNotAvailable, errors.QueryCanceled)
    return isinstance(error, timeouts)
