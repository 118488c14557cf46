"""A council's payment runs: every direct payment due by a date, paid in one command."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.auth import Principal
from api.deps import Allow, IdempotencyKey, Service
from api.figure_models import PaymentRun
from api.models import AsIdentity, BusinessDate, Strict
from api.problems import responses
from api.scope import own_council
from ledger.provenance import Provenance, Role

router = APIRouter(tags=["payment runs"])
Council = Annotated[Principal, Depends(Allow(Role.COUNCIL))]
CodePath = Annotated[
    str,
    Path(min_length=1, max_length=16, pattern=r"^[ -~]+$", description="The council's ONS code."),
    AsIdentity,
]


class PaymentRunIn(Strict):
    run_date: BusinessDate


@router.post(
    "/v1/councils/{code}/payment-runs",
    responses=responses(400, 403, 404, 409),
    response_model=PaymentRun,
)
def run_payments(
    code: CodePath, body: PaymentRunIn, who: Council, key: IdempotencyKey, service: Service
) -> PaymentRun:
    """Pay every direct payment of your council due on or before `run_date` and not yet paid:
    4-weekly in advance from each direct payment's start, net or gross as the budget is paid;
    suspended and ended budgets are skipped, each with its reason. The Idempotency-Key is
    required as on every write, but the run's identity is the council and run date: a repeat
    for that date, under any key, returns the first run's results and pays nothing twice."""
    own_council(who, code)
    prov = Provenance(
        who.actor_id, who.role.value, key, idempotency_scope=who.idempotency_scope
    )  # the ledger names the command by the council and run date
    outcome = service.app.run_payments(code, body.run_date, prov)
    return PaymentRun.model_validate({**outcome, "replayed": bool(outcome.get("replayed"))})
