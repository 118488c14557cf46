"""``careledger tokens``: create, list and revoke access tokens (stored only as hashes)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from ledger.provenance import plain_identity
from scripts.cli_common import (
    FOUND_A_PROBLEM,
    CliError,
    DatabaseUrl,
    JsonOut,
    Typer,
    console,
    open_service,
    require_registered,
)

tokens = Typer(help="Access tokens: create, list, revoke. Stored only as hashes.")


@tokens.command("create")
def tokens_create(
    role: Annotated[
        str, typer.Option(help="admin, council, provider, representative, auditor, regulator")
    ],
    council: Annotated[
        str | None, typer.Option(help="Council code (council; optional for auditor).")
    ] = None,
    provider: Annotated[str | None, typer.Option(help="Provider reference (provider).")] = None,
    budget: Annotated[str | None, typer.Option(help="Budget id (representative).")] = None,
    representative: Annotated[
        str | None, typer.Option(help="Representative id on that budget (representative).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A note to recognise the token by.")] = None,
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a token. It is shown once: only its hash is kept."""
    from api.auth import TokenStore

    council = plain_identity(council) if council is not None else None
    provider = plain_identity(provider) if provider is not None else None
    with open_service(database_url) as service:
        require_registered(service, council=council, provider=provider)
        token, who = TokenStore(service.db).create(
            role,
            label,
            council=council,
            provider=provider,
            budget_id=budget,
            representative_id=representative,
        )
    if json_out:
        typer.echo(json.dumps({"token": token, "token_id": who.token_id, "role": who.role.value}))
    else:
        typer.echo(token)
        console.print(f"token id {who.token_id} ({who.role.value}); keep the token safe")


@tokens.command("list")
def tokens_list(database_url: DatabaseUrl = None) -> None:
    """List tokens (never the tokens themselves)."""
    from api.auth import TokenStore

    with open_service(database_url) as service:
        rows = TokenStore(service.db).list()
    # The id in full on any terminal: it is what `tokens revoke` takes.
    table = Table(Column("token id", no_wrap=True, min_width=16), "role", "scope", "label",
                  "created", "revoked")  # fmt: skip
    for r in rows:
        scope = " ".join(
            f"{k}={r[k]}" for k in ("council", "provider", "budget_id", "representative_id") if r[k]
        )
        table.add_row(
            r["token_id"],
            r["role"],
            scope,
            r["label"] or "",
            r["created_at"],
            r["revoked_at"] or "",
        )
    Console().print(table)


@tokens.command("revoke")
def tokens_revoke(token_id: str, database_url: DatabaseUrl = None) -> None:
    """Revoke a token by its id; it stops working at once."""
    from api.auth import TokenStore

    with open_service(database_url) as service:
        found = TokenStore(service.db).revoke(token_id)
    if not found:
        raise CliError(f"no live token {token_id}", FOUND_A_PROBLEM)
    console.print(f"revoked {token_id}")
