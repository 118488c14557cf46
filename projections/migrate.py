"""``migrate-personal-data``: what a store written before sealing still holds in the clear.

Stored events cannot be rewritten: the hash chain and the Merkle proofs cover their exact bytes.
So this reports, honestly, which events still hold personal data in plain text (a person's
reference, a representative's id, a reason given on a budget or one of its invoices, in the
events and in the command records, an auditor's note), for whom (by pseudonym; a note about no
person under "(no person)"), at which positions, and that erasing those people cannot remove it
from the log. With
``apply`` it does what can be done: it makes a data key for each such person, so everything
recorded for them from now on is sealed and they can be erased (their later data, the
representatives' tokens and the person's reference on every read go; the old plain bytes stay).
Views hold only pseudonyms (``v_people`` pseudonymises plain references as it reads them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ledger.audit_note import AuditNote
from ledger.budget import PersonalBudget
from ledger.command_record import CommandRecord
from ledger.invoice import Invoice
from ledger.personal import is_sealed, join_key, key_subject
from ledger.provenance import Role
from projections.db import ViewDb
from projections.personal import KeyStore

PAGE = 2000
NO_PERSON = "(no person)"
UNKNOWN = "(unknown)"
MAX_POSITIONS = 1000  # positions listed per person (the count is always whole)
NOT_PERSONAL = ("erase_person",)  # an erasure's reason is a code about no one (the record's own)
REASONED = (PersonalBudget.Event, Invoice.Event, CommandRecord.Event)
REP_EVENTS = (
    PersonalBudget.RepresentativeAppointed,
    PersonalBudget.RepresentativeRevoked,
    PersonalBudget.DecisionRecorded,
)


@dataclass
class Report:
    events: int = 0  # events scanned
    plain_events: int = 0  # events holding personal data in the clear
    fields: Counter[str] = field(default_factory=Counter)  # plain fields by name
    people: dict[str, list[int]] = field(default_factory=dict)  # pseudonym -> positions
    keyed: int = 0  # keys made by apply

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "plain_events": self.plain_events,
            "plain_fields": dict(sorted(self.fields.items())),
            "people": len([p for p in self.people if p not in (NO_PERSON, UNKNOWN)]),
            "plain_events_by_person": {p: len(v) for p, v in sorted(self.people.items())},
            "plain_positions": {p: v[:MAX_POSITIONS] for p, v in sorted(self.people.items())},
            "keys_made": self.keyed,
            "rewritable": False,
            "note": "events are kept byte for byte (the chain and the Merkle proofs cover"
            " them): the plain personal data in them stays in the log, and erasing these"
            " people cannot remove it from there",
        }


def plain_fields(event: Any, person: str | None) -> list[str]:
    """The personal fields of one event (about the person ``person``, a pseudonym) that are
    stored in the clear."""
    found = []
    if isinstance(event, PersonalBudget.Opened) and not is_sealed(event.person_ref):
        found.append("person_ref")
    if isinstance(event, REP_EVENTS) and not is_sealed(event.representative_id):
        found.append("representative_id")
    if isinstance(event, AuditNote.NoteAdded) and not is_sealed(event.note):
        found.append("note")
    if isinstance(event, CommandRecord.Accepted) and event.command in NOT_PERSONAL:
        return found
    prov = getattr(event, "prov", None)
    if isinstance(event, REASONED) and prov is not None:
        if prov.reason is not None and not is_sealed(prov.reason):
            found.append("reason")
        if prov.on_behalf_of is not None and prov.on_behalf_of != person:
            found.append("on_behalf_of")
        rep = getattr(event, "representative_id", None)
        if prov.actor_role == Role.REPRESENTATIVE and rep is not None and not is_sealed(rep):
            found.append("actor_id")
    return found


@dataclass
class Owners:
    """Whose each record is, as the scan goes: budget -> person, invoice -> budget, and the
    person each command id's events were about (its command record follows them)."""

    people: dict[str, str] = field(default_factory=dict)
    budgets: dict[str, str] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)

    def person(self, event: Any, aggregate_id: str, keys: KeyStore) -> str:
        if isinstance(event, PersonalBudget.Opened):
            stored = event.person_ref
            found = key_subject(stored) if is_sealed(stored) else keys.pseudonym("person", stored)
            self.people[aggregate_id] = found
        if isinstance(event, Invoice.Posted):
            self.budgets[aggregate_id] = str(event.budget_id)
        prov = getattr(event, "prov", None)
        if isinstance(event, CommandRecord.Event):
            return self.commands.get(f"{prov and prov.command_id}", UNKNOWN)
        budget = getattr(event, "budget_id", None) or self.budgets.get(aggregate_id, aggregate_id)
        if isinstance(event, AuditNote.NoteAdded) and event.budget_id is None:
            return NO_PERSON
        person = self.people.get(str(budget), UNKNOWN)
        if prov is not None and person != UNKNOWN:
            self.commands[prov.command_id] = person
        return person


def scan(app: Any, keys: KeyStore, apply: bool = False) -> Report:
    """Every stored event, page by page; with ``apply``, a key for each person found and for
    each representative without one of their own (appointed before it existed), so each can
    be erased on their own from then on."""
    report = Report()
    owners = Owners()
    reps: set[str] = set()
    start = 1
    while page := app.recorder.select_notifications(start, PAGE):
        for n in page:
            event = app.mapper.to_domain_event(n)
            report.events += 1
            if isinstance(event, REP_EVENTS):
                stored = event.representative_id
                reps.add(join_key(stored) if is_sealed(stored) else _rep(keys, stored))
            person = owners.person(event, str(n.originator_id), keys)
            fields = plain_fields(event, person)
            if fields:
                report.plain_events += 1
                report.fields.update(fields)
                report.people.setdefault(person, []).append(n.id)
        start = page[-1].id + 1
    if apply:
        people = [p for p in report.people if p not in (NO_PERSON, UNKNOWN)]
        report.keyed = sum(keys.ensure(p) for p in [*people, *sorted(reps)])
    return report


def _rep(keys: KeyStore, plain_id: str) -> str:
    return keys.pseudonym("representative", plain_id)


def plain_positions(app: Any, db: ViewDb, person: str) -> list[int]:
    """The log positions of the events about ``person`` (a pseudonym) that hold their personal
    data in plain text — written before sealing, kept byte for byte, beyond erasure's reach:
    the events of their budgets, of those budgets' invoices and notes (``v_audit``), and the
    command records of the commands that wrote those."""
    rows = db.query(
        "SELECT a.position, a.command_id FROM v_audit a JOIN v_people p"
        " ON a.budget_id = p.budget_id WHERE p.person = ? ORDER BY a.position",
        (person,),
    )
    found, commands = [], set()
    for row in rows:
        if _plain_at(app, int(row["position"]), person):
            found.append(int(row["position"]))
            commands.add(str(row["command_id"]))
    for command_id in sorted(commands):
        records = db.query(
            "SELECT position FROM v_audit WHERE aggregate_kind = 'command' AND command_id = ?",
            (command_id,),
        )
        found += [int(r["position"]) for r in records if _plain_at(app, int(r["position"]), person)]
    return sorted(set(found))


def _plain_at(app: Any, position: int, person: str) -> bool:
    page = app.recorder.select_notifications(position, 1)
    if not page or page[0].id != position:
        return False
    return bool(plain_fields(app.mapper.to_domain_event(page[0]), person))
