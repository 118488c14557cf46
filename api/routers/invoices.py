"""Care firms' invoices: posting (one or a batch), the council's handling, credit notes, reads.

A care firm posts only as itself (the provider comes from its token, never from the body) and
sees only its own invoices; a council officer handles only its council's invoices. Out of scope
answers 404, exactly as for a missing invoice.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, Field

from api.auth import Principal
from api.deps import Allow, Command, IdempotencyKey, IfMatch, Service, etag
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
from api.pagination import CursorParam, Limit, page_of
from api.problems import ProblemError, responses
from api.responses import InvoiceDetail, InvoicePage
from api.scope import invoice_for
from ledger.app_invoices import MAX_BATCH, InvoiceDraft
from ledger.invoice import Invoice
from ledger.personal import reveal_reasons
from ledger.provenance import Role
from ledger.values import InvoiceStatus
from projections.cursor import CursorKind, Int
from projections.views.invoices import get_invoice, list_invoices

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])
Provider = Annotated[Principal, Depends(Allow(Role.PROVIDER))]
Council = Annotated[Principal, Depends(Allow(Role.COUNCIL))]
Reader = Annotated[Principal, Depends(Allow(Role.COUNCIL, Role.PROVIDER, Role.AUDITOR))]
InvoiceId = Annotated[str, Path(max_length=64, description="The invoice's id (a UUID).")]
WRITE = responses(400, 403, 404, 409, 412)
READ = responses(403, 404)
CURSORS = CursorKind("invoices", ((Int(),),))  # the last invoice's posting position


class InvoiceBatch(Strict):
    invoices: Annotated[list[InvoiceIn], Field(min_length=1, max_length=MAX_BATCH)]


class Approval(Strict):
    effective_on: BusinessDate
    reason: Annotated[
        Reason | None, Field(description="Required to override a flagged invoice's flags.")
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
    amount_pence: int


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
    approved only with a `reason` overriding its flags (otherwise 422 invoice-flagged)."""
    invoice_for(service, who, invoice_id)
    prov = Command(who, key).prov(body.reason)
    outcome = service.app.approve_invoice(invoice_id, body.effective_on, prov, version)
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


def _scoped_filters(
    who: Principal, provider: str | None, council: str | None
) -> tuple[str | None, str | None]:
    """The provider and council filters this caller may use: a firm sees only itself, a council
    officer (or a council's auditor) only that council; asking for others is 403."""
    forced_provider = who.provider if who.role is Role.PROVIDER else None
    forced_council = who.council if who.role in (Role.COUNCIL, Role.AUDITOR) else None
    asked = (("provider", provider, forced_provider), ("council", council, forced_council))
    for what, wanted, forced in asked:
        if forced is not None and wanted not in (None, forced):
            detail = f"your token is for {what} {forced}"
            raise ProblemError(403, "out-of-scope", f"Another {what}'s invoices", detail)
    return forced_provider or provider, forced_council or council


Filter = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get("", responses=READ, response_model=InvoicePage)
def list_invoices_route(
    who: Reader,
    service: Service,
    provider: Filter = None,
    council: Filter = None,
    status: Annotated[InvoiceStatus | None, Query()] = None,
    cursor: CursorParam = None,
    limit: Limit = 100,
) -> Any:
    """Invoices in posting order, filtered by provider, council and status; a care firm sees
    only its own, a council officer only its council's. Page on with `cursor` = `next_cursor`."""
    provider, council = _scoped_filters(who, provider, council)
    state = status.value if status else None
    start = CURSORS.decode(cursor)

    def page(size: int, after: int | None) -> list[dict[str, Any]]:
        return list_invoices(service.db, provider, council, state, size, after)

    rows = page(limit, int(start[0]) if start else None)
    last = int(rows[-1]["posted_position"]) if rows else 0
    more = len(rows) == limit and bool(page(1, last))
    return page_of([_listed(r) for r in rows], more, CURSORS.encode(last) if more else None)


def _listed(r: dict[str, Any]) -> dict[str, Any]:
    texts = ("council", "budget_id", "provider", "invoice_number", "status", "remittance_ref")
    numbers = ("amount_pence", "approved_pence", "paid_pence", "credited_pence", "version")
    return {
        "id": r["invoice_id"],
        **{k: r[k] for k in texts},
        "period": {"start": r["period_start"], "end": r["period_end"]},
        "flags": [f for f in r["flags"].split(",") if f],
        **{k: int(r[k]) for k in numbers},
        "position": int(r["posted_position"]),
    }


@router.get("/{invoice_id}", responses=READ, response_model=InvoiceDetail)
def get_invoice_route(
    invoice_id: InvoiceId, who: Reader, service: Service, response: Response
) -> Any:
    """The invoice — lines, status, flags, amounts approved, paid and credited — with its
    history, one entry per event, oldest first. `ETag` is its version."""
    invoice = invoice_for(service, who, invoice_id)
    etag(response, invoice.version)
    view = get_invoice(service.db, str(invoice.id))
    personal = service.app.personal
    history = [
        {
            **{k: v for k, v in event.items() if k != "invoice_id"},
            "reason": reveal_reasons(personal, event["reason"]),
        }
        for event in (view["history"] if view else [])
    ]
    return {**_invoice(invoice), "history": history}


def _invoice(i: Invoice) -> dict[str, Any]:
    return {
        "id": str(i.id),
        "version": i.version,
        "council": i.council,
        "budget_id": i.budget_id,
        "provider": i.provider_ref,
        "invoice_number": i.invoice_number,
        "period": {"start": i.period.start, "end": i.period.end},
        "lines": [{**vars(line), "amount_pence": line.amount_pence} for line in i.lines],
        "status": i.status.value,
        "flags": list(i.flags),
        "amount_pence": i.amount_pence,
        "approved_pence": i.approved_pence,
        "paid_pence": i.paid_pence,
        "credited_pence": i.credited_pence,
        "credit_notes": dict(i.credit_notes),
        "remittance_ref": getattr(i, "remittance_ref", None),
    }
