"""An auditor's note: a finding or remark about the ledger, itself an event in the audit trail.

A note never moves money and never changes another record. It may name the entry it is about
(``<aggregate uuid>/<version>``); the council, budget and provider of that entry ride along, so
the note shows up wherever the trail is filtered by them. Notes are short (at most 500 printable
characters) and, like everything else in the ledger, can never be edited or removed.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidCommandError
from ledger.ids import NAMESPACE
from ledger.personal import IN_THE_CLEAR, PersonalData, context
from ledger.provenance import Provenance, Role, check_ref

MAX_NOTE_LENGTH = 500


def audit_note_id(actor_id: str, command_id: str) -> UUID:
    """One note per command: its id comes from the auditor and the command id."""
    return uuid5(NAMESPACE, f"audit-note\x1f{actor_id}\x1f{command_id}")


def note_subject(personal: PersonalData, note_id: UUID) -> str:
    """The key a note about no person is sealed under: the note's own (its pseudonym), so an
    administrator can erase that one note (it may name someone) without touching anything else."""
    return personal.pseudonym("note", str(note_id))


def check_note(note: str) -> str:
    """1..500 printable characters (no control, formatting or bidi characters), not blank."""
    if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE_LENGTH:
        raise InvalidCommandError(
            f"a note is 1..{MAX_NOTE_LENGTH} characters and not blank",
            field="note",
            max_length=MAX_NOTE_LENGTH,
        )
    if not note.isprintable():
        raise InvalidCommandError("a note holds printable characters only", field="note")
    return note


class AuditNote(Aggregate):
    TOPIC = "careledger.audit:AuditNote"

    class Event(Aggregate.Event):
        TOPIC = "careledger.audit:Event"
        effective_on: date
        prov: Provenance

    class Created(Event, Aggregate.Created):
        TOPIC = "careledger.audit:Created"

    class NoteAdded(Created):
        TOPIC = "careledger.audit:NoteAdded"
        subject_entry_id: str | None
        code: str
        note: str
        council: str | None
        budget_id: str | None
        provider: str | None

    @staticmethod
    def create_id(prov: Provenance, **_: Any) -> UUID:
        return audit_note_id(prov.actor_id, prov.command_id)

    @classmethod
    def add(
        cls,
        subject_entry_id: str | None,
        code: str,
        note: str,
        effective_on: date,
        prov: Provenance,
        *,
        council: str | None = None,
        budget_id: str | None = None,
        provider: str | None = None,
        person: str | None = None,
        personal: PersonalData = IN_THE_CLEAR,
    ) -> AuditNote:
        """A new note. Only an auditor writes one; ``code`` is a short finding code. The text
        is free text, so it is stored only sealed: a note about a personal budget (or one of its
        invoices) under that ``person``'s key (their pseudonym), any other note under a key of
        its own (``note_subject``), erasable on its own."""
        if prov.actor_role != Role.AUDITOR.value:
            raise InvalidCommandError("only auditors add audit notes", field="actor_role")
        check_ref("code", code)
        text = check_note(note)
        note_id = audit_note_id(prov.actor_id, prov.command_id)
        subject = person if person is not None else note_subject(personal, note_id)
        text = personal.seal(subject, context(note_id, "note"), text)
        return cls(
            subject_entry_id=subject_entry_id,
            code=code,
            note=text,
            council=council,
            budget_id=budget_id,
            provider=provider,
            effective_on=effective_on,
            prov=prov,
        )

    @event(NoteAdded)
    def __init__(
        self,
        subject_entry_id: str | None,
        code: str,
        note: str,
        council: str | None,
        budget_id: str | None,
        provider: str | None,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.subject_entry_id = subject_entry_id
        self.code = code
        self.note = note
        self.council = council
        self.budget_id = budget_id
        self.provider = provider
        self.effective_on = effective_on
        self.author = prov.actor_id
