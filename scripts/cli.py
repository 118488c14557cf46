"""The ``careledger`` command line."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from api.settings import get_settings

app = typer.Typer(
    help="CareLedger: an event-sourced ledger for personal budgets in adult social care."
)

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="Overrides CARELEDGER_DATABASE_URL.")
]


@app.callback()
def main() -> None:
    """CareLedger's command line."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (CARELEDGER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CARELEDGER_PORT).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API."""
    from api.app import create_app

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    bind_host, bind_port = host or settings.host, port or settings.port
    typer.echo(f"CareLedger on http://{bind_host}:{bind_port}  (health: /healthz, docs: /docs)")
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_config=None)
