"""The personal budget: its lifecycle, its money and the people who act for the person.

Public methods check the rules and raise named errors; the private ``@event`` methods only assign
state, because they run again on every replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.budget_rules import (
    WEEKS_PER_YEAR,
    check_allocation,
    check_contingency,
    check_in_life,
    surplus_threshold,
    weeks_between,
)
from ledger.council import DEFAULT_MAX_CONTINGENCY_BP
from ledger.errors import (
    BudgetEndedError,
    BudgetNotActiveError,
    BudgetSuspendedError,
    CorrectionExceedsOriginalError,
    DeploymentError,
    EntryNotCorrectableError,
    EntryNotFoundError,
    InsufficientBudgetError,
    InsufficientFundsError,
    InvalidCommandError,
    InvalidTransitionError,
    RepresentativeNotAppointedError,
    RepresentativeNotFoundError,
    SurplusExceededError,
)
from ledger.ids import budget_id
from ledger.money import check_pence
from ledger.personal import IN_THE_CLEAR, PersonalData, context, join_key, key_subject
from ledger.provenance import Provenance, check_ref
from ledger.values import (
    NO_ALLOCATION,
    Allocation,
    AuthorityBasis,
    BudgetStatus,
    DecisionKind,
    Deployment,
    EndReason,
    Period,
    PlanLine,
    RepresentativeKind,
    SupportReason,
    parse_enum,
    plan_weekly_cost,
)

# Entries a correction may reverse, by event class name.
CORRECTABLE = ("CashPaymentIssued", "ContributionReceived", "DirectPaymentSpendReported")
MAX_RAS_SCORE = 10_000


@dataclass(slots=True)  # slots: a cached budget holds many of these (app_invoices.BudgetCache)
class Representative:
    kind: str
    basis: str
    appointed_on: date
    revoked_on: date | None = None
    stored_id: str = ""  # the representative's id as stored: sealed, or plain in older events

    def acts_on(self, day: date) -> bool:
        return self.appointed_on <= day and (self.revoked_on is None or day < self.revoked_on)


@dataclass(slots=True)
class InvoiceOnBudget:
    provider_ref: str
    period: Period
    amount_pence: int
    state: str = "received"  # received → charged → settled, or withdrawn


class PersonalBudget(Aggregate):
    TOPIC = "careledger.budget:PersonalBudget"

    class Event(Aggregate.Event):
        TOPIC = "careledger.budget:Event"
        effective_on: date
        prov: Provenance

    class Created(Event, Aggregate.Created):
        TOPIC = "careledger.budget:Created"

    class Opened(Created):
        TOPIC = "careledger.budget:Opened"
        council: str
        person_ref: str
        support_reason: str
        carer_budget: bool

    class IndicativeBudgetSet(Event):
        TOPIC = "careledger.budget:IndicativeBudgetSet"
        ras_score: int
        weekly_pence: int
        ras_version: str

    class SupportPlanAgreed(Event):
        TOPIC = "careledger.budget:SupportPlanAgreed"
        lines: tuple[PlanLine, ...]

    class Approved(Event):
        TOPIC = "careledger.budget:Approved"
        allocation: Allocation

    class DeploymentChosen(Event):
        TOPIC = "careledger.budget:DeploymentChosen"
        deployment: Deployment

    class Revised(Event):
        TOPIC = "careledger.budget:Revised"
        allocation: Allocation
        previous: Allocation

    class Suspended(Event):
        TOPIC = "careledger.budget:Suspended"

    class Resumed(Event):
        TOPIC = "careledger.budget:Resumed"

    class Ended(Event):
        TOPIC = "careledger.budget:Ended"
        end_reason: str

    class Reviewed(Event):
        TOPIC = "careledger.budget:Reviewed"

    class RepresentativeAppointed(Event):
        TOPIC = "careledger.budget:RepresentativeAppointed"
        representative_id: str
        kind: str
        basis: str

    class RepresentativeRevoked(Event):
        TOPIC = "careledger.budget:RepresentativeRevoked"
        representative_id: str

    class DecisionRecorded(Event):
        TOPIC = "careledger.budget:DecisionRecorded"
        representative_id: str
        decision: str
        subject_ref: str | None

    class CashPaymentIssued(Event):
        TOPIC = "careledger.budget:CashPaymentIssued"
        amount_pence: int
        period: Period

    class DirectPaymentSpendReported(Event):
        TOPIC = "careledger.budget:DirectPaymentSpendReported"
        amount_pence: int
        period: Period

    class ContributionAssessed(Event):
        TOPIC = "careledger.budget:ContributionAssessed"
        weekly_pence: int

    class ContributionReceived(Event):
        TOPIC = "careledger.budget:ContributionReceived"
        amount_pence: int

    class SurplusIdentified(Event):
        TOPIC = "careledger.budget:SurplusIdentified"
        amount_pence: int
        held_pence: int
        threshold_pence: int

    class SurplusRecovered(Event):
        TOPIC = "careledger.budget:SurplusRecovered"
        refunded_pence: int
        recovered_pence: int

    class Corrected(Event):
        TOPIC = "careledger.budget:Corrected"
        entry_version: int
        entry_type: str
        amount_pence: int

    class InvoiceReceived(Event):
        TOPIC = "careledger.budget:InvoiceReceived"
        invoice_id: str
        provider_ref: str
        period: Period
        amount_pence: int

    class InvoiceCharged(Event):
        TOPIC = "careledger.budget:InvoiceCharged"
        invoice_id: str
        amount_pence: int

    class InvoiceWithdrawn(Event):
        TOPIC = "careledger.budget:InvoiceWithdrawn"
        invoice_id: str

    class InvoiceSettled(Event):
        TOPIC = "careledger.budget:InvoiceSettled"
        invoice_id: str
        amount_pence: int

    class InvoiceCredited(Event):
        TOPIC = "careledger.budget:InvoiceCredited"
        invoice_id: str
        amount_pence: int

    # --- opening and planning ------------------------------------------------------------------

    @staticmethod
    def create_id(council: str, prov: Provenance, **_: Any) -> UUID:
        return budget_id(council, prov.command_scope, prov.command_id)

    @classmethod
    def open(
        cls,
        council: str,
        person_ref: str,
        support_reason: str,
        effective_on: date,
        prov: Provenance,
        carer_budget: bool = False,
        personal: PersonalData = IN_THE_CLEAR,
    ) -> PersonalBudget:
        """``person_ref`` is stored sealed under the person's key (see ``ledger.personal``)."""
        check_ref("person_ref", person_ref)
        reason = parse_enum(SupportReason, "primary support reason", support_reason)
        person = personal.pseudonym("person", person_ref)
        where = context(budget_id(council, prov.command_scope, prov.command_id), "person_ref")
        return cls(
            council=council,
            person_ref=personal.seal(person, where, person_ref, join=person),
            support_reason=reason.value,
            carer_budget=bool(carer_budget),
            effective_on=effective_on,
            prov=prov,
        )

    @event(Opened)
    def __init__(
        self,
        council: str,
        person_ref: str,
        support_reason: str,
        carer_budget: bool,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.council = council
        self.person_ref = person_ref  # as stored: sealed, or plain in events before sealing
        self.person = key_subject(person_ref)  # the person's pseudonym: joins, on_behalf_of
        self.support_reason = SupportReason(support_reason)
        self.carer_budget = carer_budget
        self.opened_on = effective_on
        self.status = BudgetStatus.OPENED
        self.indicative_weekly_pence: int | None = None
        self.plan: tuple[PlanLine, ...] | None = None
        self.allocation = NO_ALLOCATION
        self.approved_on: date | None = None
        self.deployment: Deployment | None = None
        self.ended_on: date | None = None
        self.end_reason: str | None = None
        self.last_review_on: date | None = None
        self.representatives: dict[str, Representative] = {}
        self.invoices: dict[str, InvoiceOnBudget] = {}
        self.entries: dict[int, tuple[str, int]] = {}  # version → (event type, amount)
        self.corrected: dict[int, int] = {}  # version → pence reversed so far
        self.drawn_pence = 0
        self.cash_paid_pence = 0
        self.dp_spend_pence = 0
        self.contribution_weekly_pence: int | None = None
        self.contributions_received_pence = 0
        self.surplus_outstanding_pence = 0
        self.recovered_pence = 0
        self.refunded_pence = 0

    def set_indicative_budget(
        self,
        ras_score: int,
        weekly_pence: int,
        ras_version: str,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self._check_not_ended()
        if not 0 <= ras_score <= MAX_RAS_SCORE:
            raise InvalidCommandError(f"RAS score must be 0..{MAX_RAS_SCORE}", field="ras_score")
        check_pence("weekly_pence", weekly_pence)
        check_ref("ras_version", ras_version, max_length=32)
        self._indicative_budget_set(
            ras_score=ras_score,
            weekly_pence=weekly_pence,
            ras_version=ras_version,
            effective_on=effective_on,
            prov=prov,
        )

    @event(IndicativeBudgetSet)
    def _indicative_budget_set(
        self,
        ras_score: int,
        weekly_pence: int,
        ras_version: str,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.indicative_weekly_pence = weekly_pence

    def agree_support_plan(
        self, lines: tuple[PlanLine, ...], effective_on: date, prov: Provenance
    ) -> None:
        self._check_not_ended()
        if not 1 <= len(lines) <= 50:
            raise InvalidCommandError("a support plan has 1..50 lines", field="lines")
        annual = plan_weekly_cost(lines) * WEEKS_PER_YEAR
        if self.status is not BudgetStatus.OPENED and annual > self.allocation.total_pence:
            raise InsufficientBudgetError(
                "revise the budget before agreeing a dearer plan",
                budget_id=str(self.id),
                total_pence=self.allocation.total_pence,
                plan_annual_cost_pence=annual,
            )
        self._support_plan_agreed(lines=tuple(lines), effective_on=effective_on, prov=prov)

    @event(SupportPlanAgreed)
    def _support_plan_agreed(
        self, lines: tuple[PlanLine, ...], effective_on: date, prov: Provenance
    ) -> None:
        self.plan = tuple(lines)

    # --- approval, deployment, revision ------------------------------------------------------

    def approve(
        self,
        allocation: Allocation,
        effective_on: date,
        prov: Provenance,
        max_contingency_bp: int = DEFAULT_MAX_CONTINGENCY_BP,
    ) -> None:
        if self.status is not BudgetStatus.OPENED:
            raise InvalidTransitionError(
                f"budget is {self.status.value}; use a revision", budget_id=str(self.id)
            )
        check_allocation(str(self.id), allocation, self.plan)
        check_contingency(str(self.id), allocation, max_contingency_bp)
        check_in_life(
            str(self.id), "approval", {"effective_on": effective_on}, self.opened_on, None
        )
        self._approved(allocation=allocation, effective_on=effective_on, prov=prov)

    @event(Approved)
    def _approved(self, allocation: Allocation, effective_on: date, prov: Provenance) -> None:
        self.allocation = allocation
        self.approved_on = effective_on
        self.status = BudgetStatus.ACTIVE

    def choose_deployment(
        self, deployment: Deployment, effective_on: date, prov: Provenance
    ) -> None:
        self._check_approved()
        self._check_not_ended()
        if deployment.direct_payment_pence > self.allocation.total_pence:
            raise DeploymentError(
                "the direct-payment share exceeds the budget",
                budget_id=str(self.id),
                direct_payment_pence=deployment.direct_payment_pence,
                total_pence=self.allocation.total_pence,
            )
        self._deployment_chosen(deployment=deployment, effective_on=effective_on, prov=prov)

    @event(DeploymentChosen)
    def _deployment_chosen(
        self, deployment: Deployment, effective_on: date, prov: Provenance
    ) -> None:
        self.deployment = deployment

    def revise(
        self,
        allocation: Allocation,
        effective_on: date,
        prov: Provenance,
        max_contingency_bp: int = DEFAULT_MAX_CONTINGENCY_BP,
    ) -> None:
        self._check_approved()
        self._check_not_ended()
        check_allocation(str(self.id), allocation, self.plan)
        check_contingency(str(self.id), allocation, max_contingency_bp)
        self.check_in_life("revision", effective_on=effective_on)
        headroom = allocation.total_pence - self.drawn_pence + allocation.contingency_pence
        if headroom < 0:
            raise InsufficientFundsError(
                "the revised budget is below what has already been spent",
                budget_id=str(self.id),
                total_pence=allocation.total_pence,
                drawn_pence=self.drawn_pence,
            )
        self._revised(
            allocation=allocation, previous=self.allocation, effective_on=effective_on, prov=prov
        )

    @event(Revised)
    def _revised(
        self, allocation: Allocation, previous: Allocation, effective_on: date, prov: Provenance
    ) -> None:
        self.allocation = allocation

    # --- status ------------------------------------------------------------------------------

    def suspend(self, effective_on: date, prov: Provenance) -> None:
        self.check_active()
        self._suspended(effective_on=effective_on, prov=prov)

    @event(Suspended)
    def _suspended(self, effective_on: date, prov: Provenance) -> None:
        self.status = BudgetStatus.SUSPENDED

    def resume(self, effective_on: date, prov: Provenance) -> None:
        if self.status is not BudgetStatus.SUSPENDED:
            raise InvalidTransitionError(
                f"budget is {self.status.value}, not suspended", budget_id=str(self.id)
            )
        self._resumed(effective_on=effective_on, prov=prov)

    @event(Resumed)
    def _resumed(self, effective_on: date, prov: Provenance) -> None:
        self.status = BudgetStatus.ACTIVE

    def end(self, end_reason: str, effective_on: date, prov: Provenance) -> None:
        self._check_not_ended()
        reason = parse_enum(EndReason, "end reason", end_reason)
        self._ended(end_reason=reason.value, effective_on=effective_on, prov=prov)

    @event(Ended)
    def _ended(self, end_reason: str, effective_on: date, prov: Provenance) -> None:
        self.status = BudgetStatus.ENDED
        self.ended_on = effective_on
        self.end_reason = end_reason

    def review(self, effective_on: date, prov: Provenance) -> None:
        self._check_approved()
        self._check_not_ended()
        self._reviewed(effective_on=effective_on, prov=prov)

    @event(Reviewed)
    def _reviewed(self, effective_on: date, prov: Provenance) -> None:
        self.last_review_on = effective_on

    # --- representatives and their decisions (rule 8) ----------------------------------------

    def appoint_representative(
        self,
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

    @event(RepresentativeAppointed)
    def _representative_appointed(
        self, representative_id: str, kind: str, basis: str, effective_on: date, prov: Provenance
    ) -> None:
        self.representatives[join_key(representative_id)] = Representative(
            kind, basis, effective_on, stored_id=representative_id
        )

    def find_representative(
        self, representative_id: str, personal: PersonalData = IN_THE_CLEAR
    ) -> Representative | None:
        return self.representatives.get(self._rep_key(personal, representative_id))

    def _rep_key(self, personal: PersonalData, representative_id: str) -> str:
        """Where a representative is held: by pseudonym, or (appointed in an event from before
        sealing) by the plain id."""
        join = personal.pseudonym("representative", representative_id)
        if join not in self.representatives and representative_id in self.representatives:
            return representative_id
        return join

    def _sealed_rep(self, personal: PersonalData, representative_id: str) -> str:
        """A representative's id sealed twice, joined by its pseudonym: under the
        representative's own key (they are a data subject too), and that under the person's
        key. Destroying either key — erasing the person or the representative — erases it."""
        join = self._rep_key(personal, representative_id)
        where = context(self.id, "representative_id")
        own = personal.pseudonym("representative", representative_id)
        inner = personal.seal(own, where, representative_id, join=join)
        return personal.seal(self.person, where, inner, join=join)

    def revoke_representative(
        self,
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

    @event(RepresentativeRevoked)
    def _representative_revoked(
        self, representative_id: str, effective_on: date, prov: Provenance
    ) -> None:
        self.representatives[join_key(representative_id)].revoked_on = effective_on

    def check_representative(
        self, representative_id: str, day: date, personal: PersonalData = IN_THE_CLEAR
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
        self,
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

    @event(DecisionRecorded)
    def _decision_recorded(
        self,
        representative_id: str,
        decision: str,
        subject_ref: str | None,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.last_decision = decision

    # --- figures -----------------------------------------------------------------------------

    @property
    def available_pence(self) -> int:
        return self.allocation.total_pence - self.drawn_pence

    @property
    def held_pence(self) -> int:
        """Cash held in the person's direct-payment account, unspent and unrecovered."""
        return (
            self.cash_paid_pence - self.dp_spend_pence - self.recovered_pence - self.refunded_pence
        )

    @property
    def outstanding_invoices_pence(self) -> int:
        return sum(i.amount_pence for i in self.invoices.values() if i.state == "received")

    @property
    def weekly_direct_payment_pence(self) -> int:
        if self.deployment is None or not self.deployment.pays_cash:
            return 0
        annual = self.deployment.direct_payment_pence or self.allocation.total_pence
        return annual // WEEKS_PER_YEAR

    def contribution_due_pence(self, day: date) -> int:
        """What the person owes by ``day``: the assessed weekly charge for each whole week."""
        if self.approved_on is None:
            return 0
        weekly = self.contribution_weekly_pence
        if weekly is None:
            weekly = self.allocation.client_contribution_pence // WEEKS_PER_YEAR
        return weekly * weeks_between(self.approved_on, day)

    # --- guards ------------------------------------------------------------------------------

    def check_active(self) -> None:
        """Rule 7: no payment after ending or while suspended; nothing before approval."""
        self._check_not_ended()
        if self.status is BudgetStatus.SUSPENDED:
            raise BudgetSuspendedError("budget is suspended", budget_id=str(self.id))
        if self.status is not BudgetStatus.ACTIVE:
            raise BudgetNotActiveError("budget is not yet approved", budget_id=str(self.id))

    def check_funds(self, amount_pence: int) -> None:
        """Rule 3: never beyond available balance plus contingency."""
        if amount_pence > self.available_pence + self.allocation.contingency_pence:
            raise InsufficientFundsError(
                f"{amount_pence}p exceeds available {self.available_pence}p"
                f" + contingency {self.allocation.contingency_pence}p",
                budget_id=str(self.id),
                amount_pence=amount_pence,
                available_pence=self.available_pence,
                contingency_pence=self.allocation.contingency_pence,
            )

    def _check_not_ended(self) -> None:
        if self.status is BudgetStatus.ENDED:
            raise BudgetEndedError(
                f"budget ended on {self.ended_on}",
                budget_id=str(self.id),
                ended_on=str(self.ended_on),
            )

    def _check_approved(self) -> None:
        if self.approved_on is None:
            raise BudgetNotActiveError("budget is not yet approved", budget_id=str(self.id))

    def check_in_life(
        self,
        entry: str,
        period: Period | None = None,
        *,
        settles: bool = False,
        effective_on: date,
    ) -> None:
        """Rule 12 for a money entry: effective from the approval (the allocation's date) and,
        unless it ``settles`` care delivered before the end, not after the end. A service
        ``period`` lies wholly inside the life, whatever the entry."""
        self._check_approved()
        ends_on = self.ended_on
        check_in_life(
            str(self.id), entry, {"effective_on": effective_on}, self.approved_on, ends_on,
            settles=settles,
        )  # fmt: skip
        if period is not None:
            days = {"period.start": period.start, "period.end": period.end}
            check_in_life(str(self.id), entry, days, self.approved_on, ends_on)

    # --- money: cash, contributions, surplus -------------------------------------------------

    def issue_cash_payment(
        self, amount_pence: int, period: Period, effective_on: date, prov: Provenance
    ) -> None:
        check_pence("amount_pence", amount_pence)
        self.check_active()
        if self.deployment is None or not self.deployment.pays_cash:
            raise DeploymentError(
                "the budget is not deployed as a direct payment", budget_id=str(self.id)
            )
        self.check_in_life("cash payment", period, effective_on=effective_on)
        self.check_funds(amount_pence)
        self._cash_payment_issued(
            amount_pence=amount_pence, period=period, effective_on=effective_on, prov=prov
        )

    @event(CashPaymentIssued)
    def _cash_payment_issued(
        self, amount_pence: int, period: Period, effective_on: date, prov: Provenance
    ) -> None:
        # An event method runs before the version advances: this entry is version + 1.
        self.entries[self.version + 1] = ("CashPaymentIssued", amount_pence)
        self.cash_paid_pence += amount_pence
        self.drawn_pence += amount_pence

    def report_direct_payment_spend(
        self, amount_pence: int, period: Period, effective_on: date, prov: Provenance
    ) -> None:
        check_pence("amount_pence", amount_pence)
        self.check_in_life("spend report", period, settles=True, effective_on=effective_on)
        if amount_pence > self.held_pence:
            raise InsufficientFundsError(
                f"reported spend {amount_pence}p exceeds the {self.held_pence}p held",
                budget_id=str(self.id),
                amount_pence=amount_pence,
                held_pence=self.held_pence,
            )
        self._direct_payment_spend_reported(
            amount_pence=amount_pence, period=period, effective_on=effective_on, prov=prov
        )

    @event(DirectPaymentSpendReported)
    def _direct_payment_spend_reported(
        self, amount_pence: int, period: Period, effective_on: date, prov: Provenance
    ) -> None:
        self.entries[self.version + 1] = ("DirectPaymentSpendReported", amount_pence)
        self.dp_spend_pence += amount_pence

    def assess_contribution(self, weekly_pence: int, effective_on: date, prov: Provenance) -> None:
        check_pence("weekly_pence", weekly_pence, allow_zero=True)
        self._check_not_ended()
        self._contribution_assessed(weekly_pence=weekly_pence, effective_on=effective_on, prov=prov)

    @event(ContributionAssessed)
    def _contribution_assessed(
        self, weekly_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.contribution_weekly_pence = weekly_pence

    def receive_contribution(self, amount_pence: int, effective_on: date, prov: Provenance) -> None:
        check_pence("amount_pence", amount_pence)
        self.check_in_life("contribution", settles=True, effective_on=effective_on)
        self._contribution_received(amount_pence=amount_pence, effective_on=effective_on, prov=prov)

    @event(ContributionReceived)
    def _contribution_received(
        self, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.entries[self.version + 1] = ("ContributionReceived", amount_pence)
        self.contributions_received_pence += amount_pence

    def identify_surplus(self, surplus_weeks: int, effective_on: date, prov: Provenance) -> int:
        """Rule 9: the balance held above ``surplus_weeks`` of direct-payment funding."""
        self.check_in_life("surplus identification", settles=True, effective_on=effective_on)
        threshold = surplus_threshold(self.weekly_direct_payment_pence, surplus_weeks)
        surplus = self.held_pence - self.surplus_outstanding_pence - threshold
        if surplus <= 0:
            raise SurplusExceededError(
                f"no surplus: {self.held_pence}p held, threshold {threshold}p",
                budget_id=str(self.id),
                held_pence=self.held_pence,
                threshold_pence=threshold,
            )
        self._surplus_identified(
            amount_pence=surplus,
            held_pence=self.held_pence,
            threshold_pence=threshold,
            effective_on=effective_on,
            prov=prov,
        )
        return surplus

    @event(SurplusIdentified)
    def _surplus_identified(
        self,
        amount_pence: int,
        held_pence: int,
        threshold_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.surplus_outstanding_pence += amount_pence

    def recover_surplus(
        self, amount_pence: int, effective_on: date, prov: Provenance
    ) -> tuple[int, int]:
        """Recover identified surplus; over-paid client contribution is refunded first."""
        check_pence("amount_pence", amount_pence)
        self.check_in_life("surplus recovery", settles=True, effective_on=effective_on)
        if amount_pence > min(self.surplus_outstanding_pence, self.held_pence):
            raise SurplusExceededError(
                f"{amount_pence}p exceeds the {self.surplus_outstanding_pence}p surplus identified",
                budget_id=str(self.id),
                amount_pence=amount_pence,
                surplus_pence=self.surplus_outstanding_pence,
            )
        overpaid = (
            self.contributions_received_pence
            - self.refunded_pence
            - self.contribution_due_pence(effective_on)
        )
        refunded = min(amount_pence, max(0, overpaid))
        recovered = amount_pence - refunded
        self._surplus_recovered(
            refunded_pence=refunded, recovered_pence=recovered, effective_on=effective_on, prov=prov
        )
        return refunded, recovered

    @event(SurplusRecovered)
    def _surplus_recovered(
        self, refunded_pence: int, recovered_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.surplus_outstanding_pence -= refunded_pence + recovered_pence
        self.refunded_pence += refunded_pence
        self.recovered_pence += recovered_pence

    # --- corrections (rule 10) ---------------------------------------------------------------

    def correct(
        self, entry_version: int, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        check_pence("amount_pence", amount_pence)
        if prov.reason is None:
            raise InvalidCommandError("a correction states its reason", field="reason")
        self.check_in_life("correction", settles=True, effective_on=effective_on)
        entry = self.entries.get(entry_version)
        if entry is None:
            if 1 <= entry_version <= self.version:
                raise EntryNotCorrectableError(
                    "only cash payments, contributions received and spend reports are corrected"
                    " this way; invoices take credit notes",
                    budget_id=str(self.id),
                    entry_version=entry_version,
                )
            raise EntryNotFoundError(
                "no such entry", budget_id=str(self.id), entry_version=entry_version
            )
        entry_type, original = entry
        remaining = original - self.corrected.get(entry_version, 0)
        if amount_pence > remaining:
            raise CorrectionExceedsOriginalError(
                f"{amount_pence}p exceeds the {remaining}p left of the original entry",
                budget_id=str(self.id),
                entry_version=entry_version,
                original_pence=original,
                remaining_pence=remaining,
            )
        if entry_type == "CashPaymentIssued" and amount_pence > self.held_pence:
            raise InsufficientFundsError(
                "the person no longer holds the cash to return",
                budget_id=str(self.id),
                held_pence=self.held_pence,
            )
        self._corrected(
            entry_version=entry_version,
            entry_type=entry_type,
            amount_pence=amount_pence,
            effective_on=effective_on,
            prov=prov,
        )

    @event(Corrected)
    def _corrected(
        self,
        entry_version: int,
        entry_type: str,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.corrected[entry_version] = self.corrected.get(entry_version, 0) + amount_pence
        if entry_type == "CashPaymentIssued":
            self.cash_paid_pence -= amount_pence
            self.drawn_pence -= amount_pence
        elif entry_type == "ContributionReceived":
            self.contributions_received_pence -= amount_pence
        else:
            self.dp_spend_pence -= amount_pence

    # --- invoices, mirrored from the Invoice aggregate ---------------------------------------

    def receive_invoice(
        self,
        invoice_id: str,
        provider_ref: str,
        period: Period,
        amount_pence: int,
        prov: Provenance,
    ) -> None:
        """Rule 4: an invoice needs an active budget (the other checks only flag it)."""
        self.check_active()
        self._invoice_received(
            invoice_id=invoice_id,
            provider_ref=provider_ref,
            period=period,
            amount_pence=amount_pence,
            effective_on=period.end,
            prov=prov,
        )

    @event(InvoiceReceived)
    def _invoice_received(
        self,
        invoice_id: str,
        provider_ref: str,
        period: Period,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.invoices[invoice_id] = InvoiceOnBudget(provider_ref, period, amount_pence)

    def overlapping_invoices(self, provider_ref: str, period: Period) -> list[str]:
        return [
            i
            for i, inv in self.invoices.items()
            if inv.provider_ref == provider_ref
            and inv.state != "withdrawn"
            and inv.period.overlaps(period)
        ]

    def charge_invoice(
        self, invoice_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.check_active()
        self.check_in_life("invoice approval", settles=True, effective_on=effective_on)
        self.check_funds(amount_pence)
        self._invoice_charged(
            invoice_id=invoice_id, amount_pence=amount_pence, effective_on=effective_on, prov=prov
        )

    @event(InvoiceCharged)
    def _invoice_charged(
        self, invoice_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.invoices[invoice_id].state = "charged"
        self.drawn_pence += amount_pence

    def withdraw_invoice(self, invoice_id: str, effective_on: date, prov: Provenance) -> None:
        self._invoice_withdrawn(invoice_id=invoice_id, effective_on=effective_on, prov=prov)

    @event(InvoiceWithdrawn)
    def _invoice_withdrawn(self, invoice_id: str, effective_on: date, prov: Provenance) -> None:
        self.invoices[invoice_id].state = "withdrawn"

    def settle_invoice(
        self, invoice_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.check_active()
        self.check_in_life("invoice payment", settles=True, effective_on=effective_on)
        self._invoice_settled(
            invoice_id=invoice_id, amount_pence=amount_pence, effective_on=effective_on, prov=prov
        )

    @event(InvoiceSettled)
    def _invoice_settled(
        self, invoice_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.invoices[invoice_id].state = "settled"

    def credit_invoice(
        self, invoice_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.check_in_life("credit note", settles=True, effective_on=effective_on)
        self._invoice_credited(
            invoice_id=invoice_id, amount_pence=amount_pence, effective_on=effective_on, prov=prov
        )

    @event(InvoiceCredited)
    def _invoice_credited(
        self, invoice_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.drawn_pence -= amount_pence
