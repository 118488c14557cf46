"""Reading care firms' invoices: the list in posting order, and one invoice with its history.

A care firm sees only its own invoices; a council officer only its council's. Out of scope
answers 404, exactly as for a missing invoice.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api.auth import Principal
from api.deps import Allow, ReadService, etag
from api.pagination import CursorParam, Limit, page_of
from api.params import AsAt, CouncilCode, ProviderRef, as_at_position, views_as_at
from api.problems import ProblemError, responses
from api.responses import InvoiceDetail, InvoicePage
from api.routers.invoices import InvoiceId
from api.scope import invoice_for, registered
from ledger.errors import InvoiceNotFoundError
from ledger.invoice import Invoice
from ledger.personal import shown_for
from ledger.provenance import Role
from ledger.values import InvoiceStatus
from projections.asat import aggregate_at
from projections.cursor import CursorKind, Int
from projections.replicas import LedgerReads
from projections.views.invoices import get_invoice, list_invoices
from projections.views.people import erased_budgets

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])
Reader = Annotated[Principal, Depends(Allow(Role.COUNCIL, Role.PROVIDER, Role.AUDITOR))]
READ = responses(403, 404)
CURSORS = CursorKind("invoices", ((Int(),),))  # the last invoice's posting position


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


@router.get("", responses=READ, response_model=InvoicePage)
def list_invoices_route(
    who: Reader,
    service: ReadService,
    provider: ProviderRef = None,
    council: CouncilCode = None,
    status: Annotated[
        InvoiceStatus | None, Query(description="Only invoices in this status.")
    ] = None,
    cursor: CursorParam = None,
    limit: Limit = 100,
    as_at: AsAt = None,
) -> Any:
    """Invoices in posting order, filtered by provider, council and status; a care firm sees
    only its own, a council officer only its council's. Page on with `cursor` = `next_cursor`."""
    provider, council = _scoped_filters(who, provider, council)
    registered(service, council=council, provider=provider)
    state = status.value if status else None
    start = CURSORS.decode(cursor)
    stop = as_at_position(service, as_at)
    db = views_as_at(service, stop)

    def page(size: int, after: int | None) -> list[dict[str, Any]]:
        return list_invoices(db, provider, council, state, size, after)

    rows = page(limit, int(start[0]) if start else None)
    last = int(rows[-1]["posted_position"]) if rows else 0
    more = len(rows) == limit and bool(page(1, last))
    listed = page_of([_listed(r) for r in rows], more, CURSORS.encode(last) if more else None)
    return {**listed, "as_at_position": stop}


def _listed(r: dict[str, Any]) -> dict[str, Any]:
    texts = ("council", "budget_id", "provider", "invoice_number", "status", "remittance_ref")
    numbers = ("amount_pence", "approved_pence", "paid_pence", "credit_notes_pence", "version")
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
    invoice_id: InvoiceId, who: Reader, service: ReadService, response: Response, as_at: AsAt = None
) -> Any:
    """The invoice — lines, status, flags, amounts approved, paid and credited — with its
    history, one entry per event, oldest first. `ETag` is its version. With `as_at`, as it
    stood then (404 if not yet posted)."""
    invoice = invoice_for(service, who, invoice_id)
    stop = as_at_position(service, as_at)
    if stop is not None:
        invoice = _invoice_at(service, invoice, stop)
    etag(response, invoice.version)
    view = get_invoice(views_as_at(service, stop), str(invoice.id))
    personal = service.app.personal
    erased = bool(erased_budgets(service.db, [invoice.budget_id]))
    history = [
        {
            **{k: v for k, v in event.items() if k != "invoice_id"},
            "reason": shown_for(personal, event["reason"], "reason", erased),
        }
        for event in (view["history"] if view else [])
    ]
    return {**_invoice(invoice), "history": history, "as_at_position": stop}


def _invoice_at(service: LedgerReads, now: Invoice, position: int) -> Invoice:
    then = aggregate_at(service.app, service.db, now.id, position)
    if not isinstance(then, Invoice):
        raise InvoiceNotFoundError(
            "no Invoice with that id at that instant", invoice_id=str(now.id)
        )
    return then


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
        "credit_notes_pence": i.credited_pence,
        "credit_notes": dict(i.credit_notes),
        "remittance_ref": getattr(i, "remittance_ref", None),
        "short_paid_pence": i.short_paid_pence,
        "short_pay_rest": i.short_pay_rest,
    }
