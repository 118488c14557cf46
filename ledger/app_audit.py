"""Use cases for auditors: notes on the ledger, which become part of the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.app_core import LedgerCore, Outcome
from ledger.audit_note import AuditNote, note_subject
from ledger.budget import PersonalBudget
from ledger.council import Council
from ledger.errors import (
    EntryNotFoundError,
    ErasureUnavailableError,
    InvalidCommandError,
    NoteAboutPersonError,
    NotFoundError,
)
from ledger.ids import parse_entry_id
from ledger.invoice import Invoice
from ledger.personal import is_sealed, key_subject
from ledger.pooled_fund import PooledFund
from ledger.provenance import Provenance
from ledger.provider import Provider


@dataclass(frozen=True)
class Subject:
    """What an entry belongs to: its council, budget and provider (each None if it has none)."""

    council: str | None = None
    budget_id: str | None = None
    provider: str | None = None


def subject_of(aggregate: Aggregate) -> Subject:  # noqa: PLR0911 - one return per kind
    """The council, budget and provider of any of the ledger's records."""
    if isinstance(aggregate, PersonalBudget):
        return Subject(aggregate.council, str(aggregate.id))
    if isinstance(aggregate, Invoice):
        return Subject(aggregate.council, aggregate.budget_id, aggregate.provider_ref)
    if isinstance(aggregate, AuditNote):
        return Subject(aggregate.council, aggregate.budget_id, aggregate.provider)
    if isinstance(aggregate, PooledFund):
        return Subject(aggregate.council)
    if isinstance(aggregate, Council):
        return Subject(aggregate.code)
    if isinstance(aggregate, Provider):
        return Subject(provider=aggregate.provider_ref)
    return Subject()


class AuditCommands(LedgerCore):
    def entry_subject(self, entry_id: str) -> Subject:
        """The council, budget and provider of a stored entry; EntryNotFoundError if none."""
        originator_id, version = parse_entry_id(entry_id)
        try:
            aggregate = self.get_aggregate(originator_id)
        except AggregateNotFoundError:
            raise EntryNotFoundError("no entry with that id", entry_id=entry_id) from None
        if not 1 <= version <= aggregate.version:
            raise EntryNotFoundError("no entry with that id", entry_id=entry_id)
        return subject_of(aggregate)

    def add_audit_note(
        self,
        subject_entry_id: str | None,
        code: str,
        note: str,
        effective_on: date,
        prov: Provenance,
        *,
        council: str | None = None,
    ) -> Outcome:
        """An auditor's note, optionally about one entry. ``council`` places a note without a
        subject in a council's trail; with a subject, the subject's council is used and must
        agree with ``council`` when both are given."""

        def action() -> tuple[list[AuditNote], Outcome]:
            subject = Subject(council)
            if subject_entry_id is not None:
                subject = self.entry_subject(subject_entry_id)
                if council is not None and subject.council != council:
                    raise InvalidCommandError(
                        "the entry belongs to another council", field="subject_entry_id"
                    )
            note_ = AuditNote.add(
                subject_entry_id,
                code,
                note,
                effective_on,
                prov,
                council=subject.council,
                budget_id=subject.budget_id,
                provider=subject.provider,
                person=self.budget(subject.budget_id).person if subject.budget_id else None,
                personal=self.personal,
            )
            return [note_], {"note_id": str(note_.id), "version": note_.version}

        args = {
            "subject": subject_entry_id,
            "code": code,
            # Keyed, like a reason: the command record's fingerprint cannot confirm a guess.
            "note": self.personal.pseudonym("note-text", note),
            "on": effective_on,
            "council": council,
        }
        return self.run_command("add_audit_note", args, prov, action)

    def audit_note(self, note_id: UUID | str) -> AuditNote:
        try:
            uid = note_id if isinstance(note_id, UUID) else UUID(note_id)
        except ValueError:
            raise NotFoundError("not an audit note id", note_id=str(note_id)[:80]) from None
        return self._load(uid, AuditNote, NotFoundError, note_id=str(note_id))

    def note_key_subject(self, note_id: str) -> str:
        """The key a note about no person is sealed under, to erase that note on its own.
        Refused for a note about a budget (it goes with its person's erasure) and for one
        stored in the clear before sealing (the log keeps it)."""
        note = self.audit_note(note_id)
        if note.budget_id is not None:
            raise NoteAboutPersonError(
                "this note is about a personal budget: it is erased with that person",
                note_id=str(note.id),
            )
        own = note_subject(self.personal, note.id)
        if not is_sealed(note.note) or key_subject(note.note) != own:
            raise ErasureUnavailableError(
                "this note was stored in the clear, before sealing: the log keeps it byte for"
                " byte (the chain and the proofs cover its bytes)",
                note_id=str(note.id),
            )
        return own
