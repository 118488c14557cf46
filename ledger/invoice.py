"""A care firm's invoice against a personal budget, from posting to payment and credit notes."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import (
    InvalidCommandError,
    InvalidTransitionError,
    InvoiceFlaggedError,
)
from ledger.ids import invoice_id
from ledger.invoice_checks import InvoiceChecks, check_invoice_lines
from ledger.invoice_numbers import check_invoice_number
from ledger.provenance import Provenance, check_ref
from ledger.values import InvoiceLine, InvoiceStatus, Period

OPEN_STATES = (InvoiceStatus.POSTED, InvoiceStatus.FLAGGED, InvoiceStatus.DISPUTED)


class Invoice(InvoiceChecks, Aggregate):
    TOPIC = "careledger.invoice:Invoice"

    class Event(Aggregate.Event):
        TOPIC = "careledger.invoice:Event"
        effective_on: date
        prov: Provenance

    class Created(Event, Aggregate.Created):
        TOPIC = "careledger.invoice:Created"

    class Posted(Created):
        TOPIC = "careledger.invoice:Posted"
        council: str
        budget_id: str
        provider_ref: str
        invoice_number: str
        period: Period
        lines: tuple[InvoiceLine, ...]
        amount_pence: int
        flags: tuple[str, ...]

    class Approved(Event):
        """``amount_pence`` is what was approved and charged; a short-pay leaves
        ``short_paid_pence`` of the invoice disputed or rejected (``short_pay_rest``)."""

        TOPIC = "careledger.invoice:Approved"
        class_version = 2
        amount_pence: int
        short_paid_pence: int
        short_pay_rest: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Approvals stored before short-pay approved the whole invoice."""
            state["short_paid_pence"] = 0
            state["short_pay_rest"] = None

    class Disputed(Event):
        TOPIC = "careledger.invoice:Disputed"

    class Rejected(Event):
        TOPIC = "careledger.invoice:Rejected"

    class Paid(Event):
        TOPIC = "careledger.invoice:Paid"
        amount_pence: int
        remittance_ref: str

    class CreditNoteIssued(Event):
        TOPIC = "careledger.invoice:CreditNoteIssued"
        credit_note_number: str
        amount_pence: int

    class EntryReversed(Event):
        """Rule 10: (part of) the approval, payment or credit note at ``entry_version``
        reversed; ``status`` is the invoice's status after it."""

        TOPIC = "careledger.invoice:EntryReversed"
        entry_version: int
        entry_type: str
        amount_pence: int
        status: str

    @staticmethod
    def create_id(provider_ref: str, invoice_number: str, **_: Any) -> UUID:
        return invoice_id(provider_ref, invoice_number)

    @classmethod
    def post(
        cls,
        council: str,
        budget_id: str,
        provider_ref: str,
        invoice_number: str,
        period: Period,
        lines: tuple[InvoiceLine, ...],
        flags: tuple[str, ...],
        effective_on: date,
        prov: Provenance,
    ) -> Invoice:
        check_invoice_number("invoice_number", invoice_number)
        amount = check_invoice_lines(lines, period)
        return cls(
            council=council,
            budget_id=budget_id,
            provider_ref=provider_ref,
            invoice_number=invoice_number,
            period=period,
            lines=tuple(lines),
            amount_pence=amount,
            flags=tuple(flags),
            effective_on=effective_on,
            prov=prov,
        )

    @event(Posted)
    def __init__(
        self,
        council: str,
        budget_id: str,
        provider_ref: str,
        invoice_number: str,
        period: Period,
        lines: tuple[InvoiceLine, ...],
        amount_pence: int,
        flags: tuple[str, ...],
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.council = council
        self.budget_id = budget_id
        self.provider_ref = provider_ref
        self.invoice_number = invoice_number
        self.period = period
        self.lines = tuple(lines)
        self.amount_pence = amount_pence
        self.flags = tuple(flags)
        self.status = InvoiceStatus.FLAGGED if flags else InvoiceStatus.POSTED
        self.approved_pence = 0
        self.short_paid_pence = 0
        self.short_pay_rest: str | None = None
        self.paid_pence = 0
        self.credited_pence = 0
        self.credit_notes: dict[str, int] = {}
        self.entries: dict[int, tuple[str, int]] = {}  # money entries: version → (type, pence)
        self.reversed: dict[int, int] = {}  # version → pence reversed so far

    def _check_status(self, command: str, *allowed: InvoiceStatus) -> None:
        if self.status not in allowed:
            raise InvalidTransitionError(
                f"cannot {command} an invoice that is {self.status.value}",
                invoice_id=str(self.id),
                status=self.status.value,
            )

    def check_approvable(self, prov: Provenance) -> None:
        """Open invoices only; a flagged one needs an explicit override reason."""
        self._check_status("approve", *OPEN_STATES)
        if self.flags and prov.reason is None:
            raise InvoiceFlaggedError(
                f"invoice is flagged ({', '.join(self.flags)}); approve with a reason to override",
                invoice_id=str(self.id),
                flags=list(self.flags),
            )

    def approve(
        self,
        effective_on: date,
        prov: Provenance,
        approved_pence: int | None = None,
        rest: str | None = None,
    ) -> None:
        """Approve the invoice, or (a short-pay) ``approved_pence`` of it with the ``rest``
        disputed or rejected."""
        self.check_approvable(prov)
        amount = self.amount_pence if approved_pence is None else approved_pence
        self.check_short_pay(amount, rest, prov)
        short = self.amount_pence - amount
        self._approved(
            amount_pence=amount,
            short_paid_pence=short,
            short_pay_rest=rest if short else None,
            effective_on=effective_on,
            prov=prov,
        )

    @event(Approved)
    def _approved(
        self,
        amount_pence: int,
        short_paid_pence: int,
        short_pay_rest: str | None,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.entries[self.version + 1] = ("Approved", amount_pence)
        self.status = InvoiceStatus.APPROVED
        self.approved_pence = amount_pence
        self.short_paid_pence = short_paid_pence
        self.short_pay_rest = short_pay_rest

    def dispute(self, effective_on: date, prov: Provenance) -> None:
        self._check_status("dispute", InvoiceStatus.POSTED, InvoiceStatus.FLAGGED)
        if prov.reason is None:
            raise InvalidCommandError("a dispute states its reason", field="reason")
        self._disputed(effective_on=effective_on, prov=prov)

    @event(Disputed)
    def _disputed(self, effective_on: date, prov: Provenance) -> None:
        self.status = InvoiceStatus.DISPUTED

    def reject(self, effective_on: date, prov: Provenance) -> None:
        self._check_status("reject", *OPEN_STATES)
        if prov.reason is None:
            raise InvalidCommandError("a rejection states its reason", field="reason")
        self._rejected(effective_on=effective_on, prov=prov)

    @event(Rejected)
    def _rejected(self, effective_on: date, prov: Provenance) -> None:
        self.status = InvoiceStatus.REJECTED

    def check_payable(self) -> None:
        self._check_status("pay", InvoiceStatus.APPROVED)

    @property
    def payable_pence(self) -> int:
        """Approved and not yet paid (a reversed payment is paid again)."""
        return self.approved_pence - self.paid_pence

    def pay(self, remittance_ref: str, effective_on: date, prov: Provenance) -> None:
        self.check_payable()
        check_ref("remittance_ref", remittance_ref)
        self._paid(
            amount_pence=self.payable_pence,
            remittance_ref=remittance_ref,
            effective_on=effective_on,
            prov=prov,
        )

    @event(Paid)
    def _paid(
        self, amount_pence: int, remittance_ref: str, effective_on: date, prov: Provenance
    ) -> None:
        self.entries[self.version + 1] = ("Paid", amount_pence)
        self.status = InvoiceStatus.PAID
        self.paid_pence += amount_pence
        self.remittance_ref = remittance_ref

    def issue_credit_note(
        self, credit_note_number: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.check_credit(credit_note_number, amount_pence)
        self._credit_note_issued(
            credit_note_number=credit_note_number,
            amount_pence=amount_pence,
            effective_on=effective_on,
            prov=prov,
        )

    @event(CreditNoteIssued)
    def _credit_note_issued(
        self, credit_note_number: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.entries[self.version + 1] = ("CreditNoteIssued", amount_pence)
        self.credit_notes[credit_note_number] = amount_pence
        self.credited_pence += amount_pence

    # --- reversals (rule 10) -----------------------------------------------------------------

    def reverse_entry(
        self, entry_version: int, amount_pence: int, effective_on: date, prov: Provenance
    ) -> str:
        """Reverse (part of) an approval, payment or credit note; returns its type."""
        entry_type = self.check_reversal(entry_version, amount_pence, prov)
        self._entry_reversed(
            entry_version=entry_version,
            entry_type=entry_type,
            amount_pence=amount_pence,
            status=self.status_after_reversal(entry_type, amount_pence).value,
            effective_on=effective_on,
            prov=prov,
        )
        return entry_type

    @event(EntryReversed)
    def _entry_reversed(
        self,
        entry_version: int,
        entry_type: str,
        amount_pence: int,
        status: str,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.reversed[entry_version] = self.reversed.get(entry_version, 0) + amount_pence
        if entry_type == "Approved":
            self.approved_pence -= amount_pence
            if self.approved_pence == 0:
                self.short_paid_pence, self.short_pay_rest = 0, None
        elif entry_type == "Paid":
            self.paid_pence -= amount_pence
        else:
            self.credited_pence -= amount_pence
        self.status = InvoiceStatus(status)
