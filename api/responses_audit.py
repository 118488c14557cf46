"""Response models of the audit routes: the trail, verification, checkpoints, and the
verifiable log's key, entries and proofs (DESIGN.md §9). Each field's description is its glossary
meaning (``api.glossary``), filled in by ``described``."""

from __future__ import annotations

from pydantic import Field

from api.glossary import described
from api.responses import Out

# --- audit -------------------------------------------------------------------------------------


@described
class AuditNoteText(Out):
    code: str
    note: str
    subject_entry_id: str | None


@described
class AuditRow(Out):
    """One event of the log with who did it, when, about what, and its chain hash."""

    position: int
    entry_id: str
    aggregate_id: str
    version: int
    recorded_at: str
    effective_on: str | None
    event_type: str
    aggregate_kind: str
    actor_id: str
    actor_role: str
    on_behalf_of: str | None
    reason: str | None
    command_id: str
    council: str | None
    budget_id: str | None
    provider: str | None
    invoice_id: str | None
    hash: str
    known_by: str
    audit_note: AuditNoteText | None = None


@described
class Check(Out):
    name: str
    ok: bool
    detail: str
    first_bad_position: int | None


@described
class Verification(Out):
    ok: bool
    checks: list[Check]


@described
class CheckpointOut(Out):
    size: int
    head_hash: str
    taken_at: str
    tree_size: int | None = None
    root_hash: str | None = None
    signed_note: str | None = None


@described
class CheckpointCheck(Check):
    checkpoint: CheckpointOut


# --- the verifiable log ------------------------------------------------------------------------


@described
class PublicKey(Out):
    verifier_key: str
    retired: list[str]


@described
class LogEntry(Out):
    leaf_index: int
    position: int
    leaf: str
    provenance: dict[str, str | int | None]


@described
class InclusionProof(Out):
    leaf_index: int
    tree_size: int
    hashes: list[str]


@described
class ConsistencyProof(Out):
    from_: int = Field(alias="from")
    to: int
    hashes: list[str]
