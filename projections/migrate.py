"""``migrate-personal-data``: what a store written before sealing still holds in the clear.

Stored events cannot be rewritten: the hash chain and the Merkle proofs cover their exact bytes.
So this reports, honestly, which events still hold personal data in plain text (a person's
reference, a representative's id, a reason on a budget, an auditor's note about a budget), for
whom (by pseudonym), and that erasing those people cannot remove it from the log. With
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
from ledger.personal import is_sealed, key_subject
from ledger.provenance import Role
from projections.personal import KeyStore

PAGE = 2000
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
    people: dict[str, int] = field(default_factory=dict)  # pseudonym -> plain events
    keyed: int = 0  # keys made by apply

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "plain_events": self.plain_events,
            "plain_fields": dict(sorted(self.fields.items())),
            "people": len(self.people),
            "keys_made": self.keyed,
            "rewritable": False,
            "note": "events are kept byte for byte (the chain and the Merkle proofs cover"
            " them): the plain personal data in them stays in the log, and erasing these"
            " people cannot remove it from there",
        }


def plain_fields(event: Any, person: str | None) -> list[str]:
    """The personal fields of one event (on the budget of ``person``, a pseudonym) that are
    stored in the clear."""
    found = []
    if isinstance(event, PersonalBudget.Opened) and not is_sealed(event.person_ref):
        found.append("person_ref")
    if isinstance(event, REP_EVENTS) and not is_sealed(event.representative_id):
        found.append("representative_id")
    if isinstance(event, AuditNote.NoteAdded) and event.budget_id and not is_sealed(event.note):
        found.append("note")
    prov = getattr(event, "prov", None)
    if isinstance(event, PersonalBudget.Event) and prov is not None:
        if prov.reason is not None and not is_sealed(prov.reason):
            found.append("reason")
        if prov.on_behalf_of is not None and prov.on_behalf_of != person:
            found.append("on_behalf_of")
        rep = getattr(event, "representative_id", None)
        if prov.actor_role == Role.REPRESENTATIVE and rep is not None and not is_sealed(rep):
            found.append("actor_id")
    return found


def scan(app: Any, keys: KeyStore, apply: bool = False) -> Report:
    """Every stored event, page by page; with ``apply``, a key for each person found."""
    report = Report()
    people: dict[str, str] = {}  # budget id -> pseudonym, for later events of the budget
    start = 1
    while page := app.recorder.select_notifications(start, PAGE):
        for n in page:
            event = app.mapper.to_domain_event(n)
            report.events += 1
            budget = str(getattr(event, "budget_id", None) or n.originator_id)
            if isinstance(event, PersonalBudget.Opened):
                stored = event.person_ref
                sealed = is_sealed(stored)
                people[budget] = key_subject(stored) if sealed else keys.pseudonym("person", stored)
            fields = plain_fields(event, people.get(budget))
            if fields:
                report.plain_events += 1
                report.fields.update(fields)
                person = people.get(budget, "(unknown)")
                report.people[person] = report.people.get(person, 0) + 1
        start = page[-1].id + 1
    if apply:
        report.keyed = sum(keys.ensure(p) for p in report.people if p != "(unknown)")
    return report
