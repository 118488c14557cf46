"""The PostgreSQL application recorder, with one change: large saves leave pipeline mode.

psycopg 3.3's pipeline mode stalls on a single statement whose parameters are very large (seen
here: one ``save`` of ~17,000 events never returns). A batch of 10,000 invoices is ~20,000 events,
so saves above ``PIPELINE_LIMIT`` events run as a plain transaction instead: the same table lock,
NOTIFY, one INSERT … RETURNING and commit, so ordering and atomicity are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

PIPELINE_LIMIT = 5_000


class LargeSaveRecorder(PostgresApplicationRecorder):
    pipeline_limit = PIPELINE_LIMIT

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if len(stored_events) <= self.pipeline_limit or self.datastore.enable_db_functions:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
