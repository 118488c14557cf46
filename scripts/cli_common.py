"""What every ``careledger`` command shares: the store option, opening the store, one-line errors.

* ``DatabaseUrl`` is the one ``--database-url`` option: annotate a command's parameter with it
  and open the store with ``open_service(flag)``. ``database_url(flag)`` resolves it the same
  way everywhere: the flag, else ``CARELEDGER_DATABASE_URL``, else ``.env``, else
  ``sqlite:///careledger.db``.
* ``open_service(flag)`` refuses a missing or foreign store, or an unreachable database, in one
  line before opening anything; only ``create=True`` (``serve``, ``demo``) makes a new store.
* ``Typer`` is ``typer.Typer`` whose commands report every expected failure as one line on
  stderr (``error: …``) with an exit code, never a traceback. Raise ``CliError`` for your own.

Exit codes: 0 done; 1 the command ran and found a problem (verification failed, no such budget,
the ledger refused); 2 it could not run (bad input, no store, the database unreachable).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, NoReturn, TypeVar

import psycopg
import typer
from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError
from rich.console import Console

from api.auth import TokenStore
from api.settings import Settings
from ledger.errors import InvalidCommandError, LedgerError
from ledger.ids import council_id, provider_id
from ledger.persistence import StoreUnavailableError, persistence_env
from projections.service import LedgerService
from projections.signing import SigningKeyError
from projections.store_check import StoreError, check_store
from projections.stores.pg_schema import SchemaLockTimeoutError, schema_lock

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="The store (sqlite:///path.db or postgresql://user@host/db?schema=s); overrides"
        " CARELEDGER_DATABASE_URL and .env. Default sqlite:///careledger.db.",
        show_default=False,
    ),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]

USAGE, FOUND_A_PROBLEM = 2, 1


class CliError(Exception):
    """A failure the user can act on: one line, and the exit code to leave with."""

    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def database_url(flag: str | None) -> str:
    """The store a command uses: the flag, else the environment, else .env, else the default."""
    return flag or Settings().database_url


@contextmanager
def open_service(
    flag: str | None, *, inline: bool = False, create: bool = False
) -> Iterator[LedgerService]:
    """The store named by ``flag`` (see ``database_url``), checked first; closed after."""
    url = database_url(flag)
    check_store(url, create=create)
    if create:
        ensure_schema(url)
    service = LedgerService(url, inline=inline)
    try:
        yield service
    finally:
        service.close()


def ensure_schema(url: str) -> None:
    """Create the store's whole schema (event store, views, tracking, tokens, refusals) once,
    on PostgreSQL under the schema lock, e.g. in ``serve``'s parent before workers start."""
    env = persistence_env(url)
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        _create_all(url)
        return
    from psycopg import sql

    from projections.db import postgres_conninfo

    conninfo, schema = postgres_conninfo(url)
    with schema_lock(conninfo):
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        _create_all(url)


def _create_all(url: str) -> None:
    service = LedgerService(url, inline=False)
    try:
        TokenStore(service.db)
    finally:
        service.close()


def require_registered(
    service: LedgerService, *, council: str | None = None, provider: str | None = None
) -> None:
    """A council or care firm the store never registered (a typo, another store's code) is one
    line and exit 1, never an empty answer or a token that can see nothing. Pass the code in
    its plain form (``ledger.provenance.plain_identity``)."""
    if council is not None and not service.app.exists(council_id(council)):
        raise CliError(f"no council {council} is registered in this store", FOUND_A_PROBLEM)
    if provider is not None and not service.app.exists(provider_id(provider)):
        raise CliError(f"no care firm {provider} is registered in this store", FOUND_A_PROBLEM)


def fail(message: str, code: int = USAGE) -> NoReturn:
    """Leave with one line on stderr."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def reporting_errors(command: F) -> F:
    """``command`` with every expected failure turned into one line and an exit code."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CliError as error:
            fail(error.message, error.code)
        except StoreError as error:
            fail(str(error))
        except InvalidCommandError as error:
            fail(error.detail)
        except LedgerError as error:
            fail(error.detail, FOUND_A_PROBLEM)
        except (StoreUnavailableError, OperationalError, InterfaceError) as error:
            fail(f"the database did not answer: {_first_line(error)}")
        except SchemaLockTimeoutError as error:
            fail(str(error))
        except SigningKeyError as error:  # the signing key or the pseudonym secret file
            fail(str(error))
        except (PersistenceError, psycopg.Error) as error:  # e.g. no right to create tables
            fail(f"the database refused: {_first_line(error)}")

    return run  # type: ignore[return-value]


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class Typer(typer.Typer):
    """A ``typer.Typer`` whose commands report errors in one line (``reporting_errors``), and
    whose unexpected tracebacks never print local variables (a database password among them)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("pretty_exceptions_show_locals", False)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)

        def decorator(function: F) -> F:
            register(reporting_errors(function))
            return function

        return decorator


def as_at_position(service: LedgerService, as_at: datetime | None) -> int | None:
    """The log position ``--as-at`` resolves to (None: now): the same resolver as the API's
    ``as_at``; an instant before the first event or in the future is one clear line."""
    from projections.asat import AsAtOutOfRangeError, resolve

    try:
        return resolve(service.db, as_at)
    except AsAtOutOfRangeError as error:
        raise CliError(f"--as-at: {error}") from None
