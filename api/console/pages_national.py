"""National progress (the Audit Commission picture for a chosen date) for every reader of the
progress measures: the same projection functions and role list as ``GET /v1/national/progress``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.console.charts import bars
from api.console.render import admit, guard, page, parsed
from api.console.session import Signed
from api.deps import ReadService
from api.models import BusinessDate, Instant
from api.params import as_at_position, views_as_at
from api.routers import reports
from projections.views.progress_measures import (
    COUNCILS_SQL,
    load,
    measures,
    national_of,
)

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=40)]


def dates(on: str | None, as_at: str | None) -> tuple[date, Any]:
    """The business date (default today) and the recorded instant (default now) of a form."""
    return parsed(BusinessDate, on, "on") or date.today(), parsed(Instant, as_at, "as_at")


@router.get("/ui/national", response_class=HTMLResponse)
@guard
def national(
    request: Request, session: Signed, service: ReadService, on: Text = None, as_at: Text = None
) -> HTMLResponse:
    """England's measures, and every council's uptake against the 30% target."""
    admit(reports.ProgressReader, session.principal)
    day, instant = dates(on, as_at)
    stop = as_at_position(service, instant)
    db = views_as_at(service, stop)
    every = load(db, day, None)  # national_progress's own read, once for both tables
    figures = {**national_of(every, day), "as_at_position": stop}
    names = {r["code"]: r["name"] for r in db.query(COUNCILS_SQL, (None, None))}
    councils = [
        {"council": code, "name": names.get(code, code),
         **measures(f, day, with_funds=False)}
        for code, f in sorted(every.items())
    ]  # fmt: skip
    uptake = [
        (c["council"], None if (bp := c["users"]["with_budget_share_of_eligible_bp"]) is None
         else bp / 100)
        for c in councils
    ]  # fmt: skip
    chart = bars(
        "Share of eligible people with a personal budget, by council",
        uptake,
        target=figures["target_bp"] / 100,
    )
    return page(
        request, "national.html", session, title="National progress", figures=figures,
        councils=councils, chart=chart, on=day.isoformat(), as_at=as_at or "",
    )  # fmt: skip
