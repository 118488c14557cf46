"""Scoping, enforced on the server: a council touches only its books, a care firm only its own
invoices, a representative only their budget while appointed. Where existence itself must not
leak, out-of-scope records answer 404 exactly as missing ones do."""

from __future__ import annotations

from datetime import date

from api.auth import Principal
from api.problems import ProblemError
from ledger.budget import PersonalBudget
from ledger.errors import (
    BudgetNotFoundError,
    CouncilNotFoundError,
    InvoiceNotFoundError,
    ProviderNotFoundError,
)
from ledger.ids import council_id, provider_id
from ledger.invoice import Invoice
from ledger.provenance import Role
from projections.replicas import LedgerReads


def own_council(principal: Principal, council: str) -> None:
    """A council officer writes only their own council's books (403: they know it exists)."""
    if principal.role is Role.COUNCIL and principal.council != council:
        raise ProblemError(
            403,
            "out-of-scope",
            "Another council's books",
            f"your token is for council {principal.council}",
        )


def registered(
    service: LedgerReads, *, council: str | None = None, provider: str | None = None
) -> None:
    """A filter naming a council or care firm the ledger never registered is 404, never an
    empty answer that reads as "nothing there" (a trial balance "balanced" with no accounts)."""
    if council is not None and not service.app.exists(council_id(council)):
        raise CouncilNotFoundError("no council with that code", council=council)
    if provider is not None and not service.app.exists(provider_id(provider)):
        raise ProviderNotFoundError("no provider with that reference", provider=provider)


def _hidden_budget(budget_id: str) -> BudgetNotFoundError:
    return BudgetNotFoundError("no PersonalBudget with that id", budget_id=budget_id)


def budget_for(service: LedgerReads, principal: Principal, budget_id: str) -> PersonalBudget:
    """The budget, if this caller may see it; otherwise 404 as if it did not exist."""
    budget = service.app.budget(budget_id)
    role = principal.role
    if role in (Role.COUNCIL, Role.AUDITOR) and principal.council not in (None, budget.council):
        raise _hidden_budget(budget_id)
    if role is Role.REPRESENTATIVE:
        if principal.budget_id != str(budget.id):
            raise _hidden_budget(budget_id)
        rep = budget.find_representative(principal.representative_id or "", service.app.personal)
        if rep is None or not rep.acts_on(date.today()):
            raise ProblemError(
                403,
                "representative-not-appointed",
                "You are not appointed for this budget",
                "your appointment has ended or not yet begun",
            )
    return budget


def invoice_for(service: LedgerReads, principal: Principal, invoice_id: str) -> Invoice:
    invoice = service.app.invoice(invoice_id)
    role = principal.role
    hidden = (role is Role.PROVIDER and principal.provider != invoice.provider_ref) or (
        role in (Role.COUNCIL, Role.AUDITOR) and principal.council not in (None, invoice.council)
    )
    if hidden:
        raise InvoiceNotFoundError("no Invoice with that id", invoice_id=invoice_id)
    return invoice
