"""A care firm's 4-weekly invoice for one budget, and what the council does with it: approve and
pay; or, when it bills beyond the plan, dispute it and then reject it (the firm sends a corrected
one) or approve it with a reason; the odd late (back-dated) invoice and credit note for missed
visits."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from ledger.app_invoices import InvoiceDraft
from ledger.invoice import Invoice
from ledger.values import DecisionKind, InvoiceFlag, InvoiceLine, Period
from scripts.demo_ops import (
    approve_invoice,
    credit_invoice,
    pay_invoice,
    post_invoice,
    reject_invoice,
)

if TYPE_CHECKING:
    from scripts.demo_year import Year

OVER_PLAN = 115  # percent of the planned hours billed in an over-plan invoice
RESENT_PER_COUNCIL = 2  # invoices a care firm sends twice (refused through the use case)


def delivered(y: Year, period: Period, percent: int | None = None) -> tuple[InvoiceLine, ...]:
    """The commissioned lines for the period: planned units less the odd missed visit."""
    weeks = period.days / 7
    lines = []
    for line in y.lines:
        if line.provider_id != y.p.provider:
            continue
        share = percent if percent is not None else y.rng.randint(92, 100)
        units = max(25, int(line.units_per_week_hundredths * weeks * share / 100) // 25 * 25)
        lines.append(InvoiceLine(line.service, units, line.rate_pence))
    return tuple(lines)


def invoice_period(y: Year, k: int, period: Period) -> None:
    p = y.p
    over = k == p.over_plan
    lines = delivered(y, period, OVER_PLAN if over else None)
    sent = period.end + timedelta(days=y.rng.randint(1, 6))
    if k == p.late:
        sent += timedelta(days=y.rng.randint(45, 100))  # found in a drawer: billed months late
    number = f"INV-{y.books.plan.code}-{p.ref}-{k:02d}"
    invoice = _post(y, number, period, lines, sent)
    if len(y.books.resend) < RESENT_PER_COUNCIL and not over:
        y.books.resend.append(
            (p.provider, InvoiceDraft(number, str(y.budget.id), period, lines, sent))
        )
    if InvoiceFlag.OVER_PLAN in invoice.flags and y.rng.random() < 0.5:
        _dispute_and_replace(y, invoice, number, period, sent)
        return
    _approve_and_pay(y, k, invoice, sent)


def _post(
    y: Year, number: str, period: Period, lines: tuple[InvoiceLine, ...], sent: date
) -> Invoice:
    provider = y.books.providers[y.p.provider]
    prov = y.act.firm(y.p.provider)
    invoice = post_invoice(y.budget, provider, y.books.council, number, period, lines, sent, prov)
    y.invoices.append(invoice)
    return invoice


def _dispute_and_replace(
    y: Year, invoice: Invoice, number: str, period: Period, sent: date
) -> None:
    """Hours beyond the plan: disputed, rejected, and billed again as planned."""
    officer = y.act.officer
    invoice.dispute(sent + timedelta(days=2), officer(reason="hours-exceed-plan"))
    rejected_on = sent + timedelta(days=y.rng.randint(7, 20))
    reject_invoice(invoice, y.budget, rejected_on, officer(reason="hours-not-delivered"))
    resent = rejected_on + timedelta(days=y.rng.randint(1, 5))
    again = _post(y, f"{number}R", period, delivered(y, period), resent)
    _approve_and_pay(y, -1, again, resent)


def _approve_and_pay(y: Year, k: int, invoice: Invoice, sent: date) -> None:
    officer = y.act.officer
    approved_on = sent + timedelta(days=y.rng.randint(3, 10))
    if k % 4 == 1:
        y.decision(DecisionKind.APPROVE_INVOICE, str(invoice.id), approved_on)
    if InvoiceFlag.OVER_PLAN in invoice.flags:
        prov = officer(reason="emergency-cover-agreed")
    elif invoice.flags:
        prov = officer(reason="care-delivered-checked")
    else:
        prov = officer()
    approve_invoice(invoice, y.budget, approved_on, prov)
    paid_on = approved_on + timedelta(days=y.rng.randint(5, 14))
    remittance = f"BACS-{y.books.plan.code}-{paid_on:%Y%m%d}"
    pay_invoice(invoice, y.budget, remittance, paid_on, officer())
    if k == y.p.credit:
        visits = y.rng.randint(1, 3)
        amount = min(invoice.paid_pence, visits * invoice.lines[0].rate_pence)
        credited_on = paid_on + timedelta(days=y.rng.randint(10, 30))
        prov = y.act.firm(y.p.provider, reason="missed-visits")
        credit_invoice(invoice, y.budget, f"CN-{invoice.invoice_number}", amount, credited_on, prov)
