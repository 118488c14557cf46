"""Erasure of a person's personal data (UK GDPR Art. 17; the end of a retention period).

Only an administrator erases. The person's data key is destroyed, so their reference, their
representatives' ids and notes about them read as ``erased`` everywhere from then on, while the
money, the hash chain and the Merkle proofs are unchanged (they cover the stored ciphertext).
The erasure is itself on the audit trail (``PersonErasure.Recorded``), holding only the
person's pseudonym. Access logs name the route, never the reference in its path.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from api.auth import Principal
from api.deps import Allow, Command, IdempotencyKey, Service
from api.models import BusinessDate, Reason, Strict
from api.problems import responses
from ledger.provenance import Role
from projections.erasure import erase_person

router = APIRouter(tags=["people"])
Admin = Annotated[Principal, Depends(Allow(Role.ADMIN))]
PersonPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[!-~][ -~]*$",
        description="The person's reference, as the budget was opened with.",
    ),
]


class ErasureIn(Strict):
    reason: Annotated[Reason, Field(examples=["art17-request", "retention"])]
    effective_on: BusinessDate


class ErasureOut(BaseModel):
    """The erasure's record: the person's pseudonym, never their reference."""

    person: str = Field(description="The person's pseudonym in the ledger.")
    erasure_id: str
    version: int


@router.post("/v1/people/{person}/erasure", responses=responses(400, 403, 404, 409))
def erase(
    person: PersonPath, body: ErasureIn, who: Admin, key: IdempotencyKey, service: Service
) -> Any:
    """Erase the person's personal data and delete their representatives' access tokens:
    404 `person-not-found` when none is held, 409 `person-erased` when it already is. A repeat
    of the Idempotency-Key answers as the first time (and deletes nothing more)."""
    prov = Command(who, key).prov(body.reason)
    outcome = erase_person(service, person, body.effective_on, prov)
    return ErasureOut(**{k: outcome[k] for k in ("person", "erasure_id", "version")})
