"""One council: its measures, budgets (filtered, paged), exceptions queue, spend by provider by
month, trial balance and journal download. Each section calls the API route's own function (or,
for the budget list, the view's) after the same role and council scoping; a section the caller's
role may not read is left out, exactly as the API would refuse it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from api.console.charts import bars
from api.console.pages_national import Text, dates
from api.console.render import admit, allowed, guard, money, page, parsed
from api.console.session import Signed
from api.deps import ReadService
from api.models import Instant
from api.problems import ProblemError
from api.routers import budget_reads, reports, runs
from ledger.values import BudgetStatus
from projections.views.balances import list_balances

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Path(min_length=1, max_length=16, pattern=reports.PRINTABLE)]
PAGE = 25


def section(call: Callable[[], Any]) -> Any:
    """A section's figures, or None where the scoping refuses this caller (403)."""
    try:
        return call()
    except ProblemError as error:
        if error.status == 403:
            return None
        raise


@router.get("/ui/councils/{code}", response_class=HTMLResponse)
@guard
def council(
    request: Request,
    code: Code,
    session: Signed,
    service: ReadService,
    on: Text = None,
    as_at: Text = None,
    status: Annotated[BudgetStatus | None, Query()] = None,
    after: Annotated[UUID | None, Query()] = None,
) -> HTMLResponse:
    who = session.principal
    day, instant = dates(on, as_at)
    progress = reports.get_council_progress(
        code, admit(reports.ProgressReader, who), service, on=day, as_at=instant
    )
    budgets = None
    if allowed(budget_reads.Reader, who) and who.budget_id is None:
        budgets = section(lambda: budget_page(who, service, code, status, after))
    queue = spend = trial = None
    if allowed(reports.ExceptionReader, who):
        queue = section(lambda: reports.get_exceptions(who, service, council=code, on=day,
                                                       limit=20, as_at=instant))  # fmt: skip
    if allowed(reports.SpendReader, who):
        spend = section(lambda: reports.get_spend_by_provider(
            who, service, council=code, by_month=True, as_at=instant))  # fmt: skip
    if allowed(reports.Auditor, who):
        trial = section(lambda: reports.get_trial_balance(who, service, council=code,
                                                          as_at=instant))  # fmt: skip
    providers = _by_provider(spend["items"]) if spend else []
    chart = bars(
        "Invoiced by care firm" + (", the 15 largest" if len(providers) > 15 else ""),
        [(p["provider"], p["invoiced_pence"]) for p in providers[:15]],
        shown=lambda pence: money(int(pence)),
    )
    return page(
        request, "council.html", session, title=progress["name"], m=progress, budgets=budgets,
        queue=queue, spend=spend, providers=providers, chart=chart, trial=trial,
        on=day.isoformat(), as_at=as_at or "", status=status.value if status else "",
        statuses=[s.value for s in BudgetStatus], position=progress["as_at_position"],
        runner=allowed(runs.Council, who) and who.council == code,
        run_key=f"console-{secrets.token_hex(16)}",
    )  # fmt: skip


def budget_page(
    who: Any, service: Any, code: str, status: BudgetStatus | None, after: UUID | None
) -> dict[str, Any]:
    """A page of the council's budgets, scoped as every council read is."""
    council = reports.council_scope(who, code, service)
    rows = list_balances(
        service.db,
        council=council,
        limit=PAGE + 1,
        after_budget_id=str(after) if after else None,
        status=status.value if status else None,
    )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return {"items": rows, "next": rows[-1]["budget_id"] if more else None}


def _by_provider(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per firm totals over the months, largest first (the months stay in the table)."""
    totals: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = totals.setdefault(r["provider"], {"provider": r["provider"], "invoiced_pence": 0,
                                              "paid_pence": 0, "months": []})  # fmt: skip
        t["invoiced_pence"] += r["invoiced_pence"]
        t["paid_pence"] += r["paid_pence"]
        t["months"].append(r)
    return sorted(totals.values(), key=lambda t: (-t["invoiced_pence"], t["provider"]))


@router.get("/ui/councils/{code}/journal")
@guard
def journal(
    code: Code,
    session: Signed,
    service: ReadService,
    fmt: Annotated[Literal["hledger", "beancount"], Query(alias="format")] = "hledger",
    as_at: Text = None,
) -> StreamingResponse:
    """The council's journal, streamed by the API's own export."""
    who = admit(reports.Auditor, session.principal)
    instant = parsed(Instant, as_at, "as_at")
    return reports.export_journal(who, service, fmt=fmt, council=code, as_at=instant)
