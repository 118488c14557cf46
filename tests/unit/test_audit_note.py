"""Auditors' notes: an event of their own, about an entry or about nothing in particular; only an
auditor writes one; bad notes are refused and write nothing; a repeat is written once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from ledger.audit_note import AuditNote, audit_note_id
from ledger.errors import (
    EntryNotFoundError,
    IdempotencyConflictError,
    InvalidCommandError,
    LedgerError,
)
from ledger.ids import entry_id
from ledger.provenance import Provenance
from projections.refs import Ref, ref_of
from tests.support import COUNCIL, OTHER_COUNCIL, PROVIDER, World

ON = date(2011, 5, 1)
NOTE = "Approved and paid by one officer on the same day: test the control."


def auditor(command_id: str = "note-1") -> Provenance:
    return Provenance("auditor-1", "auditor", command_id)


def refused(world: World, error: type[LedgerError], command: Callable[[], object]) -> None:
    """Then: the command raises ``error`` and writes nothing."""
    before = world.event_count()
    with pytest.raises(error):
        command()
    assert world.event_count() == before


def paid_invoice(world: World) -> tuple[str, str]:
    """A budget and its paid invoice; returns (budget id, the payment's entry id)."""
    budget_id = world.active_budget()
    app = world.app
    invoice = app.post_invoice(PROVIDER, world.draft(budget_id), world.as_provider())["invoice_id"]
    app.approve_invoice(invoice, date(2010, 5, 3), world.prov())
    version = app.pay_invoice(invoice, "REM-1", date(2010, 5, 10), world.prov())["version"]
    return budget_id, entry_id(app.invoice(invoice).id, version)


def test_a_note_on_an_entry_carries_the_entrys_council_budget_and_provider(world: World) -> None:
    budget_id, paid = paid_invoice(world)
    before = world.event_count()

    outcome = world.app.add_audit_note(paid, "ctrl-check", NOTE, ON, auditor())

    note = world.app.audit_note(outcome["note_id"])
    assert outcome == {"note_id": str(audit_note_id("auditor-1", "note-1")), "version": 1}
    assert (note.subject_entry_id, note.code, note.note, note.effective_on) == (
        paid,
        "ctrl-check",
        NOTE,
        ON,
    )
    assert (note.council, note.budget_id, note.provider, note.author) == (
        COUNCIL,
        budget_id,
        PROVIDER,
        "auditor-1",
    )
    assert world.event_count() == before + 2  # the note and its command record


def test_a_note_without_a_subject_sits_in_the_council_given_or_none(world: World) -> None:
    general = world.app.add_audit_note(None, "scope", NOTE, ON, auditor("n1"))
    placed = world.app.add_audit_note(None, "scope", NOTE, ON, auditor("n2"), council=COUNCIL)

    assert world.app.audit_note(general["note_id"]).council is None
    assert world.app.audit_note(placed["note_id"]).council == COUNCIL


def test_the_note_is_one_stored_event_that_replays_to_the_same_note(world: World) -> None:
    _, paid = paid_invoice(world)
    note_id = world.app.add_audit_note(paid, "ctrl-check", NOTE, ON, auditor())["note_id"]

    (event,) = [e for e in world.events() if isinstance(e, AuditNote.Event)]
    replayed = world.app.audit_note(note_id)

    assert isinstance(event, AuditNote.NoteAdded)
    assert type(event).TOPIC == "careledger.audit:NoteAdded"
    assert (event.note, event.prov.actor_role) == (NOTE, "auditor")
    assert replayed.version == 1 and replayed.note == NOTE


def test_the_trail_refers_a_note_to_its_subjects_council_budget_and_provider(
    world: World,
) -> None:
    budget_id, paid = paid_invoice(world)
    note_id = world.app.add_audit_note(paid, "ctrl-check", NOTE, ON, auditor())["note_id"]
    (event,) = [e for e in world.events() if isinstance(e, AuditNote.Event)]

    assert ref_of(event) == Ref(note_id, "audit-note", COUNCIL, budget_id, PROVIDER)


def test_only_an_auditor_adds_a_note(world: World) -> None:
    for role in ("council", "regulator", "provider", "admin"):
        prov = Provenance("someone", role, f"cmd-{role}")
        refused(
            world,
            InvalidCommandError,
            lambda prov=prov: world.app.add_audit_note(None, "x", NOTE, ON, prov),
        )


@pytest.mark.parametrize(
    "note",
    ["", "   ", "x" * 501, "bell\u0007", "line\nbreak", "right\u202eleft", "zero\u200bwidth"],
)
def test_refuses_a_note_that_is_blank_too_long_or_not_printable(world: World, note: str) -> None:
    refused(
        world, InvalidCommandError, lambda: world.app.add_audit_note(None, "x", note, ON, auditor())
    )


def test_accepts_a_note_of_exactly_500_printable_characters_in_any_script(world: World) -> None:
    note = ("Prüfung £ ✓ " * 50)[:500]

    outcome = world.app.add_audit_note(None, "x", note, ON, auditor())

    assert world.app.audit_note(outcome["note_id"]).note == note


def test_refuses_a_code_that_is_not_a_short_reference(world: World) -> None:
    for code in ("", "x" * 65, "tab\there"):
        refused(
            world,
            InvalidCommandError,
            lambda code=code: world.app.add_audit_note(None, code, NOTE, ON, auditor()),
        )


def test_refuses_a_subject_that_is_not_a_stored_entry(world: World) -> None:
    budget_id, _ = paid_invoice(world)
    version = world.app.budget(budget_id).version

    for subject in (
        "not-an-entry",
        "00000000-0000-0000-0000-000000000000/1",
        f"{budget_id}/0",
        f"{budget_id}/{version + 1}",
    ):
        refused(
            world,
            EntryNotFoundError,
            lambda s=subject: world.app.add_audit_note(s, "x", NOTE, ON, auditor()),
        )


def test_refuses_a_council_that_disagrees_with_the_subjects(world: World) -> None:
    _, paid = paid_invoice(world)

    refused(
        world,
        InvalidCommandError,
        lambda: world.app.add_audit_note(paid, "x", NOTE, ON, auditor(), council=OTHER_COUNCIL),
    )


def test_a_repeated_command_is_written_once_and_a_different_one_refused(world: World) -> None:
    first = world.app.add_audit_note(None, "x", NOTE, ON, auditor())
    before = world.event_count()

    again = world.app.add_audit_note(None, "x", NOTE, ON, auditor())

    assert again == {**first, "replayed": True}
    assert world.event_count() == before
    refused(
        world,
        IdempotencyConflictError,
        lambda: world.app.add_audit_note(None, "x", "another note", ON, auditor()),
    )
