"""The audit trail: every event with its provenance, references and the hash chain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from projections.bulk import insert_rows
from projections.chain import GENESIS, next_digest
from projections.db import SqlCursor
from projections.refs import RefsView

if TYPE_CHECKING:
    from projections.runner import Item

COLUMNS = (
    "position", "entry_id", "aggregate_id", "version", "recorded_at", "effective_on",
    "event_type", "aggregate_kind", "actor_id", "actor_role", "on_behalf_of", "reason",
    "command_id", "council", "budget_id", "provider", "invoice_id", "hash", "known_by",
)  # fmt: skip


def recorded_at(event: Any) -> str:
    """UTC, fixed width, so text order is time order on both dialects."""
    return utc_stamp(event.timestamp)


def utc_stamp(instant: datetime) -> str:
    """'2011-05-01T09:30:00.000000+00:00': one width for every instant."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


BY_POSITION = ("budget_id", "actor_id", "council")


class AuditView:
    name = "audit"
    tables: tuple[str, ...] = ("v_audit",)
    append_only = (("v_audit", "position"),)  # its history: the rows up to a position
    indexes: tuple[str, ...] = (
        # A budget's, actor's or council's rows in log order: the trail pages by position, and
        # as at a position it stops there (one range of one index, on both databases).
        *(
            f"CREATE INDEX IF NOT EXISTS v_audit_{column}_at ON v_audit ({column}, position)"
            for column in BY_POSITION
        ),
        "CREATE INDEX IF NOT EXISTS v_audit_recorded_at ON v_audit (recorded_at)",
        # An aggregate's rows in log order: its history, and its version at a position.
        "CREATE INDEX IF NOT EXISTS v_audit_aggregate ON v_audit (aggregate_id, position)",
        "CREATE INDEX IF NOT EXISTS v_audit_known_by ON v_audit (known_by, position)",
    )

    def create(self, cur: SqlCursor) -> None:
        for column in BY_POSITION:  # an older release's index on the column alone
            cur.execute(f"DROP INDEX IF EXISTS v_audit_{column}")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS v_audit (position BIGINT PRIMARY KEY,"
            " entry_id TEXT NOT NULL,"
            " aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, recorded_at TEXT NOT NULL,"
            " effective_on TEXT, event_type TEXT NOT NULL, aggregate_kind TEXT NOT NULL,"
            " actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, on_behalf_of TEXT, reason TEXT,"
            " command_id TEXT NOT NULL, council TEXT, budget_id TEXT, provider TEXT,"
            " invoice_id TEXT, hash TEXT NOT NULL, known_by TEXT NOT NULL)"
        )

    def head(self, cur: SqlCursor) -> tuple[int, str, str]:
        """The last row's position, chain hash and ``known_by`` (the genesis before any)."""
        row = cur.execute(
            "SELECT position, hash, known_by FROM v_audit ORDER BY position DESC LIMIT 1"
        ).fetchone()
        return (int(row["position"]), row["hash"], row["known_by"]) if row else (0, GENESIS, "")

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        _, last_hash, known_by = self.head(cur)
        digest = bytes.fromhex(last_hash)
        rows = []
        for item in items:
            digest = next_digest(digest, item.notification, item.aggregate_id)
            row = self.row(item, refs, digest.hex())
            # Events can be stamped slightly out of log order under concurrency; ``known_by``
            # (the latest stamp up to here) never goes back, so "what the log held at instant T"
            # is one index lookup: the last position whose ``known_by`` is at or before T.
            known_by = max(known_by, row[4])
            rows.append((*row, known_by))
        insert_rows(cur, "v_audit", COLUMNS, rows)

    @staticmethod
    def row(item: Item, refs: RefsView, digest: str) -> tuple[Any, ...]:
        event, agg, version = item.event, item.aggregate_id, item.event.originator_version
        ref = refs.get(agg)
        prov = event.prov
        effective = getattr(event, "effective_on", None)
        invoice = ref.aggregate_id if ref.kind == "invoice" else None
        return (
            item.position, f"{agg}/{version}",  # ledger.ids.entry_id, from the id as text
            agg, version, recorded_at(event),
            effective.isoformat() if effective else None, type(event).__qualname__, ref.kind,
            prov.actor_id, prov.actor_role, prov.on_behalf_of, prov.reason, prov.command_id,
            ref.council, ref.budget_id, ref.provider, invoice, digest,
        )  # fmt: skip
