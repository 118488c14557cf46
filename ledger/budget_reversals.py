"""Rule 10 on a personal budget: a correction reverses (part of) one of its money entries by
version, never more than is left of it, with the exact reverse postings (``ledger.postings``);
the original stays. Mixed into ``ledger.budget.PersonalBudget``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ledger.errors import (
    InsufficientFundsError,
    ReverseLaterEntryFirstError,
    SurplusExceededError,
)
from ledger.provenance import Provenance
from ledger.reversals import check_reversal

if TYPE_CHECKING:
    from ledger.budget import PersonalBudget

# A contribution charged or paid is an entry of its own kind by where the money goes, so its
# correction posts the exact reverse: charged net (drawn from the budget year too) or gross;
# paid into the direct-payment account (net) or to the council (gross).
GROSS_CHARGE = "ContributionCharged"
NET_CHARGE = "ContributionChargedNet"
PAID_TO_COUNCIL = "ContributionPaid"
PAID_INTO_ACCOUNT = "ContributionPaidIntoAccount"
CONTRIBUTIONS_CHARGED = (GROSS_CHARGE, NET_CHARGE)
CONTRIBUTIONS_PAID = (PAID_TO_COUNCIL, PAID_INTO_ACCOUNT)


def charge_entry(net: bool) -> str:
    return NET_CHARGE if net else GROSS_CHARGE


def paid_entry(into_account: bool) -> str:
    return PAID_INTO_ACCOUNT if into_account else PAID_TO_COUNCIL


# Entries a correction may reverse on a budget, by event class name (a contribution charged or
# paid by the kinds above). An invoice's approval,
# payment and credit notes are reversed on the invoice (``Invoice.reverse_entry``), a pooled
# fund's contributions on the fund; an allocation is corrected by a revision, an ending by a
# reinstatement.
CORRECTABLE = (
    "CashPaymentIssued",
    "ContributionReceived",
    "DirectPaymentSpendReported",
    "ContributionAssessed",
    "SurplusIdentified",
    "SurplusRecovered",
    "BalanceRecovered",
    *CONTRIBUTIONS_CHARGED,
    *CONTRIBUTIONS_PAID,
)
RECOVERIES = ("SurplusRecovered", "BalanceRecovered")
NOT_CORRECTABLE = (
    "that entry moves no money a correction reverses: an allocation is corrected by a"
    " revision, an ending by a reinstatement, an invoice's entries on the invoice"
)


class BudgetReversalCommands:
    def correct(
        self: PersonalBudget,
        entry_version: int,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        entry_type = check_reversal(
            {"budget_id": str(self.id)},
            self.entries,
            self.corrected,
            entry_version,
            amount_pence,
            prov,
            version=self.version,
            not_correctable=NOT_CORRECTABLE,
        )
        self.check_in_life("correction", settles=True, effective_on=effective_on)
        self._check_reversible(entry_type, entry_version, amount_pence)
        self._corrected(
            entry_version=entry_version,
            entry_type=entry_type,
            amount_pence=amount_pence,
            refunded_pence=self.refund_reversed(entry_version, amount_pence),
            effective_on=effective_on,
            prov=prov,
        )

    def _check_reversible(
        self: PersonalBudget, entry_type: str, entry_version: int, amount_pence: int
    ) -> None:
        """What each kind of entry needs still to be there for its reversal."""
        facts = {"budget_id": str(self.id), "entry_version": entry_version}
        takes_cash = entry_type in ("CashPaymentIssued", PAID_INTO_ACCOUNT)
        if takes_cash and amount_pence > self.held_pence:
            raise InsufficientFundsError(
                f"the person holds {self.held_pence}p, not the {amount_pence}p to return",
                held_pence=self.held_pence,
                amount_pence=amount_pence,
                **facts,
            )
        if entry_type == "SurplusIdentified" and amount_pence > self.surplus_outstanding_pence:
            raise SurplusExceededError(
                f"only the {self.surplus_outstanding_pence}p of surplus not yet recovered can be"
                " withdrawn: reverse the recovery first",
                surplus_pence=self.surplus_outstanding_pence,
                amount_pence=amount_pence,
                **facts,
            )
        owed = self.contributions_owed_pence
        if entry_type in CONTRIBUTIONS_CHARGED and amount_pence > owed:
            raise ReverseLaterEntryFirstError(
                f"only {owed}p of the contributions charged is still owed: reverse the"
                " payment against it first (a refund), then the charge",
                contributions_owed_pence=owed,
                amount_pence=amount_pence,
                **facts,
            )
        if entry_type == "ContributionAssessed" and entry_version != self.assessment_version:
            raise ReverseLaterEntryFirstError(
                f"a later assessment (version {self.assessment_version}) replaced this one",
                assessment_version=self.assessment_version,
                **facts,
            )

    def refund_reversed(self: PersonalBudget, entry_version: int, amount_pence: int) -> int:
        """Of a recovery's reversal, the part that was refunded contribution: the council's
        recovered part is reversed first, the refund last (0 for other entries)."""
        if self.entries[entry_version][0] not in RECOVERIES:
            return 0
        original = self.entries[entry_version][1]
        refunded = self.entry_refunds[entry_version]
        before = self.corrected.get(entry_version, 0)
        recovered_left = max(0, original - refunded - before)
        return max(0, amount_pence - recovered_left)

    def reverse_invoice_entry(
        self: PersonalBudget,
        invoice_id: str,
        entry_type: str,
        amount_pence: int,
        reopened_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        """Mirror an invoice's reversed approval, payment or credit note on the budget: a
        reversed credit note draws on the budget again (rule 3)."""
        self.check_in_life("correction", settles=True, effective_on=effective_on)
        if entry_type == "CreditNoteIssued":
            self.check_funds(amount_pence)
        self._invoice_entry_reversed(
            invoice_id=invoice_id,
            entry_type=entry_type,
            amount_pence=amount_pence,
            reopened_pence=reopened_pence,
            effective_on=effective_on,
            prov=prov,
        )
