"""Representatives and their decisions (rule 8), corrections (rule 10), and two council writes
on a budget that DESIGN.md §4's table does not list but councils need: recording a
direct-payment return (the spend the person reports) and recording a review.

Who decides: a representative token (scoped to one budget and one representative id) records
its own decisions only, only while appointed; the actor in the event is the representative id,
so the ledger's rule 8 applies to it. A representative never sends ``representative_id``: who
they are comes from the token, and a body naming anyone (even themselves) is refused with 422
``invalid-request`` (field ``representative_id``), so nothing in a body can pick the actor. A
council officer may record a decision on behalf of a named, appointed representative, and then
``representative_id`` is required. Carers are appointed as representatives of kind ``carer``.

These writes take no If-Match: their use cases in ``ledger/app_budgets.py`` have no expected
version to check atomically, and a check made here first could race.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import Field, StringConstraints

from api.auth import Principal
from api.deps import Allow, Command, IdempotencyKey, IfMatch, Service, etag
from api.models import BusinessDate, Pence, PeriodIn, Reason, Ref, Strict, Written
from api.problems import ProblemError, responses
from api.routers.budgets import BudgetId, Dated, check_scope, written
from api.scope import budget_for, invoice_for
from ledger.errors import BudgetNotFoundError, EntryNotFoundError, InvoiceNotFoundError
from ledger.ids import parse_entry_id
from ledger.pooled_fund import PooledFund
from ledger.provenance import Role
from projections.service import LedgerService

router = APIRouter(tags=["representatives"])
Council = Annotated[Principal, Depends(Allow(Role.COUNCIL))]
Decider = Annotated[Principal, Depends(Allow(Role.COUNCIL, Role.REPRESENTATIVE))]
WRITE = responses(400, 403, 404, 409)
PRINTABLE = r"^[!-~][ -~]*$"
RepresentativePath = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=PRINTABLE, description="The representative's id."),
]


class Appointment(Strict):
    representative_id: Annotated[Ref, Field(description="A pseudonymous reference, never a name.")]
    kind: Literal["nominated", "authorised", "carer"]
    basis: Literal["none", "attorney", "deputy", "council-approved", "person-nominated"]
    effective_on: BusinessDate


class Decision(Strict):
    decision: Literal[
        "choose-provider",
        "agree-plan",
        "opt-for-cash",
        "approve-timesheet",
        "approve-invoice",
        "decline-service",
    ]
    subject_ref: (
        Annotated[
            str,
            StringConstraints(min_length=1, max_length=100, pattern=PRINTABLE),
            Field(description="What the decision is about, e.g. a provider or invoice reference."),
        ]
        | None
    ) = None
    effective_on: BusinessDate
    representative_id: Annotated[
        Ref | None,
        Field(
            description="Council officers only: the appointed representative whose decision "
            "this is. Representatives never send it (their token says who they are)."
        ),
    ] = None


class Correction(Strict):
    entry_id: Annotated[
        str,
        StringConstraints(max_length=48, pattern=r"^[0-9a-fA-F-]{32,36}/[0-9]{1,9}$"),
        Field(
            description="The entry to reverse: '<record id>/<version>', the record being a"
            " budget, an invoice or a pooled fund.",
            examples=["0b7c6a52-3f1e-5d44-9a51-2f0e7c11aa01/6"],
        ),
    ]
    amount_pence: Pence
    effective_on: BusinessDate
    reason: Reason


class DirectPaymentReturn(Strict):
    amount_pence: Pence
    period: PeriodIn
    effective_on: BusinessDate


@router.post(
    "/v1/budgets/{budget_id}/representatives",
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def appoint_representative(
    budget_id: BudgetId,
    body: Appointment,
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> Written:
    """Appoint a representative: a nominated person (chosen by a person with capacity), an
    authorised person (attorney, deputy or council-approved) or a carer. 409 if already
    appointed. Answers the budget's id and new version."""
    check_scope(service, who, budget_id)
    outcome = service.app.appoint_representative(
        budget_id,
        body.representative_id,
        body.kind,
        body.basis,
        body.effective_on,
        Command(who, key).prov(),
        version,
    )
    return written(response, outcome)


@router.delete("/v1/budgets/{budget_id}/representatives/{representative_id}", responses=WRITE)
def revoke_representative(
    budget_id: BudgetId,
    representative_id: RepresentativePath,
    effective_on: Annotated[
        BusinessDate, Query(description="The first day the representative may no longer act.")
    ],
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
    reason: Annotated[Reason | None, Query(description="A short code or legal basis.")] = None,
) -> Written:
    """Revoke an appointment from a date: from then on the representative's token is refused
    (rule 8). The appointment stays in the history. Needs an Idempotency-Key like every write."""
    check_scope(service, who, budget_id)
    outcome = service.app.revoke_representative(
        budget_id, representative_id, effective_on, Command(who, key).prov(reason), version
    )
    return written(response, outcome)


@router.post("/v1/budgets/{budget_id}/decisions", responses=WRITE)
def record_decision(
    budget_id: BudgetId,
    body: Decision,
    who: Decider,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> Written:
    """Record a decision made for the person (choose a provider, agree the plan, opt for cash,
    approve a timesheet or invoice, decline a service), on the person's behalf (rule 8).

    A representative token records its own decisions, only for its budget (404 for any other)
    and only while appointed (403 `representative-not-appointed`); it must not send
    `representative_id`. A council officer names the appointed representative."""
    budget_for(service, who, budget_id)
    outcome = service.app.record_decision(
        budget_id,
        _decider(who, body),
        body.decision,
        body.subject_ref,
        body.effective_on,
        Command(who, key).prov(),
        version,
    )
    return written(response, outcome)


def _decider(who: Principal, body: Decision) -> str:
    """The representative whose decision this is: from the token, or named by the council."""
    if who.role is Role.REPRESENTATIVE:
        if body.representative_id is not None:
            raise _invalid("representatives record their own decisions: omit representative_id")
        return who.actor_id  # the token's representative id
    if body.representative_id is None:
        raise _invalid("name the appointed representative whose decision this is")
    return body.representative_id


def _invalid(detail: str) -> ProblemError:
    return ProblemError(
        422,
        "invalid-request",
        "The request is not valid",
        f"representative_id: {detail}",
        field="representative_id",
    )


@router.post("/v1/corrections", responses=WRITE, tags=["corrections"])
def correct_entry(
    body: Correction,
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> Written:
    """Reverse all or part of any earlier money entry, by its entry id, with a reason (rule 10):
    on a budget, a cash payment, spend reported, a contribution assessed or received, a surplus
    identified or recovered, a balance recovered after the ending; on an invoice, its approval
    (charge), payment or a credit note; on a pooled fund, a partner's contribution or a budget's
    drawdown (the council fund then pays that share: a revision in the same save). The original
    stays; the reversal posts its exact reverse postings and, with earlier reversals, never
    exceeds it (422 `correction-exceeds-original`, with the amounts). A payment is reversed
    before the approval it pays, credit notes before the payment (422
    `reverse-later-entry-first`). An allocation is corrected by a revision and an ending by a
    reinstatement (422 `entry-not-correctable`). An entry on another council's books is 404.
    Answers the id of the record the entry is on and its new version."""
    _check_entry_scope(service, who, body.entry_id)
    outcome = service.app.correct_entry(
        body.entry_id,
        body.amount_pence,
        body.effective_on,
        Command(who, key).prov(body.reason),
        version,
    )
    etag(response, int(outcome["version"]))
    record = outcome.get("budget_id") or outcome.get("invoice_id") or outcome["pooled_fund_id"]
    return Written(id=record, version=outcome["version"], replayed=bool(outcome.get("replayed")))


def _check_entry_scope(service: LedgerService, who: Principal, entry_id: str) -> None:
    """The entry's record (a budget, an invoice or a pooled fund) is on the caller's books;
    otherwise 404 as for a missing entry."""
    originator, _ = parse_entry_id(entry_id)
    try:
        budget_for(service, who, str(originator))
        return
    except BudgetNotFoundError:
        pass
    try:
        invoice_for(service, who, str(originator))
        return
    except InvoiceNotFoundError:
        pass
    record = service.app.get_aggregate(originator) if service.app.exists(originator) else None
    if not isinstance(record, PooledFund) or who.council not in (None, record.council):
        raise EntryNotFoundError("no entry with that id", entry_id=entry_id)


@router.post("/v1/budgets/{budget_id}/direct-payment-returns", responses=WRITE, tags=["budgets"])
def report_direct_payment_spend(
    budget_id: BudgetId,
    body: DirectPaymentReturn,
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> Written:
    """Record a direct-payment return: what the person spent from the cash they hold, for a
    period (never more than they hold). Not in DESIGN.md §4's table; councils need it to
    monitor direct payments and to find surplus (rule 9)."""
    check_scope(service, who, budget_id)
    outcome = service.app.report_direct_payment_spend(
        budget_id,
        body.amount_pence,
        body.period.value(),
        body.effective_on,
        Command(who, key).prov(),
        version,
    )
    return written(response, outcome)


@router.post("/v1/budgets/{budget_id}/reviews", responses=WRITE, tags=["budgets"])
def review_budget(
    budget_id: BudgetId,
    body: Dated,
    who: Council,
    key: IdempotencyKey,
    service: Service,
    response: Response,
    version: IfMatch,
) -> Written:
    """Record a review of an approved budget (first within 6 months, then yearly). Not in
    DESIGN.md §4's table; councils need it to show their reviews are done."""
    check_scope(service, who, budget_id)
    outcome = service.app.review_budget(
        budget_id, body.effective_on, Command(who, key).prov(body.reason), version
    )
    return written(response, outcome)
