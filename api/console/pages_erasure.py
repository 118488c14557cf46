"""Erasure of a person's personal data, for administrators only: the person's reference and the
reason code go to the API's own ``POST /v1/people/{person}/erasure`` function, and its answer is
shown as it is — the pseudonym, the erasure's record, and any events from before sealing that
still hold the person's data in plain text (``plain_events``)."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from api.console.render import ConsoleFaultError, admit, guard, page, parsed
from api.console.session import Signed, check_csrf
from api.deps import Service
from api.models import BusinessDate
from api.routers import people

router = APIRouter(include_in_schema=False)
Field = Annotated[str | None, Form(max_length=200)]
REASONS = ("art17-request", "retention")


def _form(request: Request, session: Any, **context: Any) -> HTMLResponse:
    return page(request, "erasure.html", session, title="Erase a person's data",
                reasons=REASONS, key=f"console-{secrets.token_hex(16)}",
                today=date.today().isoformat(), **context)  # fmt: skip


@router.get("/ui/erasure", response_class=HTMLResponse)
@guard
def erasure_form(request: Request, session: Signed) -> HTMLResponse:
    admit(people.Admin, session.principal)
    return _form(request, session, result=None)


@router.post("/ui/erasure", response_class=HTMLResponse)
@guard
def erase(
    request: Request,
    session: Signed,
    service: Service,
    key: Annotated[str, Form(max_length=64)],
    person: Field = None,
    reason: Field = None,
    effective_on: Field = None,
    csrf_token: Field = None,
) -> HTMLResponse:
    """Erase, then show the API's answer (a repeat of the form's key answers as the first time)."""
    check_csrf(session.csrf, csrf_token)
    who = admit(people.Admin, session.principal)
    ref = (person or "").strip()
    if not ref:
        raise ConsoleFaultError(400, "The form is not valid", "person: give the reference")
    body = people.ErasureIn.model_validate({
        "reason": (reason or "").strip() or None,
        "effective_on": parsed(BusinessDate, effective_on, "effective_on"),
    })  # fmt: skip
    result = people.erase(ref, body, who, key, service)
    return _form(request, session, result=result.model_dump())
