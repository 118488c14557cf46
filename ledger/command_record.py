"""The record of an accepted command, saved atomically with what it changed (idempotency).

Its identity comes from (account, command id) — ``Provenance.idempotency_scope``, or the actor
when a command names no account — so a repeat of the same command finds it, whichever of the
account's tokens sends it, and two racing copies of one command cannot both be saved.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.ids import actor_command_record_id, command_record_id
from ledger.provenance import Provenance


def record_id(prov: Provenance) -> UUID:
    """Where the record of this command is: in its account's namespace, else its actor's."""
    if prov.idempotency_scope is None:
        return actor_command_record_id(prov.actor_id, prov.command_id)
    return command_record_id(prov.idempotency_scope, prov.command_id)


def legacy_record_id(prov: Provenance) -> UUID | None:
    """Where a record of this command id made by this actor before accounts scoped command ids
    would be (None when the command names no account: ``record_id`` is already that)."""
    if prov.idempotency_scope is None:
        return None
    return actor_command_record_id(prov.actor_id, prov.command_id)


def fingerprint(command: str, args: dict[str, Any]) -> str:
    """SHA-256 of the command's canonical JSON: same command, same fingerprint."""
    canonical = json.dumps(
        {"command": command, "args": args}, sort_keys=True, separators=(",", ":"), default=_plain
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, date | UUID):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    raise TypeError(type(value))


class CommandRecord(Aggregate):
    TOPIC = "careledger.command:CommandRecord"

    class Event(Aggregate.Event):
        TOPIC = "careledger.command:Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "careledger.command:Created"

    class Accepted(Created):
        TOPIC = "careledger.command:Accepted"
        command: str
        fingerprint: str
        outcome: dict[str, Any]
        prov: Provenance

    @staticmethod
    def create_id(prov: Provenance, **_: Any) -> UUID:
        return record_id(prov)

    @event(Accepted)
    def __init__(
        self, command: str, fingerprint: str, outcome: dict[str, Any], prov: Provenance
    ) -> None:
        self.command = command
        self.fingerprint = fingerprint
        self.outcome = dict(outcome)
