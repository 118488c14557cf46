"""Reading a budget: its state, its balance as at any instant, its statement."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api.auth import Principal
from api.deps import Allow, ReadService, etag
from api.figure_models import BudgetBalanceOut, Statement
from api.models import BusinessDate
from api.pagination import CursorParam, Limit, page_of
from api.params import AsAt, as_at_position, views_as_at
from api.problems import responses
from api.responses import BudgetOut
from api.routers.budgets import BudgetId
from api.scope import budget_for
from ledger.budget import PersonalBudget
from ledger.errors import BudgetNotFoundError
from ledger.personal import (
    ERASED,
    PersonalData,
    context,
    is_sealed,
    person_erased,
    person_shown,
    representative_shown,
)
from ledger.provenance import Role
from projections.asat import aggregate_at
from projections.balance import balance_of, figures_of
from projections.budget_years import years_of
from projections.cursor import CursorKind, Int
from projections.replicas import LedgerReads

router = APIRouter(prefix="/v1/budgets", tags=["budgets"])
Reader = Annotated[Principal, Depends(Allow(Role.COUNCIL, Role.REPRESENTATIVE, Role.AUDITOR))]
READ = responses(403, 404)
CURSORS = CursorKind("statement", ((Int(), Int()),))  # the last line's (position, seq)
EffectiveOn = Annotated[
    BusinessDate | None, Query(description="The business date the figures are for.")
]


@router.get("/{budget_id}", responses=READ, response_model=BudgetOut)
def get_budget(
    budget_id: BudgetId, who: Reader, service: ReadService, response: Response, as_at: AsAt = None
) -> Any:
    """The budget: status, plan, allocation, deployment, representatives, with its version;
    with `as_at`, as it stood then (404 if it did not exist yet)."""
    b = budget_for(service, who, budget_id)
    stop = as_at_position(service, as_at)
    if stop is not None:
        b = _budget_at(service, b, stop)
    etag(response, b.version)
    personal = service.app.personal
    erased = person_erased(personal, b.person_ref)  # then ids stored in the clear are masked
    return {
        "id": str(b.id),
        "version": b.version,
        "council": b.council,
        "person_ref": person_shown(personal, b.person_ref, context(b.id, "person_ref")),
        "primary_support_reason": b.support_reason.value,
        "carer_budget": b.carer_budget,
        "status": b.status.value,
        "opened_on": b.opened_on,
        "approved_on": b.approved_on,
        "ended_on": b.ended_on,
        "end_reason": b.end_reason,
        "indicative_weekly_pence": b.indicative_weekly_pence,
        "support_plan": [vars(line) for line in b.plan or ()],
        "allocation": _allocation(b.allocation),
        "deployment": _deployment(b.deployment),
        "representatives": {
            _representative(personal, str(b.id), r.stored_id or rid, erased): {
                "kind": r.kind,
                "basis": r.basis,
                "appointed_on": r.appointed_on,
                "revoked_on": r.revoked_on,
            }
            for rid, r in b.representatives.items()
        },
        "available_pence": b.available_pence,
        "held_pence": b.held_pence,
        "years": years_of(b),
        "payment_basis": None if b.net_payments is None else ("net" if b.net_payments else "gross"),
        "contributions_owed_pence": b.contributions_owed_pence,
        "contribution_arrears_pence": b.contribution_arrears_pence,
        "as_at_position": stop,
    }


def _budget_at(service: LedgerReads, now: PersonalBudget, position: int) -> PersonalBudget:
    then = aggregate_at(service.app, service.db, now.id, position)
    if not isinstance(then, PersonalBudget):
        raise BudgetNotFoundError("no such budget at that instant", budget_id=str(now.id))
    return then


def _representative(personal: PersonalData, budget_id: str, stored: str, erased: bool) -> str:
    """A representative's id as shown: opened, or erased (their key or the person's gone; an
    id stored in the clear before sealing, once the person is erased)."""
    if erased and not is_sealed(stored):
        return ERASED
    return representative_shown(personal, stored, context(budget_id, "representative_id"))


def _deployment(d: Any) -> dict[str, Any] | None:
    """The deployment under the glossary's names: its cash part is direct_payment_annual_pence,
    as on the balance."""
    if d is None:
        return None
    return {
        "kind": d.kind,
        "provider_id": d.provider_id,
        "direct_payment_annual_pence": d.direct_payment_pence,
    }


def _allocation(a: Any) -> dict[str, Any]:
    return {
        "total_pence": a.total_pence,
        "client_contribution_pence": a.client_contribution_pence,
        "council_contribution_pence": a.council_contribution_pence,
        "contingency_pence": a.contingency_pence,
        "streams": [vars(s) for s in a.streams],
    }


@router.get("/{budget_id}/balance", responses=READ, response_model=BudgetBalanceOut)
def get_balance(
    budget_id: BudgetId,
    who: Reader,
    service: ReadService,
    as_at: AsAt = None,
    effective_on: EffectiveOn = None,
) -> Any:
    """The balance for a business date, as known at an instant — replayed from the events. Each
    figure is defined in the README's glossary; the nets equal the budget's journal accounts."""
    b = budget_for(service, who, budget_id)
    stop = as_at_position(service, as_at)
    if stop is not None:
        b = _budget_at(service, b, stop)
    figures = balance_of(
        service.app, budget_id, stop_position=stop, effective_on=effective_on, db=service.db
    )
    values = figures_of(figures)
    years = years_of(b)
    return {**values, "years": years, "as_at_position": stop, "effective_on": effective_on}


@router.get("/{budget_id}/statement", responses=READ, response_model=Statement)
def get_statement(
    budget_id: BudgetId,
    who: Reader,
    service: ReadService,
    cursor: CursorParam = None,
    limit: Limit = 200,
    as_at: AsAt = None,
    effective_on: EffectiveOn = None,
) -> Any:
    """Every money movement on the budget with the running available balance, in log order;
    page on with `cursor` = `next_cursor`. With `as_at`, the lines known then; with
    `effective_on`, only those effective on or before that date."""
    b = budget_for(service, who, budget_id)
    start = CURSORS.decode(cursor) or (0, -1)
    stop = as_at_position(service, as_at)
    if stop is not None:
        b = _budget_at(service, b, stop)
    day = effective_on.isoformat() if effective_on else None
    rows = views_as_at(service, stop).query(
        "SELECT position, seq, effective_on, event_type, entry_id, actor_id, amount_pence"
        " FROM v_postings WHERE budget_id = ? AND account = 'Budgets:Available'"
        " AND (CAST(? AS TEXT) IS NULL OR effective_on <= ?) ORDER BY position, seq",
        (str(b.id), day, day),
    )
    running, lines = 0, []
    for r in rows:
        running += int(r["amount_pence"])
        at = (int(r["position"]), int(r.pop("seq")))
        if at > start:
            change = int(r.pop("amount_pence"))
            year = b.entry_year_label(
                str(r["entry_id"]), date.fromisoformat(str(r["effective_on"]))
            )
            line = {**r, "year": year, "available_change_pence": change, "available_pence": running}
            lines.append((at, line))
    page, more = lines[:limit], len(lines) > limit
    next_cursor = CURSORS.encode(*page[-1][0]) if more else None
    items = page_of([line for _, line in page], more, next_cursor)
    return {**items, "years": years_of(b), "as_at_position": stop}
