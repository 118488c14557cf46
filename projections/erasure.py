"""Erasing a person: the ledger's record and key destruction, then the copies outside the log.

Outside the event log the only copies are the representatives' access tokens of the person's
budgets (the tokens table holds a representative's id to check rule 8): they are deleted. The
views hold pseudonyms and sealed values only. On SQLite the views' connections zero deleted
content (``secure_delete``) and the WAL is checkpointed and truncated, so no free page or WAL
frame keeps a deleted row.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ledger.app_core import Outcome
from ledger.provenance import Provenance
from projections.migrate import plain_positions

if TYPE_CHECKING:
    from projections.service import LedgerService


def erase_person(
    service: LedgerService, person_ref: str, effective_on: date, prov: Provenance
) -> Outcome:
    """Erase a person (see ``CareLedger.erase_person``) and the access tokens of their
    representatives; the outcome adds how many tokens were deleted."""
    person = service.app.personal.pseudonym("person", person_ref)
    return erase_pseudonym(service, person, effective_on, prov)


def erase_pseudonym(
    service: LedgerService, person: str, effective_on: date, prov: Provenance
) -> Outcome:
    """``erase_person`` for a person known by pseudonym. The outcome says, honestly, which
    events about them were written before sealing and still hold their personal data in plain
    text (``plain_events``, ``plain_positions``): the log keeps those bytes (the chain and the
    proofs cover them), though reads show the person's reference and ids as erased."""
    service.runner.catch_up()  # the person's budgets are all in v_people before the erasure
    outcome = service.app.erase_pseudonym(person, effective_on, prov)
    service.runner.catch_up()
    deleted = 0
    if service.db.columns("careledger_tokens"):
        with service.db.transaction() as cur:
            budgets = cur.execute(
                "SELECT budget_id FROM v_people WHERE person = ?", (outcome["person"],)
            ).fetchall()
            for row in budgets:
                deleted += cur.execute(
                    "DELETE FROM careledger_tokens WHERE role = 'representative' AND budget_id = ?",
                    (row["budget_id"],),
                ).raw.rowcount
        service.db.compact("careledger_tokens")
    plain = plain_positions(service.app, service.db, outcome["person"])
    return {
        **outcome,
        "tokens_deleted": max(deleted, 0),
        "plain_events": len(plain),
        "plain_positions": plain,
    }


def erase_note(
    service: LedgerService, note_id: str, effective_on: date, prov: Provenance
) -> Outcome:
    """Erase one auditor's note about no person (a council's or a care firm's): its own key is
    destroyed, so its text reads as erased everywhere. The erasure record names the note's key
    by pseudonym, as a person's names theirs."""
    subject = service.app.note_key_subject(note_id)
    outcome = service.app.erase_pseudonym(subject, effective_on, prov)
    return {**outcome, "note_id": str(service.app.audit_note(note_id).id)}


def erase_representative(
    service: LedgerService, representative_id: str, effective_on: date, prov: Provenance
) -> Outcome:
    """Erase a representative (a data subject in their own right): their own key is destroyed,
    so their id reads as erased on every budget they represent, and their access tokens are
    deleted. The people they represent and the money are untouched."""
    subject = service.app.representative_key_subject(representative_id)
    outcome = service.app.erase_pseudonym(subject, effective_on, prov)
    deleted = 0
    if service.db.columns("careledger_tokens"):
        with service.db.transaction() as cur:
            deleted = cur.execute(
                "DELETE FROM careledger_tokens WHERE role = 'representative'"
                " AND representative_id = ?",
                (representative_id,),
            ).raw.rowcount
        service.db.compact("careledger_tokens")
    return {**outcome, "tokens_deleted": max(deleted, 0)}
