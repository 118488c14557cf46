"""What each aggregate belongs to (council, budget, provider): every view row carries its council.

Learnt from each aggregate's first event; other views look it up for later events. Lookups are
served from a bounded cache, filled a page at a time (``prefetch``: one query for the page's
aggregates it lacks), so memory stays flat however long the log grows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from ledger.audit_note import AuditNote
from ledger.budget import PersonalBudget
from ledger.command_record import CommandRecord
from ledger.council import Council
from ledger.erasure import PersonErasure
from ledger.invoice import Invoice
from ledger.pooled_fund import PooledFund
from ledger.provider import Provider
from projections.bulk import insert_rows
from projections.db import SqlCursor

if TYPE_CHECKING:
    from projections.runner import Item

CACHE_SIZE = 20_000  # refs kept in memory: several pages' aggregates
CHUNK = 500  # ids per IN list, well inside both dialects' limits on parameters
_key = itemgetter(0)
COLUMNS = ("aggregate_id", "kind", "council", "budget_id", "provider", "support_reason",
           "service_month")  # fmt: skip


@dataclass(frozen=True, slots=True)
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
    if not isinstance(event, Aggregate.Created):
        return None
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
    if isinstance(event, PersonErasure.Recorded):
        return Ref(agg, "erasure")
    return None


class RefsView:
    name = "refs"
    tables: tuple[str, ...] = ("v_refs",)
    # A ref is written once and never changed (every view reads it by id): no history needed.
    history_free = ("v_refs",)
    indexes: tuple[str, ...] = ()

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
        rows.sort(key=_key)  # in index order: each index page is visited once, in turn
        insert_rows(cur, "v_refs", COLUMNS, rows, "ON CONFLICT (aggregate_id) DO NOTHING")

    def use(self, cur: SqlCursor) -> None:
        self._cur = cur

    def learn(self, items: Sequence[Item]) -> None:
        """Remember the refs a page's events establish, before any view looks one up."""
        for item in items:
            ref = ref_of(item.event)
            if ref is not None:
                self._remember(ref)

    def prefetch(self, items: Sequence[Item]) -> None:
        """Read the refs of a page's aggregates missing from the cache, a chunk per query
        (after ``learn``: the page's own creations may not be stored yet)."""
        # Membership per id: ``set.difference`` with an OrderedDict walks the whole cache.
        missing = sorted({i.aggregate_id for i in items if i.aggregate_id not in self._cache})
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start : start + CHUNK]
            marks = ", ".join("?" * len(chunk))  # placeholders only: the ids are parameters
            sql = f"SELECT * FROM v_refs WHERE aggregate_id IN ({marks})"  # noqa: S608
            for row in self._cursor(chunk[0]).execute(sql, chunk).fetchall():
                self._remember(Ref(**row))

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
        sql = "SELECT * FROM v_refs WHERE aggregate_id = ?"
        row = self._cursor(key).execute(sql, (key,)).fetchone()
        if row is None:
            raise LookupError(f"no reference for {key}")
        return Ref(**row)

    def _cursor(self, key: str) -> SqlCursor:
        if self._cur is None:
            raise LookupError(f"no reference for {key}")
        return self._cur
