"""The audit trail for auditors and regulators: filters, cursor paging, each entry's detail
(hash, position, provenance), and the filtered trail as CSV — all from the API's own
``GET /v1/audit`` function and its scoping."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from api.console.render import admit, guard, page, parsed
from api.console.session import Signed
from api.deps import ReadService
from api.models import Instant
from api.pagination import CursorParam
from api.responses_audit import AuditRow
from api.routers import audit

router = APIRouter(include_in_schema=False)
Word = Annotated[str | None, Query(max_length=80)]
CSV_COLUMNS = [name for name in AuditRow.model_fields if name != "audit_note"]


def _filters(
    service: Any, who: Any, budget: str | None, actor: str | None, kind: str | None,
    recorded_from: str | None, recorded_to: str | None, as_at: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The form's filters as the API route's arguments (blank means no filter)."""
    return {
        "budget": parsed(UUID, budget, "budget"),
        "actor": (actor or "").strip() or None,
        "event_type": (kind or "").strip() or None,
        "recorded_from": parsed(Instant, recorded_from, "from"),
        "recorded_to": parsed(Instant, recorded_to, "to"),
        "as_at": parsed(Instant, as_at, "as_at"),
    }


@router.get("/ui/audit", response_class=HTMLResponse)
@guard
def trail(
    request: Request,
    session: Signed,
    service: ReadService,
    budget: Word = None,
    actor: Word = None,
    kind: Annotated[str | None, Query(alias="type", max_length=80)] = None,
    recorded_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    recorded_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    as_at: Annotated[str | None, Query(max_length=40)] = None,
    position: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    cursor: CursorParam = None,
) -> HTMLResponse:
    who = admit(audit.Reader, session.principal)
    filters = _filters(service, who, budget, actor, kind, recorded_from, recorded_to, as_at)
    if position is not None and cursor is None:  # open the trail at one entry
        cursor = audit.CURSORS.encode(position - 1)
    found = audit.get_audit_trail(who, service, **filters, cursor=cursor, limit=50)
    form = {"budget": budget or "", "actor": actor or "", "type": kind or "",
            "from": recorded_from or "", "to": recorded_to or "", "as_at": as_at or ""}  # fmt: skip
    query = urlencode({k: v for k, v in form.items() if v})
    return page(request, "audit.html", session, title="Audit trail", found=found, form=form,
                query=query, opened=position)  # fmt: skip


@router.get("/ui/audit.csv")
@guard
def trail_csv(
    session: Signed,
    service: ReadService,
    budget: Word = None,
    actor: Word = None,
    kind: Annotated[str | None, Query(alias="type", max_length=80)] = None,
    recorded_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    recorded_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    as_at: Annotated[str | None, Query(max_length=40)] = None,
) -> StreamingResponse:
    """The filtered trail, every page of it, as CSV (audit notes' text in ``audit_note``)."""
    who = admit(audit.Reader, session.principal)
    filters = _filters(service, who, budget, actor, kind, recorded_from, recorded_to, as_at)
    first = audit.get_audit_trail(who, service, **filters, limit=1000)  # refusals before 200

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([*CSV_COLUMNS, "audit_note"])
        found = first
        while True:
            for r in found["items"]:
                note = r.get("audit_note")
                writer.writerow([*(r.get(c) for c in CSV_COLUMNS),
                                 f"{note['code']}: {note['note']}" if note else ""])  # fmt: skip
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if found["next_cursor"] is None:
                return
            found = audit.get_audit_trail(who, service, **filters,
                                          cursor=found["next_cursor"], limit=1000)  # fmt: skip

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="careledger-audit.csv"'},
    )
