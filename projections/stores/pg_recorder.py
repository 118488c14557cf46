"""The PostgreSQL application recorder, changed in three ways for big invoice batches.

* Large saves leave pipeline mode: psycopg 3.3's pipeline mode stalls on a single statement
  whose parameters are very large (seen here: one ``save`` of ~17,000 events never returns). A
  batch of 10,000 invoices is ~20,000 events, so saves above ``PIPELINE_LIMIT`` events run as a
  plain transaction instead.
* The INSERT sends four typed arrays in binary rather than the library's array of composites,
  which psycopg dumps in Python with a regex per field (3-4x slower for 20,000 events). Either
  way it is one ``INSERT … SELECT FROM unnest(…) RETURNING notification_id`` after the same
  ``LOCK TABLE … IN EXCLUSIVE MODE`` and ``NOTIFY``, in one transaction, so the order of
  notification ids, atomicity and the unique (originator_id, version) check are unchanged.
* ``create_table`` runs under the database's schema lock (``projections.stores.pg_schema``), so
  workers starting together on an empty store do not collide in the catalogue.
* ``select_events_of`` and ``existing`` read many aggregates in one query, so a batch touching
  thousands of budgets does not pay a round trip (and a connection check) per budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from projections.stores.pg_schema import schema_lock

PIPELINE_LIMIT = 5_000
_ID_TYPES = {"uuid": SQL("uuid"), "text": SQL("text")}


class LargeSaveRecorder(PostgresApplicationRecorder):
    pipeline_limit = PIPELINE_LIMIT

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        names = {
            "schema": Identifier(self.datastore.schema),
            "table": Identifier(self.events_table_name),
            "id_type": _ID_TYPES[self.datastore.originator_id_type],
        }
        self.insert_arrays_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(**names)
        # LATERAL: one index range scan per aggregate (a plain join may merge-scan the table).
        self.select_events_of_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state"
            " FROM unnest(%b::{id_type}[], %b::bigint[]) AS k(id, gt)"
            " CROSS JOIN LATERAL (SELECT * FROM {schema}.{table} AS t"
            " WHERE t.originator_id = k.id AND t.originator_version > k.gt"
            " ORDER BY t.originator_version) AS e"
        ).format(**names)
        self.existing_statement = SQL(
            "SELECT originator_id FROM {schema}.{table}"
            " WHERE originator_id = ANY(%b::{id_type}[]) AND originator_version = 1"
        ).format(**names)

    def create_table(self) -> None:
        """The library's tables, types and function, made by one process at a time."""
        kwargs = cast(dict[str, Any], self.datastore.pool.kwargs)  # a dict, never a callable
        params = {k: kwargs[k] for k in ("dbname", "host", "port", "user", "password") if kwargs[k]}
        with schema_lock(connect_timeout=max(2, round(self.datastore.pool.timeout)), **params):
            super().create_table()
            # The snapshot store's table too (the library makes it next, outside any lock: two
            # processes starting together collided in ``pg_type`` on its CREATE TABLE).
            if self.events_table_name.endswith("_events"):
                snapshots = self.events_table_name.removesuffix("_events") + "_snapshots"
                PostgresAggregateRecorder(
                    self.datastore, events_table_name=snapshots
                ).create_table()

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

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        """Lock, notify, insert: as the library does, with the rows as four binary arrays."""
        self._lock_table(curs)
        self._notify_channel(curs)
        columns = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        curs.execute(self.insert_arrays_statement, columns)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_of(
        self, originator_ids: Sequence[UUID], after: Sequence[int]
    ) -> list[StoredEvent]:
        """The events of many aggregates in one query: those of ``originator_ids[i]`` above
        version ``after[i]`` (0 for all), each aggregate's in version order."""
        if not originator_ids:
            return []
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(binary=True, row_factory=tuple_row) as curs,
        ):
            # The planner's cost for thousands of index probes invites JIT compilation, which
            # costs more (tens of ms) than the probes themselves.
            curs.execute("SET LOCAL jit = off")
            curs.execute(self.select_events_of_statement, (list(originator_ids), list(after)))
            return [StoredEvent(i, v, topic, bytes(state)) for i, v, topic, state in curs]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        """Which of ``originator_ids`` have any stored event, in one query."""
        if not originator_ids:
            return set()
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(binary=True, row_factory=tuple_row) as curs,
        ):
            curs.execute(self.existing_statement, (list(originator_ids),))
            return {row[0] for row in curs}
