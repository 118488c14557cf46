"""Endings that settle (rule 12): recovering the direct-payment balance left after an ending,
and reinstating a budget whose ending was recorded in error. Final invoices for care delivered
before the end go through the invoice routes as usual."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import Field, StringConstraints

from api.auth import Principal
from api.deps import Allow, Command, IdempotencyKey, IfMatch, Service, etag
from api.glossary import GLOSSARY
from api.models import BusinessDate, Pence, Reason, Strict, Written
from api.problems import responses
from api.routers.budgets import BudgetId, check_scope, written
from ledger.provenance import Role

router = APIRouter(prefix="/v1/budgets", tags=["budgets"])
Council = Annotated[Principal, Depends(Allow(Role.COUNCIL))]
WRITE = responses(400, 403, 404, 409, 412)


class BalanceRecovery(Strict):
    amount_pence: Annotated[
        Pence | None, Field(description="How much to recover (omit: all the balance held).")
    ] = None
    effective_on: BusinessDate


class Reinstatement(Strict):
    ending_entry_id: Annotated[
        str,
        StringConstraints(max_length=48, pattern=r"^[0-9a-fA-F-]{32,36}/[0-9]{1,9}$"),
        Field(
            description="The ending to reverse: '<budget id>/<version>', the version the"
            " ending answered.",
            examples=["0b7c6a52-3f1e-5d44-9a51-2f0e7c11aa01/9"],
        ),
    ]
    effective_on: BusinessDate
    reason: Reason


class BalanceRecovered(Written):
    """The budget after the recovery, and how the amount was split."""

    refunded_pence: int = Field(0, description=GLOSSARY["refunded_pence"])
    recovered_pence: int = Field(0, description=GLOSSARY["recovered_pence"])


@router.post("/{budget_id}/balance-recoveries", responses=WRITE)
def recover_balance(
    budget_id: BudgetId,
    body: BalanceRecovery,
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> BalanceRecovered:
    """After the budget ended, recover the direct-payment balance left (all of it without an
    amount); over-paid client contribution is refunded first. 409 `budget-not-ended` on a
    running budget; 422 `recovery-exceeds-balance` beyond what the account holds."""
    check_scope(service, who, budget_id)
    outcome = service.app.recover_balance(
        budget_id, body.amount_pence, body.effective_on, Command(who, key).prov(), version
    )
    etag(response, int(outcome["version"]))
    return BalanceRecovered(
        id=outcome["budget_id"],
        version=outcome["version"],
        replayed=bool(outcome.get("replayed")),
        refunded_pence=outcome.get("refunded_pence", 0),
        recovered_pence=outcome.get("recovered_pence", 0),
    )


@router.post("/{budget_id}/reinstatement", responses=WRITE)
def reinstate(
    budget_id: BudgetId,
    body: Reinstatement,
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> Written:
    """Reverse an ending recorded in error: the reinstatement references the ending's entry id
    and states its reason; the budget returns to the status it had before. Only the ending in
    force is reinstated (422 `not-an-ending`; 409 `budget-not-ended` on a running budget)."""
    check_scope(service, who, budget_id)
    outcome = service.app.reinstate_budget(
        budget_id,
        body.ending_entry_id,
        body.effective_on,
        Command(who, key).prov(body.reason),
        version,
    )
    return written(response, outcome)
