"""An invoice's checks: its lines, a short-pay, a credit note (rule 6) and a reversal (rule 10).
Mixed into ``ledger.invoice.Invoice``, which keeps its events and the ``@event`` methods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.errors import (
    ApprovalExceedsInvoiceError,
    CreditNoteExceedsPaidError,
    InvalidCommandError,
    InvalidTransitionError,
    ReverseLaterEntryFirstError,
    ShortPayNeedsReasonError,
    ShortPayRestUnresolvedError,
)
from ledger.invoice_numbers import check_invoice_number, invoice_number_key
from ledger.money import MAX_AMOUNT_PENCE, check_pence
from ledger.provenance import Provenance
from ledger.reversals import check_reversal
from ledger.values import InvoiceLine, InvoiceStatus, Period

if TYPE_CHECKING:
    from ledger.invoice import Invoice

MAX_INVOICE_LINES = 200
MAX_SERVICE_DAYS = 366
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


class InvoiceChecks:
    def check_short_pay(
        self: Invoice, approved_pence: int, rest: str | None, prov: Provenance
    ) -> None:
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

    def check_credit(self: Invoice, credit_note_number: str, amount_pence: int) -> None:
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

    def check_reversal(
        self: Invoice, entry_version: int, amount_pence: int, prov: Provenance
    ) -> str:
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

    def status_after_reversal(self: Invoice, entry_type: str, amount_pence: int) -> InvoiceStatus:
        if entry_type == "Paid":
            return InvoiceStatus.APPROVED
        if entry_type != "Approved":
            return self.status
        approved = self.approved_pence - amount_pence
        if approved == 0:  # open again, to be approved, disputed or rejected afresh
            return InvoiceStatus.FLAGGED if self.flags else InvoiceStatus.POSTED
        return InvoiceStatus.PAID if approved == self.paid_pence else InvoiceStatus.APPROVED
