"""``careledger erase`` and ``careledger retention``: destroy people's data keys (UK GDPR
Art. 17; the end of the retention period) and say what was done.

A reference is never echoed: the output names people by pseudonym only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

import typer

from ledger.council import DEFAULT_RETENTION_YEARS, MAX_RETENTION_YEARS, MIN_RETENTION_YEARS
from ledger.provenance import Provenance, Role, plain_identity
from projections.erasure import erase_note, erase_person, erase_pseudonym, erase_representative
from projections.retention import due_people
from projections.service import LedgerService
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
    typer.Option(help="An idempotency key (default: one of the person's own, so a rerun retries)."),
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
    outcome = _erased(
        lambda s: f"erase-{s.keys.pseudonym('person', person)}",
        lambda s, on, prov: erase_person(s, person, on, prov),
        reason, effective_on, command_id, actor, database_url,
    )  # fmt: skip
    if json_out:
        typer.echo(json.dumps(outcome))
    else:
        typer.echo(f"erased person {outcome['person']} (record {outcome['erasure_id']})")
        console.print(f"{outcome['tokens_deleted']} representative token(s) deleted")
        if outcome["plain_events"]:
            console.print(
                f"{outcome['plain_events']} event(s) written before sealing still hold their"
                f" personal data in plain text, at positions {_positions(outcome)}: the log"
                " keeps them byte for byte (reads show them as erased)"
            )


def erase_representative_command(
    representative_id: Annotated[str, typer.Argument(help="The representative's id.")],
    reason: Reason,
    effective_on: EffectiveOn = None,
    command_id: CommandId = None,
    actor: Actor = "cli-admin",
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Erase a representative's own personal data: their id reads as erased on every budget
    they represent and their tokens are deleted; the people they represent are untouched.
    Exit 1 when nothing is held under their key or it is already erased."""
    outcome = _erased(
        lambda s: f"erase-{s.keys.pseudonym('representative', representative_id)}",
        lambda s, on, prov: erase_representative(s, representative_id, on, prov),
        reason, effective_on, command_id, actor, database_url,
    )  # fmt: skip
    if json_out:
        typer.echo(json.dumps(outcome))
    else:
        typer.echo(f"erased representative {outcome['person']} (record {outcome['erasure_id']})")
        console.print(f"{outcome['tokens_deleted']} representative token(s) deleted")


def erase_note_command(
    note_id: Annotated[str, typer.Argument(help="The auditor's note's id.")],
    reason: Reason,
    effective_on: EffectiveOn = None,
    command_id: CommandId = None,
    actor: Actor = "cli-admin",
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Erase one auditor's note about no person (a council's or a care firm's record): its own
    key is destroyed and its text reads as erased. A note about a budget is erased with its
    person (careledger erase); exit 1 for it, an unknown note or one already erased."""
    outcome = _erased(
        lambda s: f"erase-note-{note_id}"[:64],
        lambda s, on, prov: erase_note(s, note_id, on, prov),
        reason, effective_on, command_id, actor, database_url,
    )  # fmt: skip
    if json_out:
        typer.echo(json.dumps(outcome))
    else:
        typer.echo(f"erased note {outcome['note_id']} (record {outcome['erasure_id']})")


def _erased(
    default_id: Callable[[LedgerService], str],
    erase: Callable[[LedgerService, date, Provenance], dict[str, Any]],
    reason: str,
    effective_on: datetime | None,
    command_id: str | None,
    actor: str,
    database_url: str | None,
) -> dict[str, Any]:
    """One erasure command from the command line (a person's, a representative's, a note's):
    its provenance checked before the store is opened, its command id by default the subject's
    own (so a rerun retries), run by the administrator."""
    on = effective_on.date() if effective_on else date.today()
    Provenance(actor, Role.ADMIN.value, command_id or "erase", reason=reason)  # checked first
    with open_service(database_url) as service:
        key = command_id or default_id(service)
        return erase(service, on, Provenance(actor, Role.ADMIN.value, key, reason=reason))


def retention(
    apply: Annotated[bool, typer.Option("--apply", help="Erase everyone listed.")] = False,
    on: EffectiveOn = None,
    actor: Actor = "cli-admin",
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List the people whose records have passed their council's retention policy (years after
    the end of the financial year in which their last budget ended; six unless the council set
    another with retention-policy); with --apply, erase them."""
    today = on.date() if on else date.today()
    with open_service(database_url) as service:
        service.runner.catch_up()
        councils = [r["council"] for r in service.db.query("SELECT DISTINCT council FROM v_people")]
        policy = service.app.retention_policies(sorted(councils))
        due = due_people(service.db, today, DEFAULT_RETENTION_YEARS, policy)
        erased = [_erase_due(service, d.person, today, actor) for d in due] if apply else []
    rows: list[dict[str, Any]] = [
        {"person": d.person, "councils": list(d.councils), "budgets": d.budgets,
         "last_ended_on": d.last_ended_on.isoformat(),
         "retained_until": d.retained_until.isoformat(), "erased": d.person in erased}
        for d in due
    ]  # fmt: skip
    if json_out:
        typer.echo(json.dumps({"on": today.isoformat(), "retention_years": policy, "people": rows}))
        return
    for r in rows:
        typer.echo(f"{r['person']}  {','.join(r['councils'])}  {r['budgets']} budget(s)"
                   f"  ended {r['last_ended_on']}  kept until {r['retained_until']}"
                   + ("  erased" if r["erased"] else ""))  # fmt: skip
    verb = "erased" if apply else "due for erasure (run with --apply to erase)"
    console.print(f"{len(erased) if apply else len(rows)} person(s) {verb}")


def retention_policy(
    council: Annotated[str, typer.Argument(help="The council's ONS code.")],
    years: Annotated[
        int,
        typer.Argument(
            help=f"Years kept after the end of the financial year in which a person's last"
            f" budget ended ({MIN_RETENTION_YEARS}..{MAX_RETENTION_YEARS}).",
        ),
    ],
    effective_on: EffectiveOn = None,
    command_id: CommandId = None,
    actor: Actor = "cli-admin",
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Set a council's retention policy (an event on its record and the audit trail), which
    careledger retention applies. Exit 1 for an unknown council or a period out of bounds."""
    on = effective_on.date() if effective_on else date.today()
    code = plain_identity(council)
    key = command_id or f"retention-policy-{code}-{years}-{on.isoformat()}"
    with open_service(database_url) as service:
        prov = Provenance(actor, Role.ADMIN.value, key[:64])
        outcome = service.app.set_retention_policy(code, years, on, prov)
    if json_out:
        typer.echo(json.dumps({**outcome, "retention_years": years}))
    else:
        typer.echo(f"council {code} keeps records {years} year(s) after the financial year ends")


def _erase_due(service: LedgerService, person: str, today: date, actor: str) -> str:
    """One retention erasure; its command id is the person's, so a rerun repeats nothing."""
    prov = Provenance(actor, Role.ADMIN.value, f"retention-{person}", reason="retention")
    return str(erase_pseudonym(service, person, today, prov)["person"])


def migrate_personal_data(
    apply: Annotated[
        bool, typer.Option("--apply", help="Make a data key for each person found.")
    ] = False,
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Report the events written before sealing that still hold personal data in plain text
    (they cannot be rewritten: the chain and the proofs cover their bytes); with --apply, make
    each such person a data key so what is recorded for them from now on is sealed and they
    can be erased (the old plain bytes stay in the log, and the report says so)."""
    from projections.migrate import scan

    with open_service(database_url) as service:
        report = scan(service.app, service.keys, apply=apply).as_dict()
    if json_out:
        typer.echo(json.dumps(report))
        return
    typer.echo(
        f"{report['events']} events scanned; {report['plain_events']} hold personal data in"
        f" plain text, for {report['people']} person(s): {report['plain_fields']}"
    )
    for person, positions in report["plain_positions"].items():
        count = report["plain_events_by_person"][person]
        typer.echo(f"  {person}: {count} event(s) at {_positions({'plain_positions': positions})}")
    if apply:
        typer.echo(f"{report['keys_made']} data key(s) made")
    console.print(report["note"])


def _positions(found: dict[str, Any], shown: int = 10) -> str:
    positions = [str(p) for p in found["plain_positions"]]
    more = f" … (+{len(positions) - shown})" if len(positions) > shown else ""
    return ", ".join(positions[:shown]) + more
