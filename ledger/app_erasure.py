"""Use case for administrators: erase a person's personal data (UK GDPR Art. 17, retention)."""

from __future__ import annotations

from datetime import date

from ledger.app_core import LedgerCore, Outcome
from ledger.erasure import PersonErasure, erasure_id
from ledger.errors import PersonErasedError, PersonNotFoundError, RepresentativeNotFoundError
from ledger.provenance import Provenance


class ErasureCommands(LedgerCore):
    def erase_person(self, person_ref: str, effective_on: date, prov: Provenance) -> Outcome:
        """Record the erasure (pseudonym only), then destroy the person's data key: every field
        sealed under it — their reference, their representatives' ids, notes about them — reads
        as erased from then on. The money, the chain and the proofs are untouched.

        The record is saved first: a key destroyed without its record would be an erasure
        nobody could account for. A retry with the same command id destroys the key again
        (idempotent) and answers with the first outcome."""
        return self.erase_pseudonym(
            self.personal.pseudonym("person", person_ref), effective_on, prov
        )

    def erase_pseudonym(self, person: str, effective_on: date, prov: Provenance) -> Outcome:
        """``erase_person`` for a person known only by pseudonym (retention finds them so)."""

        def action() -> tuple[list[PersonErasure], Outcome]:
            state = self.personal.state(person)
            if state == "unknown":
                raise PersonNotFoundError("no personal data is held for that person")
            if state == "erased" or self.exists(erasure_id(person)):
                raise PersonErasedError("that person's personal data is already erased")
            record = PersonErasure.record(person, effective_on, prov)
            return [record], {"person": person, "erasure_id": str(record.id), "version": 1}

        outcome = self.run_command(
            "erase_person", {"person": person, "on": effective_on}, prov, action
        )
        self.personal.destroy(person)
        return outcome

    def representative_key_subject(self, representative_id: str) -> str:
        """The pseudonym a representative's own key is held under, to erase them: their id,
        wherever it is sealed, is sealed under that key inside the person's."""
        subject = self.personal.pseudonym("representative", representative_id)
        if self.personal.state(subject) == "unknown":
            raise RepresentativeNotFoundError(
                "no personal data is held under that representative's own key"
            )
        return subject
