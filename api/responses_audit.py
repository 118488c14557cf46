"""Response models of the audit routes: the trail, verification, checkpoints, and the
verifiable log's key, entries and proofs (DESIGN.md §9)."""

from __future__ import annotations

from pydantic import Field

from api.responses import Out, Position

# --- audit -------------------------------------------------------------------------------------


class AuditNoteText(Out):
    code: str = Field(description="The finding's short code.")
    note: str
    subject_entry_id: str | None = Field(description="The entry the note is about, if any.")


class AuditRow(Out):
    """One event of the log with who did it, when, about what, and its chain hash."""

    position: int = Position
    entry_id: str = Field(description="'<aggregate id>/<version>': cite it in a correction.")
    aggregate_id: str
    version: int = Field(description="The record's version after this event.")
    recorded_at: str = Field(description="When the ledger recorded it (UTC, ISO 8601).")
    effective_on: str | None = Field(description="The business date it is effective (ISO).")
    event_type: str = Field(description="e.g. 'Invoice.Paid'.")
    aggregate_kind: str = Field(description="budget, invoice, council, audit-note, …")
    actor_id: str
    actor_role: str
    on_behalf_of: str | None
    reason: str | None
    command_id: str = Field(description="The Idempotency-Key of the command that wrote it.")
    council: str | None
    budget_id: str | None
    provider: str | None
    invoice_id: str | None
    hash: str = Field(description="SHA-256 chain hash up to and including this event (hex).")
    known_by: str
    note: AuditNoteText | None = Field(None, description="An audit note's text (notes only).")


class Check(Out):
    name: str
    ok: bool
    detail: str
    first_bad_position: int | None = Field(description="Where the check first failed.")


class Verification(Out):
    ok: bool = Field(description="True when every check passed.")
    checks: list[Check]


class CheckpointOut(Out):
    size: int = Field(description="How many events the log held.")
    head_hash: str = Field(description="The chain hash of the last of them (hex).")
    taken_at: str = Field(description="When it was taken (UTC, ISO 8601).")
    tree_size: int | None = Field(
        None, description="Leaves in the Merkle tree the signed note is for (DESIGN.md §9)."
    )
    root_hash: str | None = Field(None, description="That tree's root (base64).")
    signed_note: str | None = Field(
        None,
        description="The C2SP tlog-checkpoint (origin, tree size, root) as a signed note,"
        " Ed25519-signed by the ledger's key; verify it with GET /v1/audit/public-key.",
    )


class CheckpointCheck(Check):
    checkpoint: CheckpointOut = Field(description="The checkpoint that was checked.")


# --- the verifiable log ------------------------------------------------------------------------


class PublicKey(Out):
    verifier_key: str = Field(
        description="Signed-note verifier key: <name>+<hex key id>+<base64(0x01 ‖ Ed25519 key)>."
    )
    retired: list[str] = Field(
        description="Verifier keys rotated out; each still verifies what it signed before."
    )


class LogEntry(Out):
    leaf_index: int = Field(description="The leaf's index, from 0 in log order.")
    position: int = Field(description="The event's log position (positions may have gaps).")
    leaf: str = Field(
        description="The exact leaf bytes (base64); leaf hash = SHA-256(0x00 ‖ leaf)."
    )
    provenance: dict[str, str | int | None] = Field(
        description="The event's provenance as the audit trail holds it."
    )


class InclusionProof(Out):
    leaf_index: int
    tree_size: int
    hashes: list[str] = Field(description="RFC 9162 §2.1.3 inclusion path (base64), leaf first.")


class ConsistencyProof(Out):
    from_: int = Field(alias="from", description="The kept (smaller) tree's size.")
    to: int = Field(description="The later tree's size.")
    hashes: list[str] = Field(description="RFC 9162 §2.1.4 consistency proof (base64).")
