"""Council officers' writes on personal budgets (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response, status
from pydantic import ConfigDict, Field, StrictBool, StrictInt

from api.auth import Principal
from api.deps import Allow, Command, IdempotencyKey, IfMatch, Service, etag
from api.models import (
    AllocationIn,
    BusinessDate,
    DeploymentIn,
    IdentityRef,
    Pence,
    PenceOrZero,
    PeriodIn,
    PlanLineIn,
    Reason,
    Ref,
    Strict,
    SupportReasonName,
    Written,
)
from api.problems import responses
from api.scope import budget_for, own_council
from ledger.provenance import Role
from projections.service import LedgerService

router = APIRouter(prefix="/v1/budgets", tags=["budgets"])
Council = Annotated[Principal, Depends(Allow(Role.COUNCIL))]
BudgetId = Annotated[str, Path(max_length=64, description="The personal budget's id (a UUID).")]
WRITE = responses(400, 403, 404, 409, 412)


class OpenBudget(Strict):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "council": "E09000033",
                    "person_ref": "P-000123",
                    "primary_support_reason": "learning-disability",
                    "carer_budget": False,
                    "effective_on": "2010-04-05",
                }
            ]
        },
    )

    council: IdentityRef
    person_ref: Ref
    primary_support_reason: SupportReasonName
    carer_budget: StrictBool = False
    effective_on: BusinessDate


class IndicativeBudget(Strict):
    ras_score: Annotated[StrictInt, Field(ge=0, le=10_000)]
    weekly_pence: Pence
    ras_version: Ref
    effective_on: BusinessDate


class SupportPlan(Strict):
    lines: Annotated[list[PlanLineIn], Field(min_length=1, max_length=50)]
    effective_on: BusinessDate


class Dated(Strict):
    effective_on: BusinessDate
    reason: Reason | None = None


class Ending(Strict):
    end_reason: Literal[
        "death",
        "moved-away",
        "residential-care",
        "no-longer-eligible",
        "person-choice",
        "nhs-continuing-care",
        "other",
    ]
    effective_on: BusinessDate


class CashPayment(Strict):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "amount_pence": 154000,
                    "period": {"start": "2010-04-05", "end": "2010-05-02"},
                    "effective_on": "2010-04-05",
                }
            ]
        },
    )

    amount_pence: Pence
    period: PeriodIn
    effective_on: BusinessDate


class Contribution(Strict):
    """Either a financial assessment's weekly charge, or money received from the person."""

    assessed_weekly_pence: PenceOrZero | None = None
    received_pence: Pence | None = None
    effective_on: BusinessDate


class SurplusRecovery(Strict):
    amount_pence: Pence | None = None
    effective_on: BusinessDate


def written(response: Response, outcome: dict[str, Any]) -> Written:
    etag(response, int(outcome["version"]))
    return Written(
        id=outcome["budget_id"], version=outcome["version"], replayed=bool(outcome.get("replayed"))
    )


def check_scope(service: LedgerService, principal: Principal, budget_id: str) -> None:
    """The budget is this council's (404 for another council's, as for a missing one)."""
    budget_for(service, principal, budget_id)


@router.post("", status_code=status.HTTP_201_CREATED, responses=WRITE)
def open_budget(
    body: OpenBudget, who: Council, key: IdempotencyKey, service: Service, response: Response
) -> Written:
    """Open a personal budget for a person (pseudonymous reference) in your council."""
    own_council(who, body.council)
    outcome = service.app.open_budget(
        body.council,
        body.person_ref,
        body.primary_support_reason,
        body.effective_on,
        Command(who, key).prov(),
        body.carer_budget,
    )
    response.headers["Location"] = f"/v1/budgets/{outcome['budget_id']}"
    return written(response, outcome)


def _budget_write(name: str, body_type: type[Strict], call: Callable[..., dict[str, Any]]) -> None:
    """Register ``POST /v1/budgets/{id}/<name>``: scope check, If-Match, then the use case."""

    def endpoint(
        budget_id: BudgetId,
        body: body_type,  # type: ignore[valid-type]  # each route's own body model
        who: Council,
        key: IdempotencyKey,
        service: Service,
        response: Response,
        version: IfMatch,
    ) -> Written:
        check_scope(service, who, budget_id)
        outcome = call(service.app, budget_id, body, Command(who, key), version)
        return written(response, outcome)

    endpoint.__annotations__["body"] = body_type  # a closure variable FastAPI cannot resolve
    endpoint.__name__ = name.replace("-", "_")
    endpoint.__doc__ = call.__doc__
    router.add_api_route(
        f"/{{budget_id}}/{name}",
        endpoint,
        methods=["POST"],
        responses=WRITE,
        response_model=Written,
    )


def _indicative(app: Any, bid: str, b: IndicativeBudget, c: Command, v: int | None) -> Any:
    """Record the RAS score and the indicative weekly budget."""
    return app.set_indicative_budget(
        bid, b.ras_score, b.weekly_pence, b.ras_version, b.effective_on, c.prov(), v
    )


def _plan(app: Any, bid: str, b: SupportPlan, c: Command, v: int | None) -> Any:
    """Agree the support plan (lines: service, units a week, rate, provider)."""
    lines = tuple(line.value() for line in b.lines)
    return app.agree_support_plan(bid, lines, b.effective_on, c.prov(), v)


def _approval(app: Any, bid: str, b: AllocationIn, c: Command, v: int | None) -> Any:
    """Approve: total = client + council contribution; streams; contingency (rules 1, 2, 11)."""
    return app.approve_budget(bid, b.value(), b.effective_on, c.prov(b.reason), v)


def _revision(app: Any, bid: str, b: AllocationIn, c: Command, v: int | None) -> Any:
    """Revise the approved budget (never below what has been spent)."""
    return app.revise_budget(bid, b.value(), b.effective_on, c.prov(b.reason), v)


def _deployment(app: Any, bid: str, b: DeploymentIn, c: Command, v: int | None) -> Any:
    """Choose how the budget is spent: direct payment, council-managed, ISF or mixed."""
    return app.choose_deployment(bid, b.value(), b.effective_on, c.prov(), v)


def _suspension(app: Any, bid: str, b: Dated, c: Command, v: int | None) -> Any:
    """Suspend the budget: nothing is paid while suspended (rule 7)."""
    return app.suspend_budget(bid, b.effective_on, c.prov(b.reason), v)


def _resumption(app: Any, bid: str, b: Dated, c: Command, v: int | None) -> Any:
    """Resume a suspended budget."""
    return app.resume_budget(bid, b.effective_on, c.prov(b.reason), v)


def _ending(app: Any, bid: str, b: Ending, c: Command, v: int | None) -> Any:
    """End the budget, with its reason (death, moved away, residential care, …)."""
    return app.end_budget(bid, b.end_reason, b.effective_on, c.prov(b.end_reason), v)


def _cash(app: Any, bid: str, b: CashPayment, c: Command, v: int | None) -> Any:
    """Issue a direct (cash) payment for a period (rules 3, 7)."""
    return app.issue_cash_payment(
        bid, b.amount_pence, b.period.value(), b.effective_on, c.prov(), v
    )


def _contribution(app: Any, bid: str, b: Contribution, c: Command, v: int | None) -> Any:
    """Record a financial assessment's weekly charge, or a contribution received."""
    if (b.assessed_weekly_pence is None) == (b.received_pence is None):
        from ledger.errors import InvalidCommandError

        raise InvalidCommandError(
            "send exactly one of assessed_weekly_pence and received_pence", field="body"
        )
    if b.received_pence is not None:
        return app.receive_contribution(bid, b.received_pence, b.effective_on, c.prov(), v)
    return app.assess_contribution(bid, b.assessed_weekly_pence, b.effective_on, c.prov(), v)


def _surplus(app: Any, bid: str, b: SurplusRecovery, c: Command, v: int | None) -> Any:
    """Recover the surplus above the council's threshold (rule 9), identifying it first when none
    is outstanding; over-paid client contribution is refunded first. Without an amount, all of
    it is recovered."""
    return app.recover_surplus(bid, b.amount_pence, b.effective_on, c.prov(), v)


for _name, _body, _call in (
    ("indicative-budget", IndicativeBudget, _indicative),
    ("support-plan", SupportPlan, _plan),
    ("approval", AllocationIn, _approval),
    ("deployment", DeploymentIn, _deployment),
    ("revision", AllocationIn, _revision),
    ("suspension", Dated, _suspension),
    ("resumption", Dated, _resumption),
    ("ending", Ending, _ending),
    ("cash-payments", CashPayment, _cash),
    ("contributions", Contribution, _contribution),
    ("surplus-recoveries", SurplusRecovery, _surplus),
):
    _budget_write(_name, _body, _call)


class BudgetYearIn(Strict):
    """Rule 14: the next financial year, rolled over (the annual figures as they stand) or
    re-assessed (``allocation`` states the new annual figures)."""

    year_starts_on: BusinessDate
    basis: Literal["rolled-over", "re-assessed"]
    allocation: AllocationIn | None = None
    effective_on: BusinessDate


class PaymentBasisIn(Strict):
    payment_basis: Literal["net", "gross"]
    effective_on: BusinessDate


def _year(app: Any, bid: str, b: BudgetYearIn, c: Command, v: int | None) -> Any:
    """Allocate the budget's next financial year (1 April to 31 March), rolled over or
    re-assessed; pro-rated by day for a part year (rule 14)."""
    alloc = None if b.allocation is None else b.allocation.value()
    return app.allocate_year(bid, b.year_starts_on, b.basis, b.effective_on, c.prov(), alloc, v)


def _basis(app: Any, bid: str, b: PaymentBasisIn, c: Command, v: int | None) -> Any:
    """Pay the direct payment net of the assessed contribution (the person pays it into the
    account) or gross (the council collects it); contributions are then owed, 4-weekly."""
    net = b.payment_basis == "net"
    return app.choose_payment_basis(bid, net, b.effective_on, c.prov(), v)


_budget_write("years", BudgetYearIn, _year)
_budget_write("payment-basis", PaymentBasisIn, _basis)
