"""Erasure of personal data (UK GDPR Art. 17; the end of a retention period) and each council's
retention policy.

Only an administrator erases. The person's data key is destroyed, so their reference, their
representatives' ids, the reasons given on their budget and its invoices, and notes about them
read as ``erased`` everywhere from then on, while the money, the hash chain and the Merkle
proofs are unchanged (they cover the stored ciphertext). The erasure is itself on the audit
trail (``PersonErasure.Recorded``), holding only the person's pseudonym. The answer says which
events, written before sealing, still hold the person's data in plain text. Access logs name
the route, never the reference in its path.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field, StrictInt

from api.auth import Principal
from api.deps import Allow, Command, IdempotencyKey, ReadService, Service, etag
from api.glossary import described
from api.models import AsIdentity, BusinessDate, Reason, Strict, Written
from api.problems import responses
from api.routers.reports import council_scope
from ledger.council import MAX_RETENTION_YEARS, MIN_RETENTION_YEARS
from ledger.provenance import Role
from projections.erasure import erase_note, erase_person, erase_representative

router = APIRouter(tags=["people"])
Admin = Annotated[Principal, Depends(Allow(Role.ADMIN))]
PolicyReader = Annotated[
    Principal, Depends(Allow(Role.ADMIN, Role.COUNCIL, Role.AUDITOR, Role.REGULATOR))
]
PRINTABLE = r"^[!-~][ -~]*$"
PersonPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=PRINTABLE,
        description="The person's reference, as the budget was opened with.",
    ),
]
NoteId = Annotated[str, Path(min_length=1, max_length=64, description="The note's id.")]
CodePath = Annotated[
    str,
    Path(min_length=1, max_length=16, pattern=PRINTABLE, description="The council's ONS code."),
    AsIdentity,
]


class ErasureIn(Strict):
    reason: Annotated[Reason, Field(examples=["art17-request", "retention"])]
    effective_on: BusinessDate


@described
class ErasureOut(BaseModel):
    """The erasure's record: the person's pseudonym, never their reference, and what the log
    still holds about them in plain text from before sealing. (How many tokens were deleted is
    the CLI's to say: a retry deletes none and must answer as the first time.)"""

    person: str
    erasure_id: str
    version: int
    plain_events: int
    plain_positions: list[int]


@described
class NoteErasureOut(BaseModel):
    """The erasure's record of an auditor's note about no person."""

    note_id: str
    erasure_id: str
    version: int


@described
class RepresentativeErasureOut(BaseModel):
    """The erasure's record of a representative: their pseudonym, never their id."""

    person: str
    erasure_id: str
    version: int


class RetentionIn(Strict):
    # Loosely bounded here; the ledger's own bounds answer 422 `retention-out-of-bounds`.
    years: Annotated[
        StrictInt,
        Field(ge=0, le=1000, description=f"{MIN_RETENTION_YEARS}..{MAX_RETENTION_YEARS} years."),
    ]
    effective_on: BusinessDate


@described
class RetentionOut(BaseModel):
    council: str
    retention_years: int


@router.post("/v1/people/{person}/erasure", responses=responses(400, 403, 404, 409))
def erase(
    person: PersonPath, body: ErasureIn, who: Admin, key: IdempotencyKey, service: Service
) -> Any:
    """Erase the person's personal data and delete their representatives' access tokens:
    404 `person-not-found` when none is held, 409 `person-erased` when it already is. A repeat
    of the Idempotency-Key answers as the first time (and deletes nothing more). For a person
    recorded before sealing, `plain_events` and `plain_positions` name the events that still
    hold their data in plain text (reads show it as erased; the log keeps the bytes)."""
    prov = Command(who, key).prov(body.reason)
    outcome = erase_person(service, person, body.effective_on, prov)
    return ErasureOut(**{k: outcome[k] for k in ErasureOut.model_fields})


@router.post("/v1/audit/notes/{note_id}/erasure", responses=responses(400, 403, 404, 409))
def erase_audit_note(
    note_id: NoteId, body: ErasureIn, who: Admin, key: IdempotencyKey, service: Service
) -> Any:
    """Erase an auditor's note about no person (a council's or a care firm's record): its own
    key is destroyed, so its text reads as erased everywhere. 409 `note-about-a-person` for a
    note about a budget (it goes with the person's erasure), 409 `erasure-unavailable` for a
    note stored in the clear before sealing, 409 `person-erased` when it already is erased,
    404 when there is no such note."""
    prov = Command(who, key).prov(body.reason)
    outcome = erase_note(service, note_id, body.effective_on, prov)
    return NoteErasureOut(**{k: outcome[k] for k in NoteErasureOut.model_fields})


@router.post(
    "/v1/representatives/{representative_id}/erasure", responses=responses(400, 403, 404, 409)
)
def erase_a_representative(
    representative_id: PersonPath,
    body: ErasureIn,
    who: Admin,
    key: IdempotencyKey,
    service: Service,
) -> Any:
    """Erase a representative's own personal data: their key is destroyed, so their id reads
    as erased on every budget they represent, and their access tokens are deleted; the people
    they represent are untouched. 404 `representative-not-found` when nothing is held under
    their key, 409 `person-erased` when it already is erased."""
    prov = Command(who, key).prov(body.reason)
    outcome = erase_representative(service, representative_id, body.effective_on, prov)
    return RepresentativeErasureOut(
        **{k: outcome[k] for k in RepresentativeErasureOut.model_fields}
    )


@router.post("/v1/councils/{code}/retention", responses=responses(400, 403, 404, 409))
def set_retention_policy(
    code: CodePath,
    body: RetentionIn,
    who: Admin,
    key: IdempotencyKey,
    service: Service,
    response: Response,
) -> Written:
    """Set the council's retention policy: its people's records are erased `years` (6..30)
    after the end of the financial year in which their last budget ended (`careledger
    retention --apply`). An event on the council's record and the audit trail."""
    outcome = service.app.set_retention_policy(
        code, body.years, body.effective_on, Command(who, key).prov()
    )
    etag(response, int(outcome["version"]))
    return Written(id=code, version=outcome["version"], replayed=bool(outcome.get("replayed")))


@router.get(
    "/v1/councils/{code}/retention", responses=responses(400, 403, 404), response_model=RetentionOut
)
def get_retention_policy(code: CodePath, who: PolicyReader, service: ReadService) -> Any:
    """The council's retention policy (six years until it sets another)."""
    scoped = council_scope(who, code, service)
    council = service.app.council(scoped or code)
    return {"council": council.code, "retention_years": council.retention_years}
