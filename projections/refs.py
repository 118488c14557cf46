"""What each aggregate belongs to (council, budget, provider): every view row carries its council.

Learnt from each aggregate's first event; other views look it up for later events.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.audit_note import AuditNote
from ledger.budget import PersonalBudget
from ledger.command_record import CommandRecord
from ledger.council import Council
from ledger.invoice import Invoice
from ledger.pooled_fund import PooledFund
from ledger.provider import Provider
from projections.db import SqlCursor

if TYPE_CHECKING:
    from projections.runner import Item

CACHE_SIZE = 200_000


@dataclass(frozen=True)
class Ref:
    aggregate_id: str
    kind: str
    council: str | None = None
    budget_id: str | None = None
    provider: str | None = None
    support_reason: str | None = None
    service_month: str | None = None


def ref_of(event: Any) -> Ref | None:  # noqa: PLR0911 - one return per creation event
    """The reference a creation event establishes (None for later events)."""
    agg = str(event.originator_id)
    if isinstance(event, Council.Registered):
        return Ref(agg, "council", council=event.code)
    if isinstance(event, Provider.Registered):
        return Ref(agg, "provider", provider=event.provider_ref)
    if isinstance(event, PersonalBudget.Opened):
        return Ref(agg, "budget", event.council, agg, support_reason=event.support_reason)
    if isinstance(event, Invoice.Posted):
        month = event.period.start.isoformat()[:7]
        return Ref(agg, "invoice", event.council, event.budget_id, event.provider_ref, None, month)
    if isinstance(event, PooledFund.Established):
        return Ref(agg, "pool", event.council)
    if isinstance(event, CommandRecord.Accepted):
        return Ref(agg, "command")
    if isinstance(event, AuditNote.NoteAdded):
        return Ref(agg, "audit-note", event.council, event.budget_id, event.provider)
    return None


class RefsView:
    name = "refs"
    tables: tuple[str, ...] = ("v_refs",)

    def __init__(self) -> None:
        self._cache: OrderedDict[str, Ref] = OrderedDict()
        self._cur: SqlCursor | None = None

    def create(self, cur: SqlCursor) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS v_refs (aggregate_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            " council TEXT, budget_id TEXT, provider TEXT, support_reason TEXT, service_month TEXT)"
        )
        self._cache.clear()

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        rows = []
        for item in items:
            ref = ref_of(item.event)
            if ref is not None:
                self._remember(ref)
                rows.append(
                    (ref.aggregate_id, ref.kind, ref.council, ref.budget_id, ref.provider,
                     ref.support_reason, ref.service_month)
                )  # fmt: skip
        cur.executemany(
            "INSERT INTO v_refs VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (aggregate_id) DO NOTHING",
            rows,
        )

    def use(self, cur: SqlCursor) -> None:
        self._cur = cur

    def get(self, aggregate_id: Any) -> Ref:
        key = str(aggregate_id)
        ref = self._cache.get(key)
        if ref is None:
            ref = self._load(key)
            self._remember(ref)
        else:
            self._cache.move_to_end(key)
        return ref

    def _remember(self, ref: Ref) -> None:
        self._cache[ref.aggregate_id] = ref
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _load(self, key: str) -> Ref:
        if self._cur is None:
            raise LookupError(f"no reference for {key}")
        row = self._cur.execute("SELECT * FROM v_refs WHERE aggregate_id = ?", (key,)).fetchone()
        if row is None:
            raise LookupError(f"no reference for {key}")
        return Ref(**row)
