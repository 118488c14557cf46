"""Response models of the read routes: what each GET answers, field by field, for OpenAPI and
for the client. Money is integer pence; dates are ISO dates; positions are event-log positions."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from api.glossary import GLOSSARY
from api.pagination import Page

Pence = int
Position = Field(description="The event's position in the ledger's log (1, 2, …).")


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class Health(Out):
    status: str = Field(
        description="'ok' when the service and its event store answer and the log holds events;"
        " 'empty' when the store answers but holds no events yet."
    )
    events: int = Field(description="How many events the log holds.")


# --- exceptions --------------------------------------------------------------------------------


class ExceptionItem(Out):
    """One thing needing an officer's or auditor's eye. Stored exceptions carry their log
    position; those computed for the date asked (overdue reviews, surpluses) and refused
    duplicate postings have none."""

    position: int | None = Field(description="Log position of the event that raised it.")
    seq: int | None = Field(description="Its number among the exceptions of that event.")
    council: str | None = Field(description="The council's ONS code.")
    kind: str = Field(
        description="e.g. over-plan, dispute, review-overdue, surplus-above-threshold."
    )
    budget_id: str | None
    invoice_id: str | None
    provider: str | None = Field(description="The care firm's registration id.")
    amount_pence: int | None = Field(description="The pence at issue, when there are any.")
    effective_on: str | None = Field(description="The business date it concerns (ISO).")
    recorded_at: str | None = Field(
        description="When the ledger learned of it (UTC instant); none for a surplus, which is"
        " worked out from the balance as it stands."
    )
    detail: str | None = Field(description="What happened, briefly; never personal data.")


class ExceptionPage(Page[ExceptionItem]):
    skipped: list[str] = Field(
        description="Kinds not computed because a view they read is missing."
    )


# --- invoices ----------------------------------------------------------------------------------


class PeriodOut(Out):
    start: date
    end: date


class InvoiceAmounts(Out):
    amount_pence: Pence = Field(description="What the invoice bills (its lines' total).")
    approved_pence: Pence = Field(description="Charged to the budget on approval.")
    paid_pence: Pence = Field(description="Paid to the care firm.")
    credit_notes_pence: Pence = Field(description="Credit notes issued against it.")


class InvoiceListed(InvoiceAmounts):
    id: str
    council: str
    budget_id: str
    provider: str = Field(description="The care firm's registration id.")
    invoice_number: str
    status: str = Field(description="posted, flagged, disputed, approved, rejected or paid.")
    remittance_ref: str | None
    period: PeriodOut
    flags: list[str] = Field(description="Why it is parked for checking, if it is.")
    version: int
    position: int = Field(description="Log position of its posting: the list's order.")


class InvoiceLineOut(Out):
    service: str
    units_hundredths: int = Field(description="Hours or visits, in hundredths.")
    rate_pence: Pence
    amount_pence: Pence = Field(description=GLOSSARY["amount_pence"])


class InvoiceEvent(Out):
    version: int
    position: int = Position
    status: str = Field(description="The status after this event.")
    event_type: str
    effective_on: str
    actor_role: str
    reason: str | None
    amount_pence: int | None = Field(description=GLOSSARY["amount_pence"])


class InvoiceDetail(InvoiceAmounts):
    id: str
    version: int
    council: str
    budget_id: str
    provider: str = Field(description="The care firm's registration id.")
    invoice_number: str
    period: PeriodOut
    lines: list[InvoiceLineOut]
    status: str
    flags: list[str]
    credit_notes: dict[str, int] = Field(description="Pence credited, by credit note number.")
    remittance_ref: str | None
    history: list[InvoiceEvent] = Field(description="One entry per event, oldest first.")


InvoicePage = Page[InvoiceListed]


# --- a budget ----------------------------------------------------------------------------------


class PlanLineOut(Out):
    service: str
    units_per_week_hundredths: int = Field(description="Hours or visits a week, in hundredths.")
    rate_pence: Pence
    provider_id: str | None


class StreamOut(Out):
    source: str = Field(description="council-fund or pooled-fund.")
    amount_pence: Pence
    pooled_fund_id: str | None


class AllocationOut(Out):
    total_pence: Pence
    client_contribution_pence: Pence
    council_contribution_pence: Pence
    contingency_pence: Pence = Field(description=GLOSSARY["contingency_pence"])
    streams: list[StreamOut]


class DeploymentOut(Out):
    kind: str = Field(description="direct-payment, council-managed, individual-service-fund, mixed")
    provider_id: str | None
    direct_payment_pence: Pence


class RepresentativeOut(Out):
    kind: str
    basis: str
    appointed_on: date
    revoked_on: date | None


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
    representatives: dict[str, RepresentativeOut] = Field(description="By representative id.")
    available_pence: Pence = Field(description=GLOSSARY["available_pence"])
    held_pence: Pence = Field(description=GLOSSARY["held_pence"])
