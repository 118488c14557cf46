"""A care firm's invoice against a personal budget, from posting to payment and credit notes."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import (
    ApprovalExceedsInvoiceError,
    CreditNoteExceedsPaidError,
    InvalidCommandError,
    InvalidTransitionError,
    InvoiceFlaggedError,
    ReverseLaterEntryFirstError,
    ShortPayNeedsReasonError,
    ShortPayRestUnresolvedError,
)
from ledger.ids import invoice_id
from ledger.invoice_numbers import check_invoice_number, invoice_number_key
from ledger.money import MAX_AMOUNT_PENCE, check_pence
from ledger.provenance import Provenance, check_ref
from ledger.reversals import check_reversal
from ledger.values import InvoiceLine, InvoiceStatus, Period

MAX_INVOICE_LINES = 200
MAX_SERVICE_DAYS = 366
OPEN_STATES = (InvoiceStatus.POSTED, InvoiceStatus.FLAGGED, InvoiceStatus.DISPUTED)
SHORT_PAY_RESTS = ("disputed", "rejected")  # what becomes of the part of an invoice not approved


def check_invoice_lines(lines: tuple[InvoiceLine, ...], period: Period) -> int:
    """Lines are present and bounded; returns the invoice total in pence."""
    if not 1 <= len(lines) <= MAX_INVOICE_LINES:
        raise InvalidCommandError(f"an invoice has 1..{MAX_INVOICE_LINES} lines", field="lines")
    if period.days > MAX_SERVICE_DAYS:
        raise InvalidCommandError("a service period is at most a year", field="period")
    total = sum(line.amount_pence for line in lines)
    if not 0 < total <= MAX_AMOUNT_PENCE:
        raise InvalidCommandError("the invoice total is out of bounds", field="lines")
    return total


class Invoice(Aggregate):
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

    def check_short_pay(self, approved_pence: int, rest: str | None, prov: Provenance) -> None:
        """A short-pay approves less than the invoice, with a reason, and says whether the
        rest is disputed or rejected; approving it all needs neither."""
        check_pence("approved_pence", approved_pence)
        facts = {"invoice_id": str(self.id), "amount_pence": self.amount_pence}
        if approved_pence > self.amount_pence:
            raise ApprovalExceedsInvoiceError(
                f"{approved_pence}p approved exceeds the invoice's {self.amount_pence}p",
                approved_pence=approved_pence,
                **facts,
            )
        if approved_pence == self.amount_pence:
            return
        short = self.amount_pence - approved_pence
        if prov.reason is None:
            raise ShortPayNeedsReasonError(
                f"approving {approved_pence}p of {self.amount_pence}p states its reason",
                approved_pence=approved_pence,
                short_paid_pence=short,
                **facts,
            )
        if rest not in SHORT_PAY_RESTS:
            raise ShortPayRestUnresolvedError(
                f"say whether the {short}p not approved is disputed or rejected",
                approved_pence=approved_pence,
                short_paid_pence=short,
                rest=rest,
                **facts,
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

    def check_credit(self, credit_note_number: str, amount_pence: int) -> None:
        """Rule 6: credit notes never exceed what was paid on the invoice. Rule 13: a credit
        note number is compared by its key, so a look-alike of one used is the same number."""
        check_pence("amount_pence", amount_pence)
        check_invoice_number("credit_note_number", credit_note_number)
        self._check_status("credit", InvoiceStatus.PAID)
        key = invoice_number_key(credit_note_number)
        used = next((n for n in self.credit_notes if invoice_number_key(n) == key), None)
        if used is not None:
            raise InvalidTransitionError(
                f"credit note number {used!r} was already used on this invoice",
                invoice_id=str(self.id),
                credit_note_number=credit_note_number,
                used_credit_note_number=used,
            )
        if self.credited_pence + amount_pence > self.paid_pence:
            raise CreditNoteExceedsPaidError(
                f"credits would total {self.credited_pence + amount_pence}p;"
                f" {self.paid_pence}p was paid",
                invoice_id=str(self.id),
                paid_pence=self.paid_pence,
                credited_pence=self.credited_pence,
                amount_pence=amount_pence,
            )

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

    def check_reversal(self, entry_version: int, amount_pence: int, prov: Provenance) -> str:
        """The reversed entry's type and the invoice's status after the reversal, checked: a
        payment is reversed before the approval it pays, credit notes before the payment."""
        entry_type = check_reversal(
            {"invoice_id": str(self.id)},
            self.entries,
            self.reversed,
            entry_version,
            amount_pence,
            prov,
            version=self.version,
            not_correctable="only an invoice's approval, payment and credit notes move money",
        )
        if entry_type == "Approved" and amount_pence > self.payable_pence:
            raise ReverseLaterEntryFirstError(
                f"{self.paid_pence}p of the approval was paid: reverse the payment first"
                " (or the care firm issues a credit note)",
                invoice_id=str(self.id),
                amount_pence=amount_pence,
                unpaid_pence=self.payable_pence,
            )
        if entry_type == "Paid" and amount_pence > self.paid_pence - self.credited_pence:
            raise ReverseLaterEntryFirstError(
                f"credit notes of {self.credited_pence}p rest on the payment: reverse them first",
                invoice_id=str(self.id),
                amount_pence=amount_pence,
                credited_pence=self.credited_pence,
            )
        return entry_type

    def status_after_reversal(self, entry_type: str, amount_pence: int) -> InvoiceStatus:
        if entry_type == "Paid":
            return InvoiceStatus.APPROVED
        if entry_type != "Approved":
            return self.status
        approved = self.approved_pence - amount_pence
        if approved == 0:  # open again, to be approved, disputed or rejected afresh
            return InvoiceStatus.FLAGGED if self.flags else InvoiceStatus.POSTED
        return InvoiceStatus.PAID if approved == self.paid_pence else InvoiceStatus.APPROVED

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
