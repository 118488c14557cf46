"""Invoices mirrored on a personal budget from the Invoice aggregate. Mixed into
``ledger.budget.PersonalBudget``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ledger.provenance import Provenance
from ledger.values import (
    Period,
)

if TYPE_CHECKING:
    from ledger.budget import PersonalBudget


@dataclass(slots=True)
class InvoiceOnBudget:
    provider_ref: str
    period: Period
    amount_pence: int
    state: str = "received"  # received → charged → settled, or withdrawn


class BudgetInvoiceCommands:
    def receive_invoice(
        self: PersonalBudget,
        invoice_id: str,
        provider_ref: str,
        period: Period,
        amount_pence: int,
        prov: Provenance,
    ) -> None:
        """Rule 4: an invoice needs an active budget (the other checks only flag it); after the
        end, a final invoice for care delivered before it is received (rule 12)."""
        self.check_settles("invoice", period, period.end, dated=False)
        self._invoice_received(
            invoice_id=invoice_id,
            provider_ref=provider_ref,
            period=period,
            amount_pence=amount_pence,
            effective_on=period.end,
            prov=prov,
        )

    def overlapping_invoices(self: PersonalBudget, provider_ref: str, period: Period) -> list[str]:
        return [
            i
            for i, inv in self.invoices.items()
            if inv.provider_ref == provider_ref
            and inv.state != "withdrawn"
            and inv.period.overlaps(period)
        ]

    def charge_invoice(
        self: PersonalBudget,
        invoice_id: str,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.check_settles("invoice approval", self.invoices[invoice_id].period, effective_on)
        self.check_funds(amount_pence, self.invoices[invoice_id].period.start)
        self._invoice_charged(
            invoice_id=invoice_id, amount_pence=amount_pence, effective_on=effective_on, prov=prov
        )

    def withdraw_invoice(
        self: PersonalBudget, invoice_id: str, effective_on: date, prov: Provenance
    ) -> None:
        self._invoice_withdrawn(invoice_id=invoice_id, effective_on=effective_on, prov=prov)

    def settle_invoice(
        self: PersonalBudget,
        invoice_id: str,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.check_settles("invoice payment", self.invoices[invoice_id].period, effective_on)
        self._invoice_settled(
            invoice_id=invoice_id, amount_pence=amount_pence, effective_on=effective_on, prov=prov
        )

    def credit_invoice(
        self: PersonalBudget,
        invoice_id: str,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.check_in_life("credit note", settles=True, effective_on=effective_on)
        self._invoice_credited(
            invoice_id=invoice_id, amount_pence=amount_pence, effective_on=effective_on, prov=prov
        )
