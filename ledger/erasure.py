"""The record that a person's personal data was erased: their data key destroyed.

It holds no personal data: only the person's pseudonym, who erased (an administrator, by
pseudonymous id), when, and the reason as a short code (``art17-request``, ``retention``). The
sealed fields stay in the log byte for byte, so the hash chain and the Merkle proofs still
verify; without the key they can no longer be opened by anyone.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidCommandError
from ledger.ids import NAMESPACE
from ledger.provenance import Provenance, Role


def erasure_id(person: str) -> UUID:
    """One erasure record per person (their pseudonym)."""
    return uuid5(NAMESPACE, f"erasure\x1f{person}")


class PersonErasure(Aggregate):
    TOPIC = "careledger.erasure:PersonErasure"

    class Event(Aggregate.Event):
        TOPIC = "careledger.erasure:Event"
        effective_on: date
        prov: Provenance

    class Created(Event, Aggregate.Created):
        TOPIC = "careledger.erasure:Created"

    class Recorded(Created):
        TOPIC = "careledger.erasure:Recorded"
        person: str

    @staticmethod
    def create_id(person: str, **_: Any) -> UUID:
        return erasure_id(person)

    @classmethod
    def record(cls, person: str, effective_on: date, prov: Provenance) -> PersonErasure:
        """Only an administrator erases, and states why (``prov.reason``)."""
        if prov.actor_role != Role.ADMIN.value:
            raise InvalidCommandError("only administrators erase personal data", field="actor_role")
        if prov.reason is None:
            raise InvalidCommandError("an erasure states its reason", field="reason")
        return cls(person=person, effective_on=effective_on, prov=prov)

    @event(Recorded)
    def __init__(self, person: str, effective_on: date, prov: Provenance) -> None:
        self.person = person
        self.effective_on = effective_on
