"""The personal budget: its lifecycle, its money and the people who act for the person.

Public methods check the rules and raise named errors; the private ``@event`` methods only assign
state, because they run again on every replay.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.budget_endings import BudgetEndingCommands
from ledger.budget_figures import BudgetFigures
from ledger.budget_invoices import BudgetInvoiceCommands, InvoiceOnBudget
from ledger.budget_life import BudgetLifeCommands
from ledger.budget_money import BudgetMoneyCommands
from ledger.budget_people import BudgetPeopleCommands, Representative
from ledger.budget_reversals import (
    CONTRIBUTIONS_CHARGED,
    CONTRIBUTIONS_PAID,
    NET_CHARGE,
    PAID_INTO_ACCOUNT,
    BudgetReversalCommands,
    charge_entry,
    paid_entry,
)
from ledger.budget_runs import BudgetRunCommands
from ledger.budget_years import BudgetYearCommands
from ledger.ids import budget_id
from ledger.personal import IN_THE_CLEAR, PersonalData, context, join_key, key_subject
from ledger.provenance import Provenance, check_ref
from ledger.values import (
    NO_ALLOCATION,
    Allocation,
    BudgetStatus,
    Deployment,
    Period,
    PlanLine,
    SupportReason,
    parse_enum,
)


class PersonalBudget(
    BudgetLifeCommands,
    BudgetMoneyCommands,
    BudgetPeopleCommands,
    BudgetInvoiceCommands,
    BudgetYearCommands,
    BudgetRunCommands,
    BudgetEndingCommands,
    BudgetReversalCommands,
    BudgetFigures,
    Aggregate,
):
    """The aggregate: its events and the ``@event`` methods that assign their state. The commands
    that check the rules and decide live in the mixins (``ledger.budget_life``, ``budget_money``,
    ``budget_people``, ``budget_invoices``); its figures in ``ledger.budget_figures``."""

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

    class Reinstated(Event):
        """Rule 12: the ending at ``ending_version`` was recorded in error; the budget returns
        to ``status``, the status it had before that ending."""

        TOPIC = "careledger.budget:Reinstated"
        ending_version: int
        status: str

    class BalanceRecovered(Event):
        """Rule 12: after an ending, the direct-payment balance left is recovered (over-paid
        client contribution refunded first)."""

        TOPIC = "careledger.budget:BalanceRecovered"
        refunded_pence: int
        recovered_pence: int

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
        """Rule 10: ``amount_pence`` of the entry at ``entry_version`` reversed; of a recovery,
        ``refunded_pence`` of it was refunded contribution (0 for other entries)."""

        TOPIC = "careledger.budget:Corrected"
        class_version = 2
        entry_version: int
        entry_type: str
        amount_pence: int
        refunded_pence: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["refunded_pence"] = 0  # corrections before v2 reversed no recovery

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

    class YearAllocated(Event):
        """Rule 14: a financial year's allocation (``basis``: rolled-over, re-assessed, revised);
        ``previous`` is the year's allocation it replaces (none for a new year)."""

        TOPIC = "careledger.budget:YearAllocated"
        year_starts_on: date
        basis: str
        annual: Allocation
        allocation: Allocation
        previous: Allocation

    class PaymentBasisChosen(Event):
        """Direct payments net of the assessed contribution (the person pays it into the
        account) or gross (the council collects it); either way contributions become owed."""

        TOPIC = "careledger.budget:PaymentBasisChosen"
        net: bool

    class ContributionCharged(Event):
        TOPIC = "careledger.budget:ContributionCharged"
        amount_pence: int
        period: Period
        net: bool

    class ContributionPaid(Event):
        """A contribution paid against what is owed: to the council (gross) or into the
        direct-payment account (net)."""

        TOPIC = "careledger.budget:ContributionPaid"
        amount_pence: int
        into_account: bool

    class InvoiceEntryReversed(Event):
        """Rule 10, mirrored from ``Invoice.EntryReversed``: ``reopened_pence`` is the invoice's
        amount when a reversed approval leaves it awaiting approval again (else 0)."""

        TOPIC = "careledger.budget:InvoiceEntryReversed"
        invoice_id: str
        entry_type: str
        amount_pence: int
        reopened_pence: int

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
        self.ending_version: int | None = None  # the ending in force (a reinstatement's ref)
        self.status_before_end = BudgetStatus.OPENED
        self.last_review_on: date | None = None
        self.representatives: dict[str, Representative] = {}
        self.invoices: dict[str, InvoiceOnBudget] = {}
        self.entries: dict[int, tuple[str, int]] = {}  # version → (event type, amount)
        self.corrected: dict[int, int] = {}  # version → pence reversed so far
        self.entry_refunds: dict[int, int] = {}  # a recovery's version → its refunded part
        self.drawn_pence = 0
        self.cash_paid_pence = 0
        self.dp_spend_pence = 0
        self.contribution_weekly_pence: int | None = None
        self.assessment_version: int | None = None  # the assessment in force
        self.contributions_received_pence = 0
        self.surplus_outstanding_pence = 0
        self.recovered_pence = 0
        self.refunded_pence = 0
        # rule 14: the budget years' allocations (none: one year from the approval) and draws
        self.year_allocations: dict[date, Allocation] = {}
        self.year_drawn: dict[date, int] = {}
        self.entry_years: dict[int, date] = {}  # version of a drawing entry → its year
        self.invoice_years: dict[str, date] = {}
        self.year_annuals: dict[date, Allocation] = {}  # each year's annual figure (its rate)
        # net or gross direct payments (None: gross, contributions not owed as a receivable)
        self.net_payments: bool | None = None
        self.dp_started_on: date | None = None
        self.dp_paid_through: date | None = None
        self.contributions_charged_pence = 0
        self.contributions_paid_pence = 0
        self.last_contribution_charge_pence = 0
        self.contributions_into_account_pence = 0

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

    @event(SupportPlanAgreed)
    def _support_plan_agreed(
        self, lines: tuple[PlanLine, ...], effective_on: date, prov: Provenance
    ) -> None:
        self.plan = tuple(lines)

    # --- approval, deployment, revision ------------------------------------------------------

    @event(Approved)
    def _approved(self, allocation: Allocation, effective_on: date, prov: Provenance) -> None:
        self.allocation = allocation
        self.approved_on = effective_on
        self.status = BudgetStatus.ACTIVE

    @event(DeploymentChosen)
    def _deployment_chosen(
        self, deployment: Deployment, effective_on: date, prov: Provenance
    ) -> None:
        if deployment.pays_cash and not (self.deployment and self.deployment.pays_cash):
            self.dp_started_on = effective_on
        self.deployment = deployment

    @event(Revised)
    def _revised(
        self, allocation: Allocation, previous: Allocation, effective_on: date, prov: Provenance
    ) -> None:
        self.allocation = allocation

    # --- status ------------------------------------------------------------------------------

    @event(Suspended)
    def _suspended(self, effective_on: date, prov: Provenance) -> None:
        self.status = BudgetStatus.SUSPENDED

    @event(Resumed)
    def _resumed(self, effective_on: date, prov: Provenance) -> None:
        self.status = BudgetStatus.ACTIVE
        if self.dp_started_on is not None:  # a suspension's days are not paid afterwards
            before = effective_on - timedelta(days=1)
            self.dp_paid_through = max(before, self.dp_paid_through or before)

    @event(Ended)
    def _ended(self, end_reason: str, effective_on: date, prov: Provenance) -> None:
        self.status_before_end = self.status
        self.ending_version = self.version + 1
        self.status = BudgetStatus.ENDED
        self.ended_on = effective_on
        self.end_reason = end_reason

    @event(Reinstated)
    def _reinstated(
        self, ending_version: int, status: str, effective_on: date, prov: Provenance
    ) -> None:
        self.status = BudgetStatus(status)
        self.ended_on = None
        self.end_reason = None
        self.ending_version = None

    @event(BalanceRecovered)
    def _balance_recovered(
        self, refunded_pence: int, recovered_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self._recorded_recovery("BalanceRecovered", refunded_pence, recovered_pence)
        self.refunded_pence += refunded_pence
        self.recovered_pence += recovered_pence

    def _recorded_recovery(
        self, entry_type: str, refunded_pence: int, recovered_pence: int
    ) -> None:
        """A recovery as an entry a correction may reverse (an event method's helper: assigns)."""
        self.entries[self.version + 1] = (entry_type, refunded_pence + recovered_pence)
        self.entry_refunds[self.version + 1] = refunded_pence

    @event(Reviewed)
    def _reviewed(self, effective_on: date, prov: Provenance) -> None:
        self.last_review_on = effective_on

    # --- representatives and their decisions (rule 8) ----------------------------------------

    @event(RepresentativeAppointed)
    def _representative_appointed(
        self, representative_id: str, kind: str, basis: str, effective_on: date, prov: Provenance
    ) -> None:
        self.representatives[join_key(representative_id)] = Representative(
            kind, basis, effective_on, stored_id=representative_id
        )

    @event(RepresentativeRevoked)
    def _representative_revoked(
        self, representative_id: str, effective_on: date, prov: Provenance
    ) -> None:
        self.representatives[join_key(representative_id)].revoked_on = effective_on

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

    # --- guards ------------------------------------------------------------------------------

    # --- money: cash, contributions, surplus -------------------------------------------------

    @event(CashPaymentIssued)
    def _cash_payment_issued(
        self, amount_pence: int, period: Period, effective_on: date, prov: Provenance
    ) -> None:
        # An event method runs before the version advances: this entry is version + 1.
        self.entries[self.version + 1] = ("CashPaymentIssued", amount_pence)
        self.cash_paid_pence += amount_pence
        self._draw(amount_pence, effective_on, self.version + 1)
        self.dp_paid_through = max(period.end, self.dp_paid_through or period.end)

    @event(DirectPaymentSpendReported)
    def _direct_payment_spend_reported(
        self, amount_pence: int, period: Period, effective_on: date, prov: Provenance
    ) -> None:
        self.entries[self.version + 1] = ("DirectPaymentSpendReported", amount_pence)
        self.dp_spend_pence += amount_pence

    @event(ContributionAssessed)
    def _contribution_assessed(
        self, weekly_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.entries[self.version + 1] = ("ContributionAssessed", weekly_pence)
        self.assessment_version = self.version + 1
        self.contribution_weekly_pence = weekly_pence

    @event(ContributionReceived)
    def _contribution_received(
        self, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.entries[self.version + 1] = ("ContributionReceived", amount_pence)
        self.contributions_received_pence += amount_pence

    @event(SurplusIdentified)
    def _surplus_identified(
        self,
        amount_pence: int,
        held_pence: int,
        threshold_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.entries[self.version + 1] = ("SurplusIdentified", amount_pence)
        self.surplus_outstanding_pence += amount_pence

    @event(SurplusRecovered)
    def _surplus_recovered(
        self, refunded_pence: int, recovered_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self._recorded_recovery("SurplusRecovered", refunded_pence, recovered_pence)
        self.surplus_outstanding_pence -= refunded_pence + recovered_pence
        self.refunded_pence += refunded_pence
        self.recovered_pence += recovered_pence

    # --- corrections (rule 10) ---------------------------------------------------------------

    @event(Corrected)
    def _corrected(
        self,
        entry_version: int,
        entry_type: str,
        amount_pence: int,
        refunded_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.corrected[entry_version] = self.corrected.get(entry_version, 0) + amount_pence
        if entry_type == "CashPaymentIssued":
            self.cash_paid_pence -= amount_pence
            self._undraw(amount_pence, self.entry_years.get(entry_version))
        elif entry_type == "ContributionReceived":
            self.contributions_received_pence -= amount_pence
        elif entry_type == "DirectPaymentSpendReported":
            self.dp_spend_pence -= amount_pence
        elif entry_type == "ContributionAssessed":
            self.contribution_weekly_pence = (self.contribution_weekly_pence or 0) - amount_pence
        elif entry_type == "SurplusIdentified":
            self.surplus_outstanding_pence -= amount_pence
        elif entry_type in CONTRIBUTIONS_CHARGED:
            self.contributions_charged_pence -= amount_pence
            if entry_type == NET_CHARGE:
                self._undraw(amount_pence, self.entry_years.get(entry_version))
        elif entry_type in CONTRIBUTIONS_PAID:
            self._contribution_paid_moved(-amount_pence, entry_type == PAID_INTO_ACCOUNT)
        else:  # a surplus or balance recovery: the money goes back to the account
            self.refunded_pence -= refunded_pence
            self.recovered_pence -= amount_pence - refunded_pence
            if entry_type == "SurplusRecovered":
                self.surplus_outstanding_pence += amount_pence

    # --- invoices, mirrored from the Invoice aggregate ---------------------------------------

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

    @event(InvoiceCharged)
    def _invoice_charged(
        self, invoice_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.invoices[invoice_id].state = "charged"
        key = self._draw(amount_pence, self.invoices[invoice_id].period.start, self.version + 1)
        self.invoice_years[invoice_id] = key

    @event(InvoiceWithdrawn)
    def _invoice_withdrawn(self, invoice_id: str, effective_on: date, prov: Provenance) -> None:
        self.invoices[invoice_id].state = "withdrawn"

    @event(InvoiceSettled)
    def _invoice_settled(
        self, invoice_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.invoices[invoice_id].state = "settled"

    @event(InvoiceCredited)
    def _invoice_credited(
        self, invoice_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self._undraw(amount_pence, self.invoice_years.get(invoice_id))

    # --- budget years, net payments, contributions owed --------------------------------------

    @event(YearAllocated)
    def _year_allocated(
        self,
        year_starts_on: date,
        basis: str,
        annual: Allocation,
        allocation: Allocation,
        previous: Allocation,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        if not self.year_allocations and self.approved_on is not None:
            self.year_allocations[self.approved_on] = self.allocation  # the approval year closes
            self.year_annuals[self.approved_on] = self.allocation
        self.year_allocations[year_starts_on] = allocation
        self.year_annuals[year_starts_on] = annual
        self.allocation = annual
        self.entry_years[self.version + 1] = year_starts_on  # the entry's year, for statements

    @event(PaymentBasisChosen)
    def _payment_basis_chosen(self, net: bool, effective_on: date, prov: Provenance) -> None:
        self.net_payments = net

    @event(ContributionCharged)
    def _contribution_charged(
        self, amount_pence: int, period: Period, net: bool, effective_on: date, prov: Provenance
    ) -> None:
        self.entries[self.version + 1] = (charge_entry(net), amount_pence)
        self.contributions_charged_pence += amount_pence
        self.last_contribution_charge_pence = amount_pence
        if net:  # the client's share of the care, paid by the person into the account
            self._draw(amount_pence, effective_on, self.version + 1)

    @event(ContributionPaid)
    def _contribution_paid(
        self, amount_pence: int, into_account: bool, effective_on: date, prov: Provenance
    ) -> None:
        self.entries[self.version + 1] = (paid_entry(into_account), amount_pence)
        self._contribution_paid_moved(amount_pence, into_account)

    def _contribution_paid_moved(self, amount_pence: int, into_account: bool) -> None:
        """State only: a contribution paid (or, negative, its reversal)."""
        self.contributions_paid_pence += amount_pence
        if into_account:
            self.contributions_into_account_pence += amount_pence

    def _draw(self, amount_pence: int, day: date, entry_version: int | None = None) -> date:
        """State only (called by ``@event`` methods): draw on the year ``day`` falls in."""
        key = self.year_key(day) or day
        self.drawn_pence += amount_pence
        self.year_drawn[key] = self.year_drawn.get(key, 0) + amount_pence
        if entry_version is not None:
            self.entry_years[entry_version] = key
        return key

    def _undraw(self, amount_pence: int, key: date | None) -> None:
        self.drawn_pence -= amount_pence
        key = key or self.approved_on
        if key is not None:
            self.year_drawn[key] = self.year_drawn.get(key, 0) - amount_pence
            self.entry_years[self.version + 1] = key  # this entry's year, for statements

    @event(InvoiceEntryReversed)
    def _invoice_entry_reversed(
        self,
        invoice_id: str,
        entry_type: str,
        amount_pence: int,
        reopened_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        invoice = self.invoices[invoice_id]
        if entry_type == "Approved":
            self._undraw(amount_pence, self.invoice_years.get(invoice_id))
            if reopened_pence:
                invoice.state = "received"
        elif entry_type == "Paid":
            invoice.state = "charged"
        else:
            self._draw(amount_pence, invoice.period.start)
