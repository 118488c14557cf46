"""``careledger serve``: check the store, create its whole schema once, then start uvicorn."""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Annotated, Any

import typer
import uvicorn

from api.settings import Settings, get_settings
from ledger.errors import InvalidCommandError
from projections.personal import load_secret, secret_path
from projections.replicas import standby_urls
from projections.service import LedgerService
from projections.store_check import check_store
from scripts.cli_common import (
    CliError,
    DatabaseUrl,
    console,
    database_url,
    ensure_schema,
    open_service,
)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (CARELEDGER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CARELEDGER_PORT).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (PostgreSQL only for > 1).")
    ] = 1,
    demo_if_empty: Annotated[
        bool, typer.Option(help="Load the demo into an empty store and print ready tokens first.")
    ] = False,
    database_url_: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API (creating the store if there is none)."""
    url = database_url(database_url_)
    if workers > 1 and not url.startswith("postgres"):
        raise CliError("several workers need PostgreSQL; SQLite serves from one process")
    check_store(url, create=True)
    if not url.startswith("memory"):
        load_secret(secret_path(url))  # a damaged pseudonym secret: one line, not a traceback
    ensure_schema(url)  # once, here: the workers then find every table made
    # The app (in this process or in each worker) reads its settings afresh from here.
    os.environ["CARELEDGER_DATABASE_URL"] = url
    get_settings.cache_clear()
    settings = Settings()
    try:
        standby_urls(settings.read_database_url)
    except InvalidCommandError as error:
        raise CliError(f"CARELEDGER_READ_DATABASE_URL: {error.detail}") from None
    bind_host, bind_port = host or settings.host, port or settings.port
    if demo_if_empty:
        _prepare_demo(url, f"http://{bind_host}:{bind_port}")
    typer.echo(f"CareLedger on http://{bind_host}:{bind_port}  (health: /healthz, docs: /docs)")
    typer.echo(f"Web console: http://{bind_host}:{bind_port}/ui/sign-in  (paste a token once)")
    _check_console_assets()
    _run(bind_host, bind_port, workers)


def _run(host: str, port: int, workers: int) -> None:
    """uvicorn, as ``uvicorn.run`` starts it, except that several workers share a listening
    socket that says it is TCP: uvicorn binds it as ``socket(family)`` (protocol 0), so asyncio
    did not set TCP_NODELAY on the connections it accepted, and every answer on a kept-alive
    connection waited for the client's delayed ACK (~40 ms a request with ``--workers 2``,
    against ~5 ms with one worker; measured 3 December 2026)."""
    settings: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_config": None,
        "access_log": False,  # the app logs each request by route, never a path's personal data
    }
    if workers == 1:  # asyncio binds the socket itself, as TCP
        uvicorn.run("api.app:create_app", **settings)
        return
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("api.app:create_app", **settings)

    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[tcp_socket(config.bind_socket())]).run()


def tcp_socket(sock: socket.socket) -> socket.socket:
    """The same listening socket, known as TCP: connections accepted from it are TCP sockets
    to asyncio, which then sets TCP_NODELAY on each (``asyncio.base_events._set_nodelay``)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return sock
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


def _prepare_demo(url: str, base: str) -> None:
    """``make run``: the default demo into an empty store, then a token for each kind of user."""
    from api.auth import TokenStore
    from scripts.demo_cli import _load

    with open_service(url) as service:
        if service.runner.head() == 0:
            console.print("the store is empty: loading the demo (England 2010-11, seed 2011) …")
            summary = _load(service, 2011, 152, None, 52)
            console.print(f"loaded {summary.events} events in {summary.seconds:.0f} s")
        service.runner.catch_up()
        council, provider = demo_scope(service)
        store = TokenStore(service.db)
        ready = [
            ("admin", {}),
            ("council", {"council": council}),
            ("provider", {"provider": provider}),
            ("auditor", {}),
            ("regulator", {}),
        ]
        lines = [(role, scope, store.create(role, "make run", **scope)[0]) for role, scope in ready]
    typer.echo(f"\nAPI docs: {base}/docs   OpenAPI: {base}/openapi.json   health: {base}/healthz")
    typer.echo(f"Web console: {base}/ui/sign-in  (paste one of these tokens to sign in)")
    typer.echo("Ready tokens (created now; revoke with careledger tokens revoke):")
    for role, scope, token in lines:
        where = " ".join(f"{k}={v}" for k, v in scope.items())
        typer.echo(f"  {role:<10} {where:<24} {token}")
    typer.echo(
        f"Try: curl -H 'Authorization: Bearer <auditor token>' {base}/v1/national/progress\n"
    )


def _check_console_assets() -> None:
    """Say so if the console's browser assets were never fetched (``make install`` does)."""
    from api.console.assets import missing_assets

    missing = missing_assets()
    if missing:
        typer.echo(
            f"warning: the console's assets are missing ({', '.join(missing)}):"
            " run `make install` (npm ci) for the console, /docs and /redoc",
            err=True,
        )


def demo_scope(service: LedgerService) -> tuple[str, str]:
    """The council and the care firm ``make run`` makes tokens for: the first council, and the
    firm that invoiced it most, so the care firm's token has invoices to show."""
    council = service.db.query("SELECT MIN(code) AS c FROM v_councils")[0]["c"]
    busiest = service.db.query(
        "SELECT provider, COUNT(*) AS n FROM v_invoices WHERE council = ?"
        " GROUP BY provider ORDER BY n DESC, provider LIMIT 1",
        (council,),
    )
    if busiest:
        return council, busiest[0]["provider"]
    any_firm = "SELECT MIN(provider) AS p FROM v_refs WHERE kind = 'provider'"
    return council, service.db.query(any_firm)[0]["p"]
