"""The demo's batch path: the use cases' steps, done on aggregates held in memory.

``CareLedger``'s use cases load, check and save one command at a time (about 400 a second). The
demo instead builds a budget's whole year on the aggregates and saves many in one transaction.
These helpers take the same steps, in the same order, as the use cases in ``ledger/app_*.py``, so
every rule the aggregates check is still checked; only the per-command load, idempotency record
and save are skipped. Every event carries provenance: an actor, a role and a command id.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from eventsourcing.domain import Aggregate

from ledger.app_invoices import invoice_flags
from ledger.budget import PersonalBudget
from ledger.council import Council
from ledger.invoice import Invoice
from ledger.invoice_checks import check_invoice_lines
from ledger.personal import IN_THE_CLEAR, PersonalData, is_sealed, reason_context
from ledger.pooled_fund import PooledFund, move_pool_shares
from ledger.provenance import Provenance, Role
from ledger.provider import Provider
from ledger.values import NO_ALLOCATION, Allocation, InvoiceLine, Period

ADMIN = "demo-admin"


@dataclass
class Actors:
    """Who acts in one council, with deterministic command ids built from the seed."""

    seed: int
    code: str
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def command_id(self) -> str:
        return f"demo-{self.seed}-{self.code}-{next(self.counter):07d}"

    def admin(self) -> Provenance:
        return Provenance(ADMIN, Role.ADMIN.value, self.command_id())

    def officer(self, reason: str | None = None) -> Provenance:
        return Provenance(
            f"demo-officer-{self.code}", Role.COUNCIL.value, self.command_id(), reason=reason
        )

    def firm(self, provider_ref: str, reason: str | None = None) -> Provenance:
        return Provenance(provider_ref, Role.PROVIDER.value, self.command_id(), reason=reason)

    def representative(self, representative_id: str, person_ref: str) -> Provenance:
        return Provenance(
            representative_id, Role.REPRESENTATIVE.value, self.command_id(), on_behalf_of=person_ref
        )


def approve_budget(
    budget: PersonalBudget,
    allocation: Allocation,
    on: date,
    prov: Provenance,
    council: Council,
    pool: PooledFund,
) -> None:
    """As ``approve_budget``: approve, then draw the pooled share down in the same save."""
    budget.approve(allocation, on, prov, council.max_contingency_bp)
    move_pool_shares(str(budget.id), NO_ALLOCATION, allocation, on, prov, _only(pool))


def revise_budget(
    budget: PersonalBudget,
    allocation: Allocation,
    on: date,
    prov: Provenance,
    council: Council,
    pool: PooledFund,
) -> None:
    before, after = budget.revise(allocation, on, prov, council.max_contingency_bp)
    move_pool_shares(str(budget.id), before, after, on, prov, _only(pool))


def allocate_year(
    budget: PersonalBudget,
    starts_on: date,
    allocation: Allocation | None,
    on: date,
    prov: Provenance,
    council: Council,
    pool: PooledFund,
) -> None:
    """As ``allocate_year``: the next financial year, rolled over (``allocation`` None) or
    re-assessed, and its pooled share drawn down in the same save."""
    basis = "rolled-over" if allocation is None else "re-assessed"
    year = budget.allocate_year(starts_on, basis, on, prov, allocation, council.max_contingency_bp)
    move_pool_shares(str(budget.id), NO_ALLOCATION, year, on, prov, _only(pool))


def _only(pool: PooledFund) -> Callable[[str], PooledFund]:
    """The demo draws only on its council's pool."""

    def fund(fund_ref: str) -> PooledFund:
        if fund_ref != pool.fund_ref:
            raise ValueError(f"the demo draws only on its council's pool, not {fund_ref}")
        return pool

    return fund


def decide(
    budget: PersonalBudget,
    representative_id: str,
    decision: str,
    subject_ref: str | None,
    on: date,
    prov: Provenance,
    personal: PersonalData = IN_THE_CLEAR,
) -> None:
    """As ``record_decision``: recorded as made on behalf of the budget's person, the
    representative named by their pseudonym (``CareLedger.stored_provenance``)."""
    actor = personal.pseudonym("representative", prov.actor_id)
    acting = dataclasses.replace(prov, actor_id=actor, on_behalf_of=budget.person)
    budget.record_decision(representative_id, decision, subject_ref, on, acting, personal)


def seal_reasons(
    personal: PersonalData, person: str, commands: set[str], aggregates: Iterable[Aggregate]
) -> None:
    """As ``CareLedger.seal_reasons``: the reason of each of the person's ``commands`` stored
    sealed under the person's key in every pending event it caused, one seal per command and
    aggregate (a shared pool's events of other people's commands are left to theirs)."""
    for aggregate in aggregates:
        sealed: dict[str, str] = {}
        pending = aggregate.pending_events
        for i, e in enumerate(pending):
            given: Provenance | None = getattr(e, "prov", None)
            if given is None or given.reason is None or given.command_id not in commands:
                continue
            if is_sealed(given.reason):
                continue
            if given.command_id not in sealed:
                where = reason_context(person)
                sealed[given.command_id] = personal.seal(person, where, given.reason)
            stored = given.with_stored_reason(sealed[given.command_id])
            pending[i] = dataclasses.replace(e, prov=stored)  # type: ignore[type-var]


def post_invoice(
    budget: PersonalBudget,
    provider: Provider,
    council: Council,
    number: str,
    period: Period,
    lines: tuple[InvoiceLine, ...],
    invoice_date: date,
    prov: Provenance,
) -> Invoice:
    """As ``post_invoice``: flag what breaks a soft rule, post, mirror it on the budget.

    Invoice numbers are unique by construction here; the store's uniqueness still refuses a
    clash (the whole batch), and resubmissions go through the use case (see ``scripts.demo``)."""
    amount = check_invoice_lines(lines, period)
    flags = invoice_flags(budget, provider, council, period, amount)
    invoice = Invoice.post(
        budget.council,
        str(budget.id),
        provider.provider_ref,
        number,
        period,
        lines,
        flags,
        invoice_date,
        prov,
    )
    budget.receive_invoice(str(invoice.id), provider.provider_ref, period, amount, prov)
    return invoice


def approve_invoice(invoice: Invoice, budget: PersonalBudget, on: date, prov: Provenance) -> None:
    invoice.check_approvable(prov)
    budget.charge_invoice(str(invoice.id), invoice.amount_pence, on, prov)
    invoice.approve(on, prov)


def pay_invoice(
    invoice: Invoice, budget: PersonalBudget, remittance_ref: str, on: date, prov: Provenance
) -> None:
    invoice.check_payable()
    budget.settle_invoice(str(invoice.id), invoice.approved_pence, on, prov)
    invoice.pay(remittance_ref, on, prov)


def reject_invoice(invoice: Invoice, budget: PersonalBudget, on: date, prov: Provenance) -> None:
    invoice.reject(on, prov)
    budget.withdraw_invoice(str(invoice.id), on, prov)


def credit_invoice(
    invoice: Invoice,
    budget: PersonalBudget,
    number: str,
    amount_pence: int,
    on: date,
    prov: Provenance,
) -> None:
    invoice.issue_credit_note(number, amount_pence, on, prov)
    budget.credit_invoice(str(invoice.id), amount_pence, on, prov)
