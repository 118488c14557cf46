"""One process at a time creates tables in a PostgreSQL database: a session advisory lock.

Two processes creating the same tables at once (``serve --workers 3`` on an empty store, or two
servers started together) collide in PostgreSQL's catalogue: ``tuple concurrently updated`` on the
event store's ``CREATE OR REPLACE FUNCTION``, or a duplicate key in ``pg_type`` on ``CREATE TABLE
IF NOT EXISTS``. Every piece of DDL the ledger runs (the event store's tables, the views', tokens,
refusals, tracking) runs inside :func:`schema_lock`: ``pg_advisory_lock`` on one fixed key, held
by its own connection for as long as the DDL takes. The lock is re-entrant within a process (the
server's parent creates the whole schema under one hold, its parts taking the lock again inside),
so a process never waits for itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict

# "CareLdgr" as a signed 64-bit integer: one key for every CareLedger schema in a database.
SCHEMA_LOCK_KEY = int.from_bytes(b"CareLdgr", "big", signed=True)
SCHEMA_LOCK_WAIT = 60  # seconds a process waits for another one's DDL before giving up

_guard = threading.RLock()
_held: dict[tuple[str, str, str], int] = {}


class SchemaLockTimeoutError(Exception):
    """Another process held the schema lock for longer than ``SCHEMA_LOCK_WAIT`` seconds."""


def _target(params: dict[str, Any]) -> tuple[str, str, str]:
    return (str(params.get("host")), str(params.get("port")), str(params.get("dbname")))


@contextmanager
def schema_lock(conninfo: str = "", **params: Any) -> Iterator[None]:
    """Hold the database's schema lock (``conninfo`` and/or libpq ``params`` name the database;
    its own connection, so the DDL may use any other). Re-entrant in a process."""
    target = _target({**conninfo_to_dict(conninfo), **params})
    with _guard:
        if _held.get(target):
            _held[target] += 1
            try:
                yield
            finally:
                _held[target] -= 1
            return
        with _locked_connection(conninfo, params):
            _held[target] = 1
            try:
                yield
            finally:
                _held[target] = 0


@contextmanager
def _locked_connection(conninfo: str, params: dict[str, Any]) -> Iterator[None]:
    options = f"-c lock_timeout={SCHEMA_LOCK_WAIT}s"
    with psycopg.connect(conninfo, autocommit=True, **{**params, "options": options}) as conn:
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        except errors.LockNotAvailable:
            raise SchemaLockTimeoutError(
                f"another process held the schema lock for {SCHEMA_LOCK_WAIT} s"
            ) from None
        try:
            yield
        finally:
            # Closing the session releases the lock in any case; unlock first to be prompt.
            with suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
