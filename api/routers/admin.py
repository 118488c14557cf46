"""Administrators' writes: councils (their policy, eligible population and gross spend) and care
providers (DESIGN.md §2, §4). Pooled funds are set up by an administrator or by the council's
own officers, since the Section 75 agreement is the council's."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response, status
from pydantic import Field, StrictInt, StringConstraints

from api.auth import Principal
from api.deps import Allow, Command, IdempotencyKey, Service, etag
from api.models import (
    AsIdentity,
    BusinessDate,
    IdentityRef,
    Pence,
    Ref,
    Strict,
    SupportReasonName,
    Written,
)
from api.problems import responses
from api.scope import own_council
from ledger.council import (
    DEFAULT_INVOICE_TOLERANCE_BP,
    DEFAULT_MAX_CONTINGENCY_BP,
    DEFAULT_SURPLUS_WEEKS,
    MAX_GROSS_SPEND_PENCE,
    MAX_POPULATION,
)
from ledger.pooled_fund import MAX_PARTNERS
from ledger.provenance import Role

router = APIRouter(tags=["admin"])
Admin = Annotated[Principal, Depends(Allow(Role.ADMIN))]
AdminOrCouncil = Annotated[Principal, Depends(Allow(Role.ADMIN, Role.COUNCIL))]
CREATE = responses(400, 403, 409)
WRITE = responses(400, 403, 404, 409)

PRINTABLE = r"^[!-~][ -~]*$"  # printable ASCII, not starting with a space
CouncilCode = Annotated[
    str,
    AsIdentity,
    StringConstraints(min_length=1, max_length=16, pattern=PRINTABLE),
    Field(description="The council's ONS code, e.g. E09000033.", examples=["E09000033"]),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=PRINTABLE)]
CodePath = Annotated[
    str,
    Path(min_length=1, max_length=16, pattern=PRINTABLE, description="The council's ONS code."),
    AsIdentity,
]
ProviderPath = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=PRINTABLE, description="The provider's reference."),
    AsIdentity,
]
FundPath = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=PRINTABLE, description="The pooled fund's ref."),
    AsIdentity,
]
Weeks = Annotated[StrictInt, Field(ge=1, le=52, description="Surplus threshold in weeks.")]
BasisPoints = Annotated[StrictInt, Field(ge=0, le=5000, description="Basis points (1% = 100).")]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_POPULATION)]


class RegisterCouncil(Strict):
    code: CouncilCode
    name: Name
    effective_on: BusinessDate
    surplus_weeks: Weeks = DEFAULT_SURPLUS_WEEKS
    invoice_tolerance_bp: BasisPoints = DEFAULT_INVOICE_TOLERANCE_BP
    max_contingency_bp: BasisPoints = DEFAULT_MAX_CONTINGENCY_BP


class EligiblePopulation(Strict):
    effective_on: BusinessDate
    counts: Annotated[
        dict[SupportReasonName, Count],
        Field(
            min_length=1,
            max_length=6,
            description="Eligible people by primary support reason.",
            examples=[{"physical": 4200, "mental-health": 900}],
        ),
    ]


class GrossSpend(Strict):
    financial_year: Annotated[
        str,
        StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}$"),
        Field(description="April to March, e.g. 2010-11.", examples=["2010-11"]),
    ]
    gross_pence: Annotated[StrictInt, Field(ge=1, le=MAX_GROSS_SPEND_PENCE)]
    effective_on: BusinessDate


class Policy(Strict):
    surplus_weeks: Weeks
    invoice_tolerance_bp: BasisPoints
    max_contingency_bp: Annotated[
        BasisPoints | None, Field(description="Omit to keep the current limit.")
    ] = None
    effective_on: BusinessDate


class RegisterProvider(Strict):
    provider_ref: Annotated[IdentityRef, Field(description="The care regulator's registration id.")]
    name: Name
    effective_on: BusinessDate


class ProviderStatus(Strict):
    status: Literal["registered", "suspended", "deregistered"]
    effective_on: BusinessDate


class EstablishPooledFund(Strict):
    fund_ref: IdentityRef
    partners: Annotated[
        list[Ref],
        Field(min_length=1, max_length=MAX_PARTNERS, description="Distinct partner refs."),
    ]
    effective_on: BusinessDate


class PoolContribution(Strict):
    partner: Ref
    amount_pence: Pence
    effective_on: BusinessDate


def _written(response: Response, record: str, outcome: dict[str, Any]) -> Written:
    etag(response, int(outcome["version"]))
    return Written(id=record, version=outcome["version"], replayed=bool(outcome.get("replayed")))


@router.post("/v1/councils", status_code=status.HTTP_201_CREATED, responses=CREATE)
def register_council(
    body: RegisterCouncil, who: Admin, key: IdempotencyKey, service: Service, response: Response
) -> Written:
    """Register a council with its policy (surplus weeks, invoice tolerance, contingency limit).

    A council code is registered once: a second registration is 409 `already-exists`."""
    outcome = service.app.register_council(
        body.code,
        body.name,
        body.effective_on,
        Command(who, key).prov(),
        body.surplus_weeks,
        body.invoice_tolerance_bp,
        body.max_contingency_bp,
    )
    return _written(response, body.code, outcome)


@router.post("/v1/councils/{code}/eligible-population", responses=WRITE)
def record_eligible_population(
    code: CodePath,
    body: EligiblePopulation,
    who: Admin,
    key: IdempotencyKey,
    service: Service,
    response: Response,
) -> Written:
    """Record how many people are eligible for support, by primary support reason (the base of
    the uptake measures). A later record for the same date restates it."""
    counts = {str(reason): count for reason, count in body.counts.items()}
    outcome = service.app.record_eligible_population(
        code, counts, body.effective_on, Command(who, key).prov()
    )
    return _written(response, code, outcome)


@router.post("/v1/councils/{code}/gross-spend", responses=WRITE)
def record_gross_spend(
    code: CodePath,
    body: GrossSpend,
    who: Admin,
    key: IdempotencyKey,
    service: Service,
    response: Response,
) -> Written:
    """Record the council's gross adult-social-care spend for a financial year (the base of the
    share-of-spend measure). A later record for the same year restates it."""
    outcome = service.app.record_gross_spend(
        code, body.financial_year, body.gross_pence, body.effective_on, Command(who, key).prov()
    )
    return _written(response, code, outcome)


@router.post("/v1/councils/{code}/policy", responses=WRITE)
def change_council_policy(
    code: CodePath,
    body: Policy,
    who: Admin,
    key: IdempotencyKey,
    service: Service,
    response: Response,
) -> Written:
    """Change the council's policy: surplus threshold (rule 9), invoice tolerance (rule 4) and,
    optionally, the contingency limit."""
    outcome = service.app.change_council_policy(
        code,
        body.surplus_weeks,
        body.invoice_tolerance_bp,
        body.effective_on,
        Command(who, key).prov(),
        body.max_contingency_bp,
    )
    return _written(response, code, outcome)


@router.post("/v1/providers", status_code=status.HTTP_201_CREATED, responses=CREATE)
def register_provider(
    body: RegisterProvider, who: Admin, key: IdempotencyKey, service: Service, response: Response
) -> Written:
    """Register a care provider by its regulator registration id (409 if already registered)."""
    outcome = service.app.register_provider(
        body.provider_ref, body.name, body.effective_on, Command(who, key).prov()
    )
    return _written(response, body.provider_ref, outcome)


@router.post("/v1/providers/{provider_ref}/status", responses=WRITE)
def change_provider_status(
    provider_ref: ProviderPath,
    body: ProviderStatus,
    who: Admin,
    key: IdempotencyKey,
    service: Service,
    response: Response,
) -> Written:
    """Record the provider's registration status from a date: registered, suspended or
    deregistered (final). Invoices for periods it was not registered are flagged (rule 4)."""
    outcome = service.app.change_provider_status(
        provider_ref, body.status, body.effective_on, Command(who, key).prov()
    )
    return _written(response, provider_ref, outcome)


@router.post(
    "/v1/councils/{code}/pooled-funds",
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
    tags=["pooled funds"],
)
def establish_pooled_fund(
    code: CodePath,
    body: EstablishPooledFund,
    who: AdminOrCouncil,
    key: IdempotencyKey,
    service: Service,
    response: Response,
) -> Written:
    """Establish a Section 75 pooled fund with its partners (administrators, or the council's
    own officers: another council's officer gets 403)."""
    own_council(who, code)
    outcome = service.app.establish_pooled_fund(
        code, body.fund_ref, tuple(body.partners), body.effective_on, Command(who, key).prov()
    )
    return _written(response, body.fund_ref, outcome)


@router.post(
    "/v1/councils/{code}/pooled-funds/{fund_ref}/contributions",
    responses=WRITE,
    tags=["pooled funds"],
)
def receive_pool_contribution(
    code: CodePath,
    fund_ref: FundPath,
    body: PoolContribution,
    who: AdminOrCouncil,
    key: IdempotencyKey,
    service: Service,
    response: Response,
) -> Written:
    """Record money a partner paid into the pooled fund; budgets draw their pooled share from
    it and never beyond it (rule 11)."""
    own_council(who, code)
    outcome = service.app.receive_pool_contribution(
        code, fund_ref, body.partner, body.amount_pence, body.effective_on, Command(who, key).prov()
    )
    return _written(response, fund_ref, outcome)
