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


# --- audit -------------------------------------------------------------------------------------


class AuditNoteText(Out):
    code: str = Field(description="The finding's short code.")
    note: str
    subject_entry_id: str | None = Field(description="The entry the note is about, if any.")


class AuditRow(Out):
    """One event of the log with who did it, when, about what, and its chain hash."""

    position: int = Position
    entry_id: str = Field(description="'<aggregate id>/<version>': cite it in a correction.")
    aggregate_id: str
    version: int = Field(description="The record's version after this event.")
    recorded_at: str = Field(description="When the ledger recorded it (UTC, ISO 8601).")
    effective_on: str | None = Field(description="The business date it is effective (ISO).")
    event_type: str = Field(description="e.g. 'Invoice.Paid'.")
    aggregate_kind: str = Field(description="budget, invoice, council, audit-note, …")
    actor_id: str
    actor_role: str
    on_behalf_of: str | None
    reason: str | None
    command_id: str = Field(description="The Idempotency-Key of the command that wrote it.")
    council: str | None
    budget_id: str | None
    provider: str | None
    invoice_id: str | None
    hash: str = Field(description="SHA-256 chain hash up to and including this event (hex).")
    known_by: str
    note: AuditNoteText | None = Field(None, description="An audit note's text (notes only).")


class Check(Out):
    name: str
    ok: bool
    detail: str
    first_bad_position: int | None = Field(description="Where the check first failed.")


class Verification(Out):
    ok: bool = Field(description="True when every check passed.")
    checks: list[Check]


class CheckpointOut(Out):
    size: int = Field(description="How many events the log held.")
    head_hash: str = Field(description="The chain hash of the last of them (hex).")
    taken_at: str = Field(description="When it was taken (UTC, ISO 8601).")
    tree_size: int | None = Field(
        None, description="Leaves in the Merkle tree the signed note is for (DESIGN.md §9)."
    )
    root_hash: str | None = Field(None, description="That tree's root (base64).")
    signed_note: str | None = Field(
        None,
        description="The C2SP tlog-checkpoint (origin, tree size, root) as a signed note,"
        " Ed25519-signed by the ledger's key; verify it with GET /v1/audit/public-key.",
    )


class CheckpointCheck(Check):
    checkpoint: CheckpointOut = Field(description="The checkpoint that was checked.")


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


# --- the verifiable log ------------------------------------------------------------------------


class PublicKey(Out):
    verifier_key: str = Field(
        description="Signed-note verifier key: <name>+<hex key id>+<base64(0x01 ‖ Ed25519 key)>."
    )
    retired: list[str] = Field(
        description="Verifier keys rotated out; each still verifies what it signed before."
    )


class LogEntry(Out):
    leaf_index: int = Field(description="The leaf's index, from 0 in log order.")
    position: int = Field(description="The event's log position (positions may have gaps).")
    leaf: str = Field(
        description="The exact leaf bytes (base64); leaf hash = SHA-256(0x00 ‖ leaf)."
    )
    provenance: dict[str, str | int | None] = Field(
        description="The event's provenance as the audit trail holds it."
    )


class InclusionProof(Out):
    leaf_index: int
    tree_size: int
    hashes: list[str] = Field(description="RFC 9162 §2.1.3 inclusion path (base64), leaf first.")


class ConsistencyProof(Out):
    from_: int = Field(alias="from", description="The kept (smaller) tree's size.")
    to: int = Field(description="The later tree's size.")
    hashes: list[str] = Field(description="RFC 9162 §2.1.4 consistency proof (base64).")
