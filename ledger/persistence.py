"""One setting chooses the event store: ``CARELEDGER_DATABASE_URL``.

``sqlite:///careledger.db`` (embedded default) · ``postgresql://user@host:port/db?schema=s``
(production) · ``memory://`` (unit tests only).

PostgreSQL URL options, all optional: ``schema``, ``pool_size``, ``max_overflow``, and the bounds
on every wait (whole seconds): ``connect_timeout`` (a connection from the pool, default 10),
``lock_timeout`` (any lock, reads included, default 10) and ``statement_timeout`` (default 0, no
limit: index builds and exports of a national ledger run long). A request that exhausts one fails
with :class:`StoreUnavailableError` instead of hanging.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from eventsourcing.persistence import PersistenceError

from ledger.errors import InvalidCommandError

DEFAULT_DATABASE_URL = "sqlite:///careledger.db"

_PG_QUERY_SETTINGS = {
    "schema": "POSTGRES_SCHEMA",
    "pool_size": "POSTGRES_POOL_SIZE",
    "max_overflow": "POSTGRES_MAX_OVERFLOW",
    "lock_timeout": "POSTGRES_LOCK_TIMEOUT",
    "connect_timeout": "POSTGRES_CONNECT_TIMEOUT",
    "statement_timeout": "POSTGRES_STATEMENT_TIMEOUT",  # ours: the library has no such setting
}


class StoreUnavailableError(PersistenceError):
    """The database did not answer in time: unreachable, pool exhausted, or a lock or statement
    timeout. Deliberately not one of the library's retried errors (it retries those ten times,
    multiplying every timeout by ten): the caller fails now and retries with the same key."""


def persistence_env(url: str) -> dict[str, str]:
    """The eventsourcing library's settings for a database URL."""
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if parts.netloc or not path:
            raise InvalidCommandError(
                "write SQLite URLs as sqlite:///relative/path.db", field="url"
            )
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    if parts.scheme in ("postgresql", "postgres"):
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            # Never POSTGRES_ENABLE_DB_FUNCTIONS: unsafe with several table sets per schema.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_STATEMENT_TIMEOUT": "0",
            # Large saves (big invoice batches) must not use psycopg's pipeline mode.
            "APPLICATION_RECORDER_TOPIC": "projections.stores.pg_recorder:LargeSaveRecorder",
        }
        for key, values in parse_qs(parts.query).items():
            if key not in _PG_QUERY_SETTINGS:
                raise InvalidCommandError(f"unknown database URL option {key!r}", field="url")
            env[_PG_QUERY_SETTINGS[key]] = values[-1]
        return env
    raise InvalidCommandError(
        f"unknown database URL scheme {parts.scheme or '(none)'!r}: a database URL starts sqlite:///,"
        " postgresql:// or memory://",
        field="url",
    )
