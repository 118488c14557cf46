"""Whether a database URL names a usable CareLedger store, said in one line when it does not.

Only ``serve`` and ``demo`` create a store; every other command needs one that exists, so a
typo'd path or schema is refused by name instead of being created empty. PostgreSQL is tried
once, directly and briefly (``PREFLIGHT_TIMEOUT``), before any pool is opened: a server that is
down, a database that does not exist or a refused login is reported at once as its cause, not
after the pool's retries as a traceback.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from urllib.parse import quote

from ledger.persistence import persistence_env
from projections.db import postgres_conninfo

PREFLIGHT_TIMEOUT = 3  # seconds (libpq's least is 2)
EVENTS_TABLE = {"sqlite": "stored_events", "postgres": "careledger_events"}  # the library's names
CREATE_HINT = "run `careledger demo` or `careledger serve` to create one"


class StoreError(Exception):
    """The store cannot be used; the message is one line a person can act on."""


def check_store(database_url: str, *, create: bool = False) -> None:
    """Raise :class:`StoreError` unless the URL names a CareLedger store (or, with ``create``,
    a place one can be created). An unknown URL scheme raises ``InvalidCommandError``."""
    env = persistence_env(database_url)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.sqlite":
        _check_sqlite(env["SQLITE_DBNAME"], create=create)
    elif module == "eventsourcing.postgres":
        _check_postgres(database_url, env, create=create)


def _check_sqlite(path: str, *, create: bool) -> None:
    if path == ":memory:":
        return
    where = os.path.abspath(path)
    if not os.path.exists(where):
        folder = os.path.dirname(where)
        if not create:
            raise StoreError(f"no CareLedger store at {where}: {CREATE_HINT}")
        if not os.path.isdir(folder):
            raise StoreError(f"cannot create a store at {where}: there is no folder {folder}")
        return
    try:
        with closing(sqlite3.connect(f"file:{quote(where)}?mode=ro", uri=True)) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{where} is not a CareLedger store ({error})") from None
    tables = {row[0] for row in rows}
    if EVENTS_TABLE["sqlite"] not in tables and (tables or not create):
        raise StoreError(
            f"{where} is not a CareLedger store (an SQLite database without CareLedger's tables)"
        )


def _check_postgres(database_url: str, env: dict[str, str], *, create: bool) -> None:
    import psycopg

    conninfo, schema = postgres_conninfo(database_url)
    timeout = max(
        2, min(int(env["POSTGRES_CONNECT_TIMEOUT"]) or PREFLIGHT_TIMEOUT, PREFLIGHT_TIMEOUT)
    )
    where = f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}"
    try:
        with psycopg.connect(conninfo, connect_timeout=timeout, autocommit=True) as conn:
            row = conn.execute(
                "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL",
                (schema, EVENTS_TABLE["postgres"]),
            ).fetchone()
    except psycopg.Error as error:
        raise StoreError(connection_failure(error, where, timeout)) from None
    if not create and not (row and row[0]):
        raise StoreError(
            f'no CareLedger store in database "{env["POSTGRES_DBNAME"]}" schema "{schema}"'
            f" at {where}: {CREATE_HINT}"
        )


def connection_failure(error: BaseException, where: str, timeout: int) -> str:
    """psycopg's account of a failed connection as one line: its cause, where."""
    text = str(error)
    if "Connection refused" in text:
        return f"connection refused at {where}: is PostgreSQL running there?"
    if "timeout expired" in text:
        return f"no answer from PostgreSQL at {where} within {timeout} s"
    if "failed to resolve host" in text:
        return f"cannot find the host of {where}: {text.split(':', 1)[0]}"
    cause = text.rsplit(" failed: ", 1)[-1].replace("FATAL:", "").strip()
    cause = cause.splitlines()[0].strip() if cause else type(error).__name__
    cause = cause.replace("password authentication failed", "authentication failed")
    return f"{cause} (PostgreSQL at {where})"
