"""What a recorder may offer beyond the library's interface: reads of many aggregates at once.

The PostgreSQL adapter (``projections.stores.pg_recorder.LargeSaveRecorder``) answers each in
one query; the domain asks for the capability, never for the adapter, so it imports no driver.
A recorder without it (SQLite, in memory) is read one aggregate at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, cast, runtime_checkable
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateProtocol
from eventsourcing.persistence import ApplicationRecorder, Mapper, StoredEvent


@runtime_checkable
class BatchReads(Protocol):
    def select_events_of(
        self, originator_ids: Sequence[UUID], after: Sequence[int]
    ) -> list[StoredEvent]:
        """The events of ``originator_ids[i]`` above version ``after[i]``, each in order."""

    def existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        """Which of ``originator_ids`` have any stored event."""


def load_aggregates(
    recorder: ApplicationRecorder,
    mapper: Mapper[UUID],
    aggregate_ids: Sequence[UUID],
    known: dict[UUID, Aggregate] | None = None,
) -> dict[UUID, Aggregate]:
    """The aggregates among ``aggregate_ids`` that exist, up to date with the store: those in
    ``known`` advanced by their newer events, the rest rebuilt from all their events, exactly as
    ``repository.get`` rebuilds them (this application takes no snapshots), but read in one
    query on PostgreSQL rather than one per aggregate. Each event checks it follows the last."""
    aggregates = dict(known or {})
    after = [aggregates[i].version if i in aggregates else 0 for i in aggregate_ids]
    stored: Sequence[StoredEvent]
    if isinstance(recorder, BatchReads):
        stored = recorder.select_events_of(aggregate_ids, after)
    else:
        pairs = zip(aggregate_ids, after, strict=True)
        stored = [e for i, gt in pairs for e in recorder.select_events(i, gt=gt)]
    for record in stored:
        uid = cast("UUID", record.originator_id)
        event = cast("CanMutateProtocol[Aggregate]", mapper.to_domain_event(record))
        mutated = event.mutate(aggregates.pop(uid, None))
        if mutated is not None:
            aggregates[uid] = mutated
    return aggregates
