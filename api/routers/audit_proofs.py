"""The verifiable log (DESIGN.md §9): entries with their exact leaf bytes, inclusion and
consistency proofs (RFC 9162), and the verifier key of the signed checkpoints.

Auditors and regulators read entries and proofs; anyone may fetch the verifier key. A regulator
checks everything offline with `scripts/tlog_verify.py` against a verifier key it kept. An
auditor scoped to a council reads only that council's entries (others answer 404); proofs hold
only hashes and are served to every reader.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from api.auth import Principal
from api.deps import Allow, Service
from api.problems import responses
from api.responses_audit import ConsistencyProof, InclusionProof, LogEntry, PublicKey
from ledger.errors import EntryNotFoundError
from ledger.provenance import Role
from projections import tlog

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Reader = Annotated[Principal, Depends(Allow(Role.AUDITOR, Role.REGULATOR))]
END = 2**62
LeafIndex = Annotated[int, Path(ge=0, le=END, description="The leaf index, from 0 in log order.")]
Size = Annotated[int, Query(ge=0, le=END)]


@router.get("/public-key", responses=responses(), response_model=PublicKey)
def get_public_key(service: Service) -> Any:
    """The verifier key of the signed checkpoints, in signed-note format
    (`<name>+<hex key id>+<base64(0x01 ‖ Ed25519 public key)>`), and the retired ones (each still
    verifies the checkpoints signed before its rotation). No token needed: keep it somewhere the
    ledger's operator cannot change, and check every checkpoint against your copy."""
    return tlog.public_key(service)


@router.get("/entries/{leaf_index}", responses=responses(403, 404), response_model=LogEntry)
def get_entry(leaf_index: LeafIndex, who: Reader, service: Service) -> Any:
    """Leaf `leaf_index` of the Merkle tree: its log `position`, its exact leaf bytes (base64
    `leaf`: position, aggregate id, version, topic and the stored state, length-prefixed; hash
    SHA-256(0x00 ‖ leaf) yourself) and the event's provenance from the audit trail."""
    found = tlog.entry(service, leaf_index)
    if who.council is not None and found["provenance"]["council"] != who.council:
        raise EntryNotFoundError(f"the log has no leaf {leaf_index}", leaf_index=leaf_index)
    return found


@router.get("/entries/{leaf_index}/proof", responses=responses(403), response_model=InclusionProof)
def get_inclusion_proof(
    leaf_index: LeafIndex,
    who: Reader,
    service: Service,
    size: Annotated[Size | None, Query(description="Tree size (default: now).")] = None,
) -> Any:
    """The inclusion proof of leaf `leaf_index` in the tree of `size` leaves (RFC 9162
    §2.1.3): verify it against the root of a signed checkpoint of that size."""
    return tlog.inclusion(service, leaf_index, size)


@router.get("/consistency", responses=responses(403), response_model=ConsistencyProof)
def get_consistency_proof(
    who: Reader,
    service: Service,
    first: Annotated[Size, Query(alias="from", description="The kept tree's size (≥ 1).")],
    second: Annotated[Size | None, Query(alias="to", description="Default: now.")] = None,
) -> Any:
    """The consistency proof that the tree of `to` leaves extends the tree of `from` leaves
    (RFC 9162 §2.1.4): verify it against the roots of both signed checkpoints."""
    return tlog.consistency(service, first, second)
