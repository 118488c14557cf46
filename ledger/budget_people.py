"""The people who act for the person on a budget: representatives and their decisions (rule 8).
Mixed into ``ledger.budget.PersonalBudget``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ledger.errors import (
    InvalidCommandError,
    InvalidTransitionError,
    RepresentativeNotAppointedError,
    RepresentativeNotFoundError,
)
from ledger.personal import IN_THE_CLEAR, PersonalData, context
from ledger.provenance import Provenance, check_ref
from ledger.values import (
    AuthorityBasis,
    BudgetStatus,
    DecisionKind,
    RepresentativeKind,
    parse_enum,
)

if TYPE_CHECKING:
    from ledger.budget import PersonalBudget


@dataclass(slots=True)  # slots: a cached budget holds many of these (app_invoices.BudgetCache)
class Representative:
    kind: str
    basis: str
    appointed_on: date
    revoked_on: date | None = None
    stored_id: str = ""  # the representative's id as stored: sealed, or plain in older events

    def acts_on(self, day: date) -> bool:
        return self.appointed_on <= day and (self.revoked_on is None or day < self.revoked_on)


class BudgetPeopleCommands:
    def appoint_representative(
        self: PersonalBudget,
        representative_id: str,
        kind: str,
        basis: str,
        effective_on: date,
        prov: Provenance,
        personal: PersonalData = IN_THE_CLEAR,
    ) -> None:
        self._check_not_ended()
        check_ref("representative_id", representative_id)
        kind_ = parse_enum(RepresentativeKind, "representative kind", kind)
        basis_ = parse_enum(AuthorityBasis, "authority basis", basis)
        needs_authority = (
            AuthorityBasis.ATTORNEY,
            AuthorityBasis.DEPUTY,
            AuthorityBasis.COUNCIL_APPROVED,
        )
        if kind_ is RepresentativeKind.AUTHORISED and basis_ not in needs_authority:
            raise InvalidCommandError(
                "an authorised person acts as attorney, deputy or council-approved", field="basis"
            )
        if kind_ is RepresentativeKind.NOMINATED and basis_ is not AuthorityBasis.PERSON_NOMINATED:
            raise InvalidCommandError(
                "a nominated person is nominated by the person", field="basis"
            )
        current = self.representatives.get(self._rep_key(personal, representative_id))
        if current is not None and current.revoked_on is None:
            raise InvalidTransitionError(
                "that representative is already appointed", representative_id=representative_id
            )
        self._representative_appointed(
            representative_id=self._sealed_rep(personal, representative_id),
            kind=kind_.value,
            basis=basis_.value,
            effective_on=effective_on,
            prov=prov,
        )

    def find_representative(
        self: PersonalBudget, representative_id: str, personal: PersonalData = IN_THE_CLEAR
    ) -> Representative | None:
        return self.representatives.get(self._rep_key(personal, representative_id))

    def _rep_key(self: PersonalBudget, personal: PersonalData, representative_id: str) -> str:
        """Where a representative is held: by pseudonym, or (appointed in an event from before
        sealing) by the plain id."""
        join = personal.pseudonym("representative", representative_id)
        if join not in self.representatives and representative_id in self.representatives:
            return representative_id
        return join

    def _sealed_rep(self: PersonalBudget, personal: PersonalData, representative_id: str) -> str:
        """A representative's id sealed twice, joined by its pseudonym: under the
        representative's own key (they are a data subject too), and that under the person's
        key. Destroying either key — erasing the person or the representative — erases it."""
        join = self._rep_key(personal, representative_id)
        where = context(self.id, "representative_id")
        own = personal.pseudonym("representative", representative_id)
        inner = personal.seal(own, where, representative_id, join=join)
        return personal.seal(self.person, where, inner, join=join)

    def revoke_representative(
        self: PersonalBudget,
        representative_id: str,
        effective_on: date,
        prov: Provenance,
        personal: PersonalData = IN_THE_CLEAR,
    ) -> None:
        rep = self.representatives.get(self._rep_key(personal, representative_id))
        if rep is None:
            raise RepresentativeNotFoundError(
                "no such representative on this budget", representative_id=representative_id
            )
        if rep.revoked_on is not None:
            raise InvalidTransitionError(
                "that appointment is already revoked", representative_id=representative_id
            )
        if effective_on < rep.appointed_on:
            raise InvalidCommandError("revocation precedes the appointment", field="effective_on")
        self._representative_revoked(
            representative_id=self._sealed_rep(personal, representative_id),
            effective_on=effective_on,
            prov=prov,
        )

    def check_representative(
        self: PersonalBudget,
        representative_id: str,
        day: date,
        personal: PersonalData = IN_THE_CLEAR,
    ) -> Representative:
        """Rule 8: the representative acts only while appointed, only for this budget."""
        rep = self.representatives.get(self._rep_key(personal, representative_id))
        if rep is None or not rep.acts_on(day) or self.status is BudgetStatus.ENDED:
            raise RepresentativeNotAppointedError(
                f"representative is not appointed for this budget on {day}",
                budget_id=str(self.id),
                representative_id=representative_id,
            )
        return rep

    def record_decision(
        self: PersonalBudget,
        representative_id: str,
        decision: str,
        subject_ref: str | None,
        effective_on: date,
        prov: Provenance,
        personal: PersonalData = IN_THE_CLEAR,
    ) -> None:
        self.check_representative(representative_id, effective_on, personal)
        kind = parse_enum(DecisionKind, "decision", decision)
        if subject_ref is not None:
            check_ref("subject_ref", subject_ref, max_length=100)
        self._decision_recorded(
            representative_id=self._sealed_rep(personal, representative_id),
            decision=kind.value,
            subject_ref=subject_ref,
            effective_on=effective_on,
            prov=prov,
        )
