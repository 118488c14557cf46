"""``careledger erase``: destroy a person's data key (UK GDPR Art. 17) and say what it did.

The reference is never echoed: the output names the person by pseudonym only.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated
from uuid import uuid4

import typer

from ledger.provenance import Provenance, Role
from projections.erasure import erase_person
from scripts.cli_common import DatabaseUrl, JsonOut, console, open_service

Reason = Annotated[
    str, typer.Option(help="Why, as a short code or legal basis: art17-request, retention, …")
]
EffectiveOn = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="The business date of the erasure (default today)."),
]
CommandId = Annotated[
    str | None,
    typer.Option(help="An idempotency key: repeat it to retry safely (default a fresh one)."),
]
Actor = Annotated[str, typer.Option(help="The administrator erasing (a pseudonymous id).")]


def erase(
    person: Annotated[str, typer.Argument(help="The person's reference, as budgets name them.")],
    reason: Reason,
    effective_on: EffectiveOn = None,
    command_id: CommandId = None,
    actor: Actor = "cli-admin",
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Erase a person's personal data: their reference, their representatives' ids and notes
    about them read as erased from now on; the money, the chain and the proofs are unchanged.
    Exit 1 when no data is held for them or it is already erased."""
    on = effective_on.date() if effective_on else date.today()
    prov = Provenance(actor, Role.ADMIN.value, command_id or f"erase-{uuid4().hex}", reason=reason)
    with open_service(database_url) as service:
        outcome = erase_person(service, person, on, prov)
    if json_out:
        typer.echo(json.dumps(outcome))
    else:
        typer.echo(f"erased person {outcome['person']} (record {outcome['erasure_id']})")
        console.print(f"{outcome['tokens_deleted']} representative token(s) deleted")
