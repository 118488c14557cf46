"""A budget's statement: the budget, its balance for a business date as known at an instant,
a chart of the available balance over its entries, and every entry with its provenance. The API's
own budget routes are called (their scoping: another council's budget is not found)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.console.charts import steps
from api.console.pages_national import Text
from api.console.render import admit, allowed, guard, page, parsed
from api.console.render import day as day_of
from api.console.session import Signed
from api.deps import ReadService
from api.models import BusinessDate, Instant
from api.pagination import CursorParam
from api.routers import audit, budget_reads, endings
from api.routers.budgets import BudgetId

router = APIRouter(include_in_schema=False)
DONE = {
    "recovered": "The direct-payment balance was recovered.",
    "reinstated": "The budget was reinstated: its ending is reversed.",
}


@router.get("/ui/budgets/{budget_id}", response_class=HTMLResponse)
@guard
def budget(
    request: Request,
    budget_id: BudgetId,
    session: Signed,
    service: ReadService,
    as_at: Text = None,
    effective_on: Text = None,
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    done: Annotated[str | None, Query(max_length=20, pattern=r"^[a-z]+$")] = None,
) -> HTMLResponse:
    who = admit(budget_reads.Reader, session.principal)
    instant = parsed(Instant, as_at, "as_at")
    day = parsed(BusinessDate, effective_on, "effective_on")
    b = budget_reads.get_budget(budget_id, who, service, Response(), as_at=instant)
    balance = budget_reads.get_balance(budget_id, who, service, as_at=instant, effective_on=day)
    statement = budget_reads.get_statement(
        budget_id, who, service, cursor=cursor, limit=limit, as_at=instant
    )
    lines = statement["items"]
    provenance = _provenance(who, service, budget_id, lines)
    chart = steps(
        "Available balance after each entry",
        [(day_of(x["effective_on"]), x["available_pence"]) for x in lines],
        "The available balance",
    )
    return page(
        request, "budget.html", session, title=f"Budget {b['id'][:8]}", b=b, balance=balance,
        lines=lines, statement=statement, provenance=provenance, chart=chart,
        as_at=as_at or "", effective_on=effective_on or "",
        officer=allowed(endings.Council, who) and instant is None,
        key=f"console-{secrets.token_hex(16)}", flash=DONE.get(done or ""),
    )  # fmt: skip


def _provenance(who: Any, service: Any, budget_id: str, lines: list[Any]) -> dict[str, Any]:
    """Each entry's role, on-behalf-of and reason from the audit trail, for the roles that may
    read it (auditors, regulators); others see the actor the statement names."""
    if not allowed(audit.Reader, who) or not lines:
        return {}
    from uuid import UUID

    wanted = {line["entry_id"] for line in lines}
    found: dict[str, Any] = {}
    cursor = None
    while True:
        rows = audit.get_audit_trail(who, service, budget=UUID(budget_id), cursor=cursor,
                                     limit=1000)  # fmt: skip
        found.update({r["entry_id"]: r for r in rows["items"] if r["entry_id"] in wanted})
        cursor = rows["next_cursor"]
        if cursor is None or len(found) == len(wanted):
            return found
