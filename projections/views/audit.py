"""The audit trail: every event with its provenance, references and the hash chain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.ids import entry_id
from projections.chain import GENESIS, next_hash
from projections.db import SqlCursor
from projections.refs import RefsView

if TYPE_CHECKING:
    from projections.runner import Item

COLUMNS = (
    "position", "entry_id", "aggregate_id", "version", "recorded_at", "effective_on",
    "event_type", "aggregate_kind", "actor_id", "actor_role", "on_behalf_of", "reason",
    "command_id", "council", "budget_id", "provider", "invoice_id", "hash",
)  # fmt: skip


def recorded_at(event: Any) -> str:
    """UTC, fixed width, so text order is time order on both dialects."""
    return utc_stamp(event.timestamp)


def utc_stamp(instant: datetime) -> str:
    """'2011-05-01T09:30:00.000000+00:00': one width for every instant."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


class AuditView:
    name = "audit"
    tables: tuple[str, ...] = ("v_audit",)

    def create(self, cur: SqlCursor) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS v_audit (position BIGINT PRIMARY KEY,"
            " entry_id TEXT NOT NULL,"
            " aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, recorded_at TEXT NOT NULL,"
            " effective_on TEXT, event_type TEXT NOT NULL, aggregate_kind TEXT NOT NULL,"
            " actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, on_behalf_of TEXT, reason TEXT,"
            " command_id TEXT NOT NULL, council TEXT, budget_id TEXT, provider TEXT,"
            " invoice_id TEXT, hash TEXT NOT NULL)"
        )
        for column in ("aggregate_id", "budget_id", "actor_id", "recorded_at", "council"):
            cur.execute(f"CREATE INDEX IF NOT EXISTS v_audit_{column} ON v_audit ({column})")

    def head(self, cur: SqlCursor) -> tuple[int, str]:
        row = cur.execute(
            "SELECT position, hash FROM v_audit ORDER BY position DESC LIMIT 1"
        ).fetchone()
        return (int(row["position"]), row["hash"]) if row else (0, GENESIS)

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        _, previous = self.head(cur)
        rows = []
        for item in items:
            previous = next_hash(previous, item.notification)
            rows.append(self.row(item, refs, previous))
        marks = ", ".join("?" * len(COLUMNS))
        cur.executemany(f"INSERT INTO v_audit VALUES ({marks})", rows)  # noqa: S608

    @staticmethod
    def row(item: Item, refs: RefsView, digest: str) -> tuple[Any, ...]:
        event = item.event
        ref = refs.get(event.originator_id)
        prov = event.prov
        effective = getattr(event, "effective_on", None)
        invoice = ref.aggregate_id if ref.kind == "invoice" else None
        return (
            item.position, entry_id(event.originator_id, event.originator_version),
            str(event.originator_id), event.originator_version, recorded_at(event),
            effective.isoformat() if effective else None, type(event).__qualname__, ref.kind,
            prov.actor_id, prov.actor_role, prov.on_behalf_of, prov.reason, prov.command_id,
            ref.council, ref.budget_id, ref.provider, invoice, digest,
        )  # fmt: skip
