"""Integrity (verify, checkpoint download, a kept checkpoint checked against the log now) and the
exceptions queue with an auditor's notes — the API's own audit and report functions."""

from __future__ import annotations

import json
import secrets
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import ValidationError

from api.console.pages_national import Text
from api.console.render import ConsoleFaultError, admit, allowed, fault_of, guard, page, parsed
from api.console.session import Signed, check_csrf
from api.deps import ReadService, Service
from api.models import BusinessDate, Instant
from api.pagination import CursorParam
from api.routers import audit, reports

router = APIRouter(include_in_schema=False)
MAX_CHECKPOINT = 16 * 1024


@router.get("/ui/integrity", response_class=HTMLResponse)
@guard
def integrity(
    request: Request,
    session: Signed,
    service: Service,
    run: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    who = admit(audit.Reader, session.principal)
    result = audit.get_verification(who, service) if run else None
    return page(request, "integrity.html", session, title="Integrity", result=result, check=None)


@router.get("/ui/integrity/checkpoint.json")
@guard
def checkpoint(session: Signed, service: Service) -> JSONResponse:
    """The checkpoint now, to keep (as ``GET /v1/audit/checkpoint`` answers it)."""
    found = audit.get_checkpoint(admit(audit.Reader, session.principal), service)
    return JSONResponse(
        found,
        headers={"Content-Disposition": 'attachment; filename="careledger-checkpoint.json"'},
    )


@router.post("/ui/integrity/check", response_class=HTMLResponse)
@guard
def check(
    request: Request,
    session: Signed,
    service: Service,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """Whether the log still extends a checkpoint kept from this page (or the API)."""
    check_csrf(session.csrf, csrf_token)
    who = admit(audit.Reader, session.principal)
    data = file.file.read(MAX_CHECKPOINT + 1)
    try:
        kept = json.loads(data) if len(data) <= MAX_CHECKPOINT else {}
        if not isinstance(kept, dict):
            raise TypeError("not a JSON object")
        fields = audit.CheckpointIn.model_fields  # the download's other fields are not checked
        body = audit.CheckpointIn.model_validate({k: v for k, v in kept.items() if k in fields})
    except (ValueError, TypeError, KeyError):
        raise ConsoleFaultError(
            422, "That is not a kept checkpoint",
            "upload the JSON file downloaded from this page (or GET /v1/audit/checkpoint)",
        ) from None  # fmt: skip
    result = audit.check_checkpoint(body, who, service)
    return page(request, "integrity.html", session, title="Integrity", result=None, check=result)


@router.get("/ui/exceptions", response_class=HTMLResponse)
@guard
def exceptions(
    request: Request,
    session: Signed,
    service: ReadService,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    effective_from: Text = None,
    effective_to: Text = None,
    as_at: Text = None,
    cursor: CursorParam = None,
    done: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    who = admit(reports.ExceptionReader, session.principal)
    found = reports.get_exceptions(
        who, service, kind=(kind or "").strip() or None, cursor=cursor, limit=50,
        effective_from=parsed(BusinessDate, effective_from, "effective_from"),
        effective_to=parsed(BusinessDate, effective_to, "effective_to"),
        as_at=parsed(Instant, as_at, "as_at"),
    )  # fmt: skip
    form = {"kind": kind or "", "effective_from": effective_from or "",
            "effective_to": effective_to or "", "as_at": as_at or ""}  # fmt: skip
    return page(
        request, "exceptions.html", session, title="Exceptions", found=found, form=form,
        query=urlencode({k: v for k, v in form.items() if v}),
        auditor=allowed(reports.Auditor, who), flash="The audit note was added." if done else None,
    )  # fmt: skip


@router.get("/ui/notes/new", response_class=HTMLResponse)
@guard
def note_form(
    request: Request,
    session: Signed,
    service: ReadService,
    position: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> HTMLResponse:
    """An audit note, about the entry at ``position`` if given (found through the trail)."""
    who = admit(audit.Auditor, session.principal)
    entry = None
    if position is not None:
        rows = audit.get_audit_trail(who, service, cursor=audit.CURSORS.encode(position - 1),
                                     limit=1)["items"]  # fmt: skip
        entry = rows[0] if rows and rows[0]["position"] == position else None
    return page(request, "note.html", session, title="Add an audit note", entry=entry,
                key=f"console-{secrets.token_hex(16)}", today=date.today().isoformat())  # fmt: skip


@router.post("/ui/notes", response_class=RedirectResponse)
@guard
def add_note(
    session: Signed,
    service: Service,
    key: Annotated[str, Form(max_length=64)],
    code: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
    effective_on: Annotated[str | None, Form(max_length=40)] = None,
    subject_entry_id: Annotated[str | None, Form(max_length=100)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    check_csrf(session.csrf, csrf_token)
    who = admit(audit.Auditor, session.principal)
    try:
        body = audit.NoteIn.model_validate({
            "subject_entry_id": subject_entry_id or None, "code": code.strip(), "note": note,
            "effective_on": effective_on or None,
        })  # fmt: skip
    except ValidationError as error:
        raise fault_of(error) from None
    audit.add_audit_note(body, who, key, service, Response())
    return RedirectResponse("/ui/exceptions?done=true", status_code=303)
