"""Invoices: the list (care firms see only their own, councils their council's), one invoice
with its history and remittance, a council officer's approve / dispute / pay (the version read
goes back as If-Match), and a care firm's CSV upload through the batch command."""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from api.console import invoice_csv
from api.console.render import (
    ConsoleFaultError,
    admit,
    allowed,
    guard,
    page,
    parsed,
    pence_of,
)
from api.console.session import Signed, check_csrf
from api.deps import ReadService, Service
from api.models import BusinessDate
from api.pagination import CursorParam
from api.routers import invoice_reads, invoices
from ledger.values import InvoiceStatus

router = APIRouter(include_in_schema=False)
Field = Annotated[str | None, Form(max_length=200)]
Action = Literal["approval", "dispute", "payment"]


@router.get("/ui/invoices", response_class=HTMLResponse)
@guard
def invoice_list(
    request: Request,
    session: Signed,
    service: ReadService,
    status: Annotated[InvoiceStatus | None, Query()] = None,
    cursor: CursorParam = None,
) -> HTMLResponse:
    who = admit(invoice_reads.Reader, session.principal)
    found = invoice_reads.list_invoices_route(who, service, status=status, cursor=cursor, limit=50)
    return page(
        request, "invoices.html", session, title="Invoices", found=found,
        status=status.value if status else "", statuses=[s.value for s in InvoiceStatus],
    )  # fmt: skip


@router.get("/ui/invoices/upload", response_class=HTMLResponse)
@guard
def upload_form(request: Request, session: Signed) -> HTMLResponse:
    admit(invoices.Provider, session.principal)
    return page(request, "upload.html", session, title="Upload invoices",
                columns=invoice_csv.COLUMNS, results=None)  # fmt: skip


@router.get("/ui/invoices/template.csv")
def upload_template() -> PlainTextResponse:
    """The CSV layout with an example invoice of two lines (no sign-in needed: no data)."""
    return PlainTextResponse(
        invoice_csv.template(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="careledger-invoices.csv"'},
    )


@router.post("/ui/invoices/upload", response_class=HTMLResponse)
@guard
def upload(
    request: Request,
    session: Signed,
    service: Service,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """Read the file into the API's invoice models and post the well-formed ones as one batch;
    the Idempotency-Key is the file's digest, so sending the same file again writes nothing."""
    check_csrf(session.csrf, csrf_token)
    who = admit(invoices.Provider, session.principal)
    data = file.file.read(invoice_csv.MAX_BYTES + 1)
    try:
        found = invoice_csv.read(data)
    except invoice_csv.FileRefusedError as error:
        raise ConsoleFaultError(422, "The file cannot be read", str(error)) from None
    results: list[dict[str, Any]] = [
        {"rows": rows, "accepted": False, "detail": why} for rows, why in found.problems
    ]
    if found.invoices:
        key = "csv-" + hashlib.sha256(data).hexdigest()[:48]
        batch = invoices.InvoiceBatch(invoices=found.invoices)
        outcome = invoices.post_invoice_batch(batch, who, key, service)
        for item in outcome.results:
            results.append({
                "rows": found.rows[item.index], "accepted": item.accepted, "id": item.id,
                "status": item.status, "flags": item.flags,
                "detail": item.detail, "error": (item.error or "").removeprefix("/problems/"),
            })  # fmt: skip
    results.sort(key=lambda r: r["rows"][0])
    return page(request, "upload.html", session, title="Upload invoices",
                columns=invoice_csv.COLUMNS, results=results, filename=file.filename)  # fmt: skip


@router.get("/ui/invoices/{invoice_id}", response_class=HTMLResponse)
@guard
def invoice(
    request: Request, invoice_id: invoices.InvoiceId, session: Signed, service: ReadService,
    done: Annotated[str | None, Query(max_length=20, pattern=r"^[a-z]+$")] = None,
) -> HTMLResponse:  # fmt: skip
    who = admit(invoice_reads.Reader, session.principal)
    found = invoice_reads.get_invoice_route(invoice_id, who, service, Response())
    return page(
        request, "invoice.html", session, title=f"Invoice {found['invoice_number']}", i=found,
        officer=allowed(invoices.Council, who), key=f"console-{secrets.token_hex(16)}",
        flash=f"The invoice was {done}." if done else None,
    )  # fmt: skip


@router.post("/ui/invoices/{invoice_id}/{action}", response_class=RedirectResponse)
@guard
def act(
    invoice_id: invoices.InvoiceId,
    action: Action,
    session: Signed,
    service: Service,
    version: Annotated[str, Form(max_length=12)],
    key: Annotated[str, Form(max_length=64)],
    effective_on: Field = None,
    reason: Field = None,
    remittance_ref: Field = None,
    approved: Field = None,
    rest: Field = None,
    csrf_token: Field = None,
) -> RedirectResponse:
    """Approve (all of it, or short-pay: the approved amount, the rest disputed or rejected, with
    a reason), dispute or pay, conditional on the version the officer saw (If-Match)."""
    check_csrf(session.csrf, csrf_token)
    who = admit(invoices.Council, session.principal)
    if_match = invoices_if_match(version)
    day = parsed(BusinessDate, effective_on, "effective_on")
    body = {"effective_on": day, "reason": reason or None, "remittance_ref": remittance_ref}
    args = (invoice_id,)
    if action == "approval":
        model = invoices.Approval.model_validate({
            "effective_on": day, "reason": reason or None, "rest": rest or None,
            "approved_pence": pence_of(approved, "approved amount"),
        })  # fmt: skip
        invoices.approve_invoice(*args, model, who, key, service, Response(), if_match)
    elif action == "dispute":
        refusal = invoices.Refusal.model_validate({k: body[k] for k in ("effective_on", "reason")})
        invoices.dispute_invoice(*args, refusal, who, key, service, Response(), if_match)
    else:
        pay = invoices.Payment.model_validate(
            {k: body[k] for k in ("effective_on", "remittance_ref")}
        )
        invoices.pay_invoice(*args, pay, who, key, service, Response(), if_match)
    done = {"approval": "approved", "dispute": "disputed", "payment": "paid"}[action]
    return RedirectResponse(f"/ui/invoices/{invoice_id}?done={done}", status_code=303)


def invoices_if_match(version: str) -> int:
    from api.deps import if_match

    parsed_version = if_match(f'"{version}"')
    assert parsed_version is not None  # noqa: S101 - a value was given
    return parsed_version
