"""Use cases for care firms' invoices and the council's handling of them."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.app_core import LedgerCore, Outcome
from ledger.budget import PersonalBudget
from ledger.council import Council
from ledger.errors import DuplicateInvoiceError, InvalidCommandError, LedgerError
from ledger.ids import invoice_id
from ledger.invoice import Invoice, check_invoice_lines
from ledger.provenance import Provenance
from ledger.provider import Provider
from ledger.values import DeploymentKind, InvoiceFlag, InvoiceLine, Period, PlanLine

MAX_BATCH = 10_000


@dataclass(frozen=True)
class InvoiceDraft:
    """What a care firm sends: its invoice number, the budget, the service period, the lines."""

    invoice_number: str
    budget_id: str
    period: Period
    lines: tuple[InvoiceLine, ...]
    invoice_date: date


def planned_cost(plan: tuple[PlanLine, ...] | None, provider_ref: str, period: Period) -> int:
    """The plan's cost for ``period`` for this provider (all lines if none names a provider)."""
    lines = plan or ()
    named = [line for line in lines if line.provider_id == provider_ref]
    if not named and not any(line.provider_id for line in lines):
        named = list(lines)
    weekly = sum(line.weekly_cost_pence for line in named)
    return -(-weekly * period.days // 7)


def invoice_flags(
    budget: PersonalBudget, provider: Provider, council: Council, period: Period, amount_pence: int
) -> tuple[str, ...]:
    """Rules 4 and 5: what parks an invoice for checking (kept, not paid until approved)."""
    flags: list[InvoiceFlag] = []
    if not provider.is_registered_throughout(period):
        flags.append(InvoiceFlag.PROVIDER_NOT_REGISTERED)
    if budget.approved_on is None or period.start < budget.approved_on:
        flags.append(InvoiceFlag.OUTSIDE_BUDGET_LIFE)
    allowed = planned_cost(budget.plan, provider.provider_ref, period)
    if amount_pence * 10_000 > allowed * (10_000 + council.invoice_tolerance_bp):
        flags.append(InvoiceFlag.OVER_PLAN)
    if budget.overlapping_invoices(provider.provider_ref, period):
        flags.append(InvoiceFlag.OVERLAPPING_PERIOD)
    deployment = budget.deployment
    if (
        deployment is None
        or not deployment.takes_invoices
        or (
            deployment.kind == DeploymentKind.ISF
            and deployment.provider_id != provider.provider_ref
        )
    ):
        flags.append(InvoiceFlag.NOT_COMMISSIONED)
    return tuple(f.value for f in flags)


@dataclass
class Posting:
    """What posting invoices for one provider needs, loaded once per command."""

    provider: Provider
    check_store: bool = True  # False: trust the save's uniqueness (the batch's fast path)
    budgets: dict[str, PersonalBudget] = field(default_factory=dict)
    councils: dict[str, Council] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)


class InvoiceCommands(LedgerCore):
    def _post_one(self, draft: InvoiceDraft, ctx: Posting, prov: Provenance) -> Invoice:
        """Check and post one invoice. Nothing is changed before the last check has passed, so a
        refusal leaves the loaded budget as it was."""
        provider_ref = ctx.provider.provider_ref
        key = invoice_id(provider_ref, draft.invoice_number)
        budget = ctx.budgets.get(draft.budget_id) or self.budget(draft.budget_id)
        ctx.budgets[draft.budget_id] = budget
        if (
            str(key) in ctx.invoices
            or str(key) in budget.invoices
            or (ctx.check_store and self.exists(key))
        ):
            raise DuplicateInvoiceError(
                f"invoice {draft.invoice_number} was already posted by {provider_ref}",
                provider=provider_ref,
                invoice_number=draft.invoice_number,
            )
        council = ctx.councils.get(budget.council) or self.council(budget.council)
        ctx.councils[budget.council] = council
        amount = check_invoice_lines(draft.lines, draft.period)
        flags = invoice_flags(budget, ctx.provider, council, draft.period, amount)
        invoice = Invoice.post(
            budget.council,
            str(budget.id),
            provider_ref,
            draft.invoice_number,
            draft.period,
            draft.lines,
            flags,
            draft.invoice_date,
            prov,
        )
        budget.receive_invoice(str(invoice.id), provider_ref, draft.period, amount, prov)
        ctx.invoices[str(key)] = invoice
        return invoice

    def post_invoice(self, provider_ref: str, draft: InvoiceDraft, prov: Provenance) -> Outcome:
        def action() -> tuple[list[Aggregate], Outcome]:
            ctx = Posting(self.provider(provider_ref))
            invoice = self._post_one(_canonical_budget_id(draft), ctx, prov)
            return [invoice, *ctx.budgets.values()], _invoice_outcome(invoice)

        return self.run_command(
            "post_invoice", {"provider": provider_ref, "draft": draft}, prov, action
        )

    def post_invoices(
        self, provider_ref: str, drafts: Sequence[InvoiceDraft], prov: Provenance
    ) -> Outcome:
        """A batch, with a result per item: the valid invoices are written in one transaction;
        each refused one is reported with its error and writes nothing.

        The first attempt does not ask the store whether each invoice number exists: the save's
        uniqueness would refuse the whole batch, and the retry then checks item by item."""
        if not 1 <= len(drafts) <= MAX_BATCH:
            raise InvalidCommandError(f"a batch has 1..{MAX_BATCH} invoices", field="invoices")
        attempts = itertools.count()

        def action() -> tuple[list[Aggregate], Outcome]:
            ctx = Posting(self.provider(provider_ref), check_store=next(attempts) > 0)
            results = [self._batch_item(i, d, ctx, prov) for i, d in enumerate(drafts)]
            accepted = sum(1 for r in results if r["accepted"])
            outcome = {"accepted": accepted, "refused": len(results) - accepted, "results": results}
            return [*ctx.invoices.values(), *ctx.budgets.values()], outcome

        args = {"provider": provider_ref, "drafts": list(drafts)}
        return self.run_command("post_invoices", args, prov, action)

    def _batch_item(
        self, index: int, draft: InvoiceDraft, ctx: Posting, prov: Provenance
    ) -> dict[str, Any]:
        try:
            invoice = self._post_one(_canonical_budget_id(draft), ctx, prov)
        except LedgerError as error:
            self.notify_refusal("post_invoices", error, prov, index)
            return {"index": index, "accepted": False, "error": error.code, "detail": error.detail}
        return {"index": index, "accepted": True, **_invoice_outcome(invoice)}

    def invoice_command(
        self,
        command: str,
        invoice_ref: UUID | str,
        args: dict[str, Any],
        prov: Provenance,
        change: Callable[[Invoice, PersonalBudget], None],
        expected_version: int | None = None,
    ) -> Outcome:
        """Load the invoice and its budget, apply ``change`` to both, save them together."""

        def action() -> tuple[list[Aggregate], Outcome]:
            invoice = self.invoice(invoice_ref, expected_version)
            budget = self.budget(invoice.budget_id)
            change(invoice, budget)
            return [invoice, budget], _invoice_outcome(invoice)

        return self.run_command(command, {"invoice": str(invoice_ref), **args}, prov, action)

    def approve_invoice(
        self,
        invoice_ref: UUID | str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        def change(invoice: Invoice, budget: PersonalBudget) -> None:
            invoice.check_approvable(prov)
            budget.charge_invoice(str(invoice.id), invoice.amount_pence, effective_on, prov)
            invoice.approve(effective_on, prov)

        return self.invoice_command(
            "approve_invoice", invoice_ref, {"on": effective_on}, prov, change, expected_version
        )

    def dispute_invoice(
        self,
        invoice_ref: UUID | str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        return self.invoice_command(
            "dispute_invoice",
            invoice_ref,
            {"on": effective_on},
            prov,
            lambda invoice, _budget: invoice.dispute(effective_on, prov),
            expected_version,
        )

    def reject_invoice(
        self,
        invoice_ref: UUID | str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        def change(invoice: Invoice, budget: PersonalBudget) -> None:
            invoice.reject(effective_on, prov)
            budget.withdraw_invoice(str(invoice.id), effective_on, prov)

        return self.invoice_command(
            "reject_invoice", invoice_ref, {"on": effective_on}, prov, change, expected_version
        )

    def pay_invoice(
        self,
        invoice_ref: UUID | str,
        remittance_ref: str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        def change(invoice: Invoice, budget: PersonalBudget) -> None:
            invoice.check_payable()
            budget.settle_invoice(str(invoice.id), invoice.approved_pence, effective_on, prov)
            invoice.pay(remittance_ref, effective_on, prov)

        args = {"remittance": remittance_ref, "on": effective_on}
        return self.invoice_command(
            "pay_invoice", invoice_ref, args, prov, change, expected_version
        )

    def issue_credit_note(
        self,
        invoice_ref: UUID | str,
        credit_note_number: str,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        def change(invoice: Invoice, budget: PersonalBudget) -> None:
            invoice.issue_credit_note(credit_note_number, amount_pence, effective_on, prov)
            budget.credit_invoice(str(invoice.id), amount_pence, effective_on, prov)

        args = {"number": credit_note_number, "pence": amount_pence, "on": effective_on}
        return self.invoice_command(
            "issue_credit_note", invoice_ref, args, prov, change, expected_version
        )


def _invoice_outcome(invoice: Invoice) -> Outcome:
    return {
        "invoice_id": str(invoice.id),
        "version": invoice.version,
        "status": invoice.status.value,
        "flags": list(invoice.flags),
        "amount_pence": invoice.amount_pence,
    }


def _canonical_budget_id(draft: InvoiceDraft) -> InvoiceDraft:
    """One budget, one key in a batch: 'ABC…' and 'abc…' name the same budget."""
    try:
        return dataclasses.replace(draft, budget_id=str(UUID(draft.budget_id)))
    except (ValueError, AttributeError, TypeError):
        return draft  # not an id: loading it reports budget-not-found
