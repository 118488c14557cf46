"""Use cases for care firms' invoices and the council's handling of them."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.app_core import LedgerCore, Outcome
from ledger.batch_reads import BatchReads, load_aggregates
from ledger.budget import PersonalBudget
from ledger.council import Council
from ledger.errors import DuplicateInvoiceError, InvalidCommandError, LedgerError
from ledger.ids import invoice_id, raw_invoice_id
from ledger.invoice import Invoice
from ledger.invoice_checks import check_invoice_lines
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
    """What posting invoices for one provider needs, read once per attempt: the provider, every
    budget the drafts name, and which of their invoice numbers the store already holds."""

    provider: Provider
    budgets: dict[str, PersonalBudget]
    keys: dict[str, UUID]  # invoice number → invoice id (of the number's key, rule 13)
    existing: set[UUID]  # those ids, and the ``legacy`` ones, already in the store
    legacy: dict[str, UUID] = field(default_factory=dict)  # number → id as sent, if different
    councils: dict[str, Council] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)


class BudgetCache:
    """Budgets as this process last saved them, so a batch need not replay each from the store.

    A command takes the budgets it needs out of the cache (no other thread can then change the
    same objects), brings each up to date with the events written since by anyone (one query for
    all of them), and hands them back only once its save has committed. A budget changed by an
    attempt that was not saved is never handed back: the next command reads it afresh."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._budgets: OrderedDict[UUID, PersonalBudget] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, budget_ids: Iterable[UUID]) -> dict[UUID, PersonalBudget]:
        with self._lock:
            taken = {i: self._budgets.pop(i, None) for i in budget_ids}
        return {i: budget for i, budget in taken.items() if budget is not None}

    def give_back(self, budgets: Iterable[PersonalBudget]) -> None:
        """Keep these saved budgets (the newest version of each), dropping the least recent."""
        with self._lock:
            for budget in budgets:
                held = self._budgets.get(budget.id)
                if budget.pending_events or (held is not None and held.version >= budget.version):
                    continue
                self._budgets[budget.id] = budget
                self._budgets.move_to_end(budget.id)
            while len(self._budgets) > self.maxsize:
                self._budgets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._budgets)


class InvoiceCommands(LedgerCore):
    def __init__(self, database_url: str | None = None, env: dict[str, str] | None = None) -> None:
        """``CARELEDGER_BUDGET_CACHE_SIZE`` bounds the budgets kept between batches (default: one
        full batch's worth; 0 keeps none). Each costs ~8 KB with 10 invoices, ~25 KB with 50."""
        size = os.environ.get("CARELEDGER_BUDGET_CACHE_SIZE") or str(MAX_BATCH)
        self.budget_cache = BudgetCache(int(size))
        super().__init__(database_url, env)

    def _posting(self, provider_ref: str, drafts: Sequence[InvoiceDraft]) -> Posting:
        """Read what the drafts need in a few queries, not one (or two) per draft."""
        provider = self.provider(provider_ref)
        ref = provider.provider_ref
        keys = {d.invoice_number: invoice_id(ref, d.invoice_number) for d in drafts}
        # An invoice stored before rule 13 under a number that is not its own key kept the id
        # of the number as sent: a resend of exactly that number must still find it.
        legacy = {n: raw for n in keys if (raw := raw_invoice_id(ref, n)) != keys[n]}
        budgets = self._budgets_named(d.budget_id for d in drafts)
        existing = self._existing([*keys.values(), *legacy.values()])
        return Posting(provider, budgets, keys, existing, legacy)

    def _budgets_named(self, budget_ids: Iterable[str]) -> dict[str, PersonalBudget]:
        """The budgets among ``budget_ids``, by id, up to date: from the cache and the events
        written since, else from all their events. Ids that are malformed or name no budget are
        left out: loading them one by one then raises the usual error for each."""
        wanted: dict[UUID, str] = {}
        for text in budget_ids:
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                wanted[UUID(text)] = text
        cached: dict[UUID, Aggregate] = dict(self.budget_cache.take(wanted))
        loaded = load_aggregates(self.recorder, self.mapper, list(wanted), cached)
        return {
            wanted[uid]: budget
            for uid, budget in loaded.items()
            if isinstance(budget, PersonalBudget)
        }

    def _existing(self, aggregate_ids: Sequence[UUID]) -> set[UUID]:
        """Which of ``aggregate_ids`` are already in the store: one query on PostgreSQL."""
        if isinstance(self.recorder, BatchReads):
            return self.recorder.existing(aggregate_ids)
        return {i for i in aggregate_ids if self.recorder.select_events(i, limit=1)}

    def _run_posting(
        self,
        command: str,
        args: dict[str, Any],
        prov: Provenance,
        drafts: Sequence[InvoiceDraft],
        post: Callable[[Posting], Outcome],
    ) -> Outcome:
        """``run_command`` with a fresh ``Posting`` per attempt. The budgets go back to the cache
        only when ``run_command`` returns the very outcome of the last attempt, which it does
        only once that attempt is saved (a replayed outcome is a new dict)."""
        provider_ref: str = args["provider"]
        attempts: list[tuple[Posting, Outcome]] = []

        def action() -> tuple[list[Aggregate], Outcome]:
            ctx = self._posting(provider_ref, drafts)
            outcome = post(ctx)
            attempts.append((ctx, outcome))
            changed = [b for b in ctx.budgets.values() if b.pending_events]
            return [*ctx.invoices.values(), *changed], outcome

        result = self.run_command(command, args, prov, action)
        if attempts and result is attempts[-1][1]:
            self.budget_cache.give_back(attempts[-1][0].budgets.values())
        return result

    def _post_one(self, draft: InvoiceDraft, ctx: Posting, prov: Provenance) -> Invoice:
        """Check and post one invoice. Nothing is changed before the last check has passed, so a
        refusal leaves the loaded budget as it was."""
        provider_ref = ctx.provider.provider_ref
        key = ctx.keys[draft.invoice_number]
        budget = ctx.budgets.get(draft.budget_id) or self.budget(draft.budget_id)
        ctx.budgets[draft.budget_id] = budget
        posted = _posted_as(key, ctx.legacy.get(draft.invoice_number), ctx, budget)
        if posted is not None:
            raise DuplicateInvoiceError(
                f"invoice {draft.invoice_number!r} was already posted by {provider_ref}"
                " (numbers are compared ignoring spaces, case and look-alike characters)",
                provider=provider_ref,
                invoice_number=draft.invoice_number,
                invoice_id=str(posted),
                effective_on=draft.invoice_date.isoformat(),
                period_end=draft.period.end.isoformat(),
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
        canonical = _canonical_budget_id(draft)

        def post(ctx: Posting) -> Outcome:
            return _invoice_outcome(self._post_one(canonical, ctx, prov))

        args = {"provider": provider_ref, "draft": draft}
        return self._run_posting("post_invoice", args, prov, [canonical], post)

    def post_invoices(
        self, provider_ref: str, drafts: Sequence[InvoiceDraft], prov: Provenance
    ) -> Outcome:
        """A batch, with a result per item: the valid invoices are written in one transaction;
        each refused one is reported with its error and writes nothing.

        Each attempt reads the budgets and the invoice numbers already posted in a few queries;
        a concurrent writer that wins the race makes the save fail, and the retry reads again."""
        if not 1 <= len(drafts) <= MAX_BATCH:
            raise InvalidCommandError(f"a batch has 1..{MAX_BATCH} invoices", field="invoices")
        canonical = [_canonical_budget_id(d) for d in drafts]

        def post(ctx: Posting) -> Outcome:
            results = [self._batch_item(i, d, ctx, prov) for i, d in enumerate(canonical)]
            accepted = sum(1 for r in results if r["accepted"])
            return {"accepted": accepted, "refused": len(results) - accepted, "results": results}

        args = {"provider": provider_ref, "drafts": list(drafts)}
        return self._run_posting("post_invoices", args, prov, canonical, post)

    def _batch_item(
        self, index: int, draft: InvoiceDraft, ctx: Posting, prov: Provenance
    ) -> dict[str, Any]:
        try:
            invoice = self._post_one(draft, ctx, prov)
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
        *,
        approved_pence: int | None = None,
        to_plan: bool = False,
        rest: str | None = None,
    ) -> Outcome:
        """Approve the invoice and charge it to the budget; or short-pay it: approve
        ``approved_pence`` of it, or with ``to_plan`` the plan's cost for its period (all of it
        when within the plan), with the ``rest`` disputed or rejected (a reason is required)."""
        if to_plan and approved_pence is not None:
            raise InvalidCommandError(
                "give approved_pence or to_plan, not both", field="approved_pence"
            )

        def change(invoice: Invoice, budget: PersonalBudget) -> None:
            invoice.check_approvable(prov)
            amount = invoice.amount_pence if approved_pence is None else approved_pence
            if to_plan:
                planned = planned_cost(budget.plan, invoice.provider_ref, invoice.period)
                amount = min(invoice.amount_pence, planned)
            invoice.check_short_pay(amount, rest, prov)
            budget.charge_invoice(str(invoice.id), amount, effective_on, prov)
            invoice.approve(effective_on, prov, amount, rest)

        args: dict[str, Any] = {"on": effective_on}
        if approved_pence is not None or to_plan or rest is not None:
            args |= {"approved": approved_pence, "to_plan": to_plan, "rest": rest}
        return self.invoice_command(
            "approve_invoice", invoice_ref, args, prov, change, expected_version
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


def _posted_as(key: UUID, legacy: UUID | None, ctx: Posting, budget: PersonalBudget) -> UUID | None:
    """The id under which this number (rule 13: or a look-alike) is already posted, if it is:
    in the store, earlier in this batch, or on the budget."""
    if key in ctx.existing or str(key) in ctx.invoices or str(key) in budget.invoices:
        return key
    if legacy is not None and legacy in ctx.existing:
        return legacy
    return None


def _invoice_outcome(invoice: Invoice) -> Outcome:
    return {
        "invoice_id": str(invoice.id),
        "version": invoice.version,
        "status": invoice.status.value,
        "flags": list(invoice.flags),
        "amount_pence": invoice.amount_pence,
        "approved_pence": invoice.approved_pence,
        "short_paid_pence": invoice.short_paid_pence,
        "short_pay_rest": invoice.short_pay_rest,
    }


def _canonical_budget_id(draft: InvoiceDraft) -> InvoiceDraft:
    """One budget, one key in a batch: 'ABC…' and 'abc…' name the same budget."""
    try:
        canonical = str(UUID(draft.budget_id))
    except (ValueError, AttributeError, TypeError):
        return draft  # not an id: loading it reports budget-not-found
    if canonical == draft.budget_id:
        return draft
    return dataclasses.replace(draft, budget_id=canonical)
