"""What a recorder may offer beyond the library's interface: reads of many aggregates at once.

The PostgreSQL adapter (``projections.stores.pg_recorder.LargeSaveRecorder``) answers each in
one query; the domain asks for the capability, never for the adapter, so it imports no driver.
A recorder without it (SQLite, in memory) is read one aggregate at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import StoredEvent


@runtime_checkable
class BatchReads(Protocol):
    def select_events_of(
        self, originator_ids: Sequence[UUID], after: Sequence[int]
    ) -> list[StoredEvent]:
        """The events of ``originator_ids[i]`` above version ``after[i]``, each in order."""

    def existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        """Which of ``originator_ids`` have any stored event."""
