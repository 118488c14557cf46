"""Care firms' invoices: posting (one or a batch), the council's handling, credit notes (the
reads are ``api.routers.invoice_reads``).

A care firm posts only as itself (the provider comes from its token, never from the body) and
sees only its own invoices; a council officer handles only its council's invoices. Out of scope
answers 404, exactly as for a missing invoice.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response, status
from pydantic import BaseModel, Field

from api.auth import Principal
from api.deps import Allow, Command, IdempotencyKey, IfMatch, Service, etag
from api.glossary import GLOSSARY
from api.models import (
    BusinessDate,
    InvoiceIn,
    InvoiceNumber,
    Pence,
    Reason,
    Ref,
    Strict,
    Written,
)
from api.problems import responses
from api.scope import invoice_for
from ledger.app_invoices import MAX_BATCH, InvoiceDraft
from ledger.provenance import Role
from ledger.values import InvoiceStatus

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])
Provider = Annotated[Principal, Depends(Allow(Role.PROVIDER))]
Council = Annotated[Principal, Depends(Allow(Role.COUNCIL))]
InvoiceId = Annotated[str, Path(max_length=64, description="The invoice's id (a UUID).")]
WRITE = responses(400, 403, 404, 409, 412)


class InvoiceBatch(Strict):
    invoices: Annotated[list[InvoiceIn], Field(min_length=1, max_length=MAX_BATCH)]


class Approval(Strict):
    effective_on: BusinessDate
    reason: Annotated[
        Reason | None,
        Field(description="Required to override a flagged invoice's flags, and to short-pay."),
    ] = None
    approved_pence: Annotated[
        Pence | None,
        Field(
            description="Short-pay: approve only this much of the invoice (omit to approve it"
            " all); the rest is disputed or rejected, as `rest` says."
        ),
    ] = None
    to_plan: Annotated[
        bool,
        Field(
            description="Short-pay to the plan: approve the support plan's cost for the"
            " invoice's period (all of it when within the plan). Not with approved_pence."
        ),
    ] = False
    rest: Annotated[
        Literal["disputed", "rejected"] | None,
        Field(description="On a short-pay, what becomes of the part not approved."),
    ] = None


class Refusal(Strict):
    """A dispute or a rejection: both state their reason."""

    effective_on: BusinessDate
    reason: Reason


class Payment(Strict):
    effective_on: BusinessDate
    remittance_ref: Ref


class CreditNote(Strict):
    credit_note_number: InvoiceNumber
    amount_pence: Pence
    effective_on: BusinessDate


class InvoiceWritten(Written):
    """The invoice after the write: its status, its flags and its amount."""

    status: InvoiceStatus
    flags: list[str]
    amount_pence: int = Field(description=GLOSSARY["amount_pence"])
    approved_pence: int = Field(0, description=GLOSSARY["approved_pence"])
    short_paid_pence: int = Field(0, description=GLOSSARY["short_paid_pence"])
    short_pay_rest: Literal["disputed", "rejected"] | None = Field(
        None, description=GLOSSARY["short_pay_rest"]
    )


class BatchItem(BaseModel):
    index: int
    accepted: bool
    id: str | None = None
    status: InvoiceStatus | None = None
    flags: list[str] | None = None
    error: str | None = Field(None, description="The problem type, e.g. /problems/budget-ended.")
    detail: str | None = None


class BatchResult(BaseModel):
    accepted: int
    refused: int
    results: list[BatchItem]


def draft_of(body: InvoiceIn) -> InvoiceDraft:
    return InvoiceDraft(
        body.invoice_number,
        str(body.budget_id),
        body.period.value(),
        tuple(line.value() for line in body.lines),
        body.invoice_date,
    )


def written(response: Response, outcome: dict[str, Any]) -> InvoiceWritten:
    etag(response, int(outcome["version"]))
    return InvoiceWritten(
        id=outcome["invoice_id"],
        version=outcome["version"],
        status=outcome["status"],
        flags=outcome["flags"],
        amount_pence=outcome["amount_pence"],
        approved_pence=outcome.get("approved_pence", 0),  # outcomes recorded before short-pay
        short_paid_pence=outcome.get("short_paid_pence", 0),
        short_pay_rest=outcome.get("short_pay_rest"),
        replayed=bool(outcome.get("replayed")),
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=WRITE)
def post_invoice(
    body: InvoiceIn, who: Provider, key: IdempotencyKey, service: Service, response: Response
) -> InvoiceWritten:
    """Post an invoice as your firm (rules 4, 5): refused on an inactive budget or a repeated
    invoice number (409); kept but **flagged** when it breaks a checking rule."""
    provider = str(who.provider)  # the token's firm: a provider token is always scoped to one
    outcome = service.app.post_invoice(provider, draft_of(body), Command(who, key).prov())
    response.headers["Location"] = f"/v1/invoices/{outcome['invoice_id']}"
    return written(response, outcome)


@router.post(
    "/batch", responses=responses(400, 403, 404, 409, 413), response_model_exclude_none=True
)
def post_invoice_batch(
    body: InvoiceBatch, who: Provider, key: IdempotencyKey, service: Service
) -> BatchResult:
    """Post 1..10,000 invoices as your firm in one command, with results per item: valid
    invoices are written together in one transaction; each refused one is reported with its
    problem type and writes nothing.

    A malformed item refuses the whole request (422, nothing written). The batch is one command:
    retrying it with the same Idempotency-Key returns the same results and writes nothing."""
    drafts = [draft_of(item) for item in body.invoices]
    outcome = service.app.post_invoices(str(who.provider), drafts, Command(who, key).prov())
    return BatchResult(
        accepted=outcome["accepted"],
        refused=outcome["refused"],
        results=[_batch_item(r) for r in outcome["results"]],
    )


def _batch_item(r: dict[str, Any]) -> BatchItem:
    error = r.get("error")
    return BatchItem(
        index=r["index"],
        accepted=r["accepted"],
        id=r.get("invoice_id"),
        status=r.get("status"),
        flags=r.get("flags"),
        error=f"/problems/{error}" if error else None,
        detail=r.get("detail"),
    )


@router.post("/{invoice_id}/approval", responses=WRITE)
def approve_invoice(
    invoice_id: InvoiceId,
    body: Approval,
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> InvoiceWritten:
    """Approve an open invoice and charge it to the budget (rules 3, 7). A flagged invoice is
    approved only with a `reason` overriding its flags (otherwise 422 invoice-flagged).

    **Short-pay**: send `approved_pence` (or `to_plan: true` for the plan's cost of the period),
    a `reason`, and `rest` (`disputed` or `rejected`) for the part not approved; only the
    approved part is charged and later paid (422 `approval-exceeds-invoice`,
    `short-pay-needs-reason`, `short-pay-rest-unresolved`)."""
    invoice_for(service, who, invoice_id)
    prov = Command(who, key).prov(body.reason)
    outcome = service.app.approve_invoice(
        invoice_id,
        body.effective_on,
        prov,
        version,
        approved_pence=body.approved_pence,
        to_plan=body.to_plan,
        rest=body.rest,
    )
    return written(response, outcome)


@router.post("/{invoice_id}/dispute", responses=WRITE)
def dispute_invoice(
    invoice_id: InvoiceId,
    body: Refusal,
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> InvoiceWritten:
    """Dispute a posted or flagged invoice, stating the reason (a short code)."""
    invoice_for(service, who, invoice_id)
    prov = Command(who, key).prov(body.reason)
    return written(
        response, service.app.dispute_invoice(invoice_id, body.effective_on, prov, version)
    )


@router.post("/{invoice_id}/rejection", responses=WRITE)
def reject_invoice(
    invoice_id: InvoiceId,
    body: Refusal,
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> InvoiceWritten:
    """Reject an open invoice, stating the reason; it is withdrawn from the budget."""
    invoice_for(service, who, invoice_id)
    prov = Command(who, key).prov(body.reason)
    return written(
        response, service.app.reject_invoice(invoice_id, body.effective_on, prov, version)
    )


@router.post("/{invoice_id}/payment", responses=WRITE)
def pay_invoice(
    invoice_id: InvoiceId,
    body: Payment,
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> InvoiceWritten:
    """Pay an approved invoice with its remittance reference; nothing is paid after the budget
    has ended or while it is suspended (rule 7)."""
    invoice_for(service, who, invoice_id)
    outcome = service.app.pay_invoice(
        invoice_id, body.remittance_ref, body.effective_on, Command(who, key).prov(), version
    )
    return written(response, outcome)


@router.post("/{invoice_id}/credit-notes", responses=WRITE)
def issue_credit_note(
    invoice_id: InvoiceId,
    body: CreditNote,
    who: Provider,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> InvoiceWritten:
    """Issue a credit note on your own paid invoice; credits never exceed what was paid
    (rule 6)."""
    invoice_for(service, who, invoice_id)
    outcome = service.app.issue_credit_note(
        invoice_id,
        body.credit_note_number,
        body.amount_pence,
        body.effective_on,
        Command(who, key).prov(),
        version,
    )
    return written(response, outcome)
