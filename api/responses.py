"""Response models of the read routes: what each GET answers, field by field, for OpenAPI and
for the client. Each field's description is its glossary meaning (``api.glossary``, the README's
"Glossary"), filled in by ``described``. Money is integer pence; dates are ISO dates; positions
are event-log positions."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from api.glossary import described
from api.pagination import Page

Pence = int


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


@described
class StandbyHealth(Out):
    url: str
    position: int
    down: str | None
    behind_seconds: float | None
    fresh: bool


@described
class Health(Out):
    status: str
    events: int
    standbys: list[StandbyHealth] | None = None


# --- exceptions --------------------------------------------------------------------------------


@described
class ExceptionItem(Out):
    """One thing needing an officer's or auditor's eye. Stored exceptions carry their log
    position; those computed for the date asked (overdue reviews, surpluses) and refused
    duplicate postings have none."""

    position: int | None
    seq: int | None
    council: str | None
    kind: str
    budget_id: str | None
    invoice_id: str | None
    provider: str | None
    amount_pence: int | None
    effective_on: str | None
    recorded_at: str | None
    detail: str | None


@described
class ExceptionPage(Page[ExceptionItem]):
    skipped: list[str]


# --- invoices ----------------------------------------------------------------------------------


@described
class PeriodOut(Out):
    start: date
    end: date


@described
class InvoiceAmounts(Out):
    amount_pence: Pence
    approved_pence: Pence
    paid_pence: Pence
    credit_notes_pence: Pence


@described
class InvoiceListed(InvoiceAmounts):
    id: str
    council: str
    budget_id: str
    provider: str
    invoice_number: str
    status: str
    remittance_ref: str | None
    period: PeriodOut
    flags: list[str]
    version: int
    position: int


@described
class InvoiceLineOut(Out):
    service: str
    units_hundredths: int
    rate_pence: Pence
    amount_pence: Pence


@described
class InvoiceEvent(Out):
    version: int
    position: int
    status: str
    event_type: str
    effective_on: str
    actor_role: str
    reason: str | None
    amount_pence: int | None


@described
class InvoiceDetail(InvoiceAmounts):
    id: str
    version: int
    council: str
    budget_id: str
    provider: str
    invoice_number: str
    period: PeriodOut
    lines: list[InvoiceLineOut]
    status: str
    flags: list[str]
    credit_notes: dict[str, int]
    remittance_ref: str | None
    short_paid_pence: Pence
    short_pay_rest: str | None
    as_at_position: int | None = None
    history: list[InvoiceEvent]


InvoicePage = Page[InvoiceListed]


# --- a budget ----------------------------------------------------------------------------------


@described
class PlanLineOut(Out):
    service: str
    units_per_week_hundredths: int
    rate_pence: Pence
    provider_id: str | None


@described
class StreamOut(Out):
    source: str
    amount_pence: Pence
    pooled_fund_id: str | None


@described
class AllocationOut(Out):
    total_pence: Pence
    client_contribution_pence: Pence
    council_contribution_pence: Pence
    contingency_pence: Pence
    streams: list[StreamOut]


@described
class DeploymentOut(Out):
    kind: str
    provider_id: str | None
    direct_payment_annual_pence: Pence


@described
class RepresentativeOut(Out):
    kind: str
    basis: str
    appointed_on: date
    revoked_on: date | None


@described
class BudgetYearOut(Out):
    year: str
    year_starts_on: date
    year_ends_on: date | None
    year_allocated_pence: int
    year_drawn_pence: int
    year_available_pence: int
    contingency_pence: int
    year_closed: bool


@described
class BudgetOut(Out):
    """The budget's current state. Its money figures are on `/balance`."""

    id: str
    version: int
    council: str
    person_ref: str
    primary_support_reason: str
    carer_budget: bool
    status: str
    opened_on: date | None
    approved_on: date | None
    ended_on: date | None
    end_reason: str | None
    indicative_weekly_pence: Pence | None
    support_plan: list[PlanLineOut]
    allocation: AllocationOut
    deployment: DeploymentOut | None
    representatives: dict[str, RepresentativeOut]
    available_pence: Pence
    held_pence: Pence
    years: list[BudgetYearOut]
    payment_basis: str | None
    contributions_owed_pence: int
    contribution_arrears_pence: int
    as_at_position: int | None = None
