"""Time travel: views as they stood at a past position or recorded instant.

*As at* asks what the ledger knew then, not what is known now about then. An instant maps to
the last position recorded at or before it (``resolve``: one index lookup); every view keeps its
own history (``projections.history``), so a read as at that position is a lookup too
(``view_db``). Replaying the log into a scratch database (``build_as_at``) is for ``verify``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from ledger.application import CareLedger
from projections.db import SqliteViewDb, ViewDb
from projections.history import AsAtDb
from projections.runner import REBUILD_PAGE_SIZE, Runner, View
from projections.views.audit import utc_stamp


class AsAtOutOfRangeError(ValueError):
    """An ``as_at`` instant outside the log's life: before its first event, or in the future."""

    def __init__(self, message: str, first_recorded: str | None) -> None:
        super().__init__(message)
        self.first_recorded = first_recorded


def resolve(db: ViewDb, instant: datetime | None, now: datetime | None = None) -> int | None:
    """The log position ``instant`` resolves to (None: now, the live views). An instant before
    the first event or after ``now`` (default: the clock) is ``AsAtOutOfRangeError``: the
    ledger knew nothing then, or cannot know yet — never an empty answer."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    if instant > (now or datetime.now(UTC)):
        raise AsAtOutOfRangeError(
            f"as_at {utc_stamp(instant)} is in the future: the ledger cannot know it yet",
            _first_recorded(db),
        )
    position = position_at(db, instant)
    if position == 0:
        first = _first_recorded(db)
        where = f"its first event was recorded at {first}" if first else "it holds no events"
        raise AsAtOutOfRangeError(
            f"as_at {utc_stamp(instant)} is before the ledger knew anything: {where}", first
        )
    return position


def _first_recorded(db: ViewDb) -> str | None:
    rows = db.query("SELECT known_by FROM v_audit ORDER BY position LIMIT 1")
    return str(rows[0]["known_by"]) if rows else None


def view_db(db: ViewDb, position: int | None, instant: datetime | None = None) -> ViewDb:
    """The views as at ``position`` (None: the live views, as now); ``instant``, the instant
    that resolved to it, bounds the refusal log (kept outside the log) to the refusals by then."""
    if position is None:
        return db
    return AsAtDb(db, position, utc_stamp(instant) if instant is not None else None)


def position_at(db: ViewDb, instant: datetime) -> int:
    """The log as it stood at ``instant``: the last position such that it and every position
    before it were recorded at or before ``instant`` (0 before the first event).

    Under concurrency a later position can carry a slightly earlier stamp; the log grows as a
    prefix, so a position counts only once everything before it had been recorded too. One
    index lookup on the audit view's ``known_by``, whatever the length of the history."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    rows = db.query(
        "SELECT position FROM v_audit WHERE known_by <= ?"
        " ORDER BY known_by DESC, position DESC LIMIT 1",
        (utc_stamp(instant),),
    )
    return int(rows[0]["position"]) if rows else 0


def build_as_at(
    app: CareLedger, views: Sequence[View], stop: int, path: str = ":memory:"
) -> SqliteViewDb:
    """A scratch database holding ``views`` as they stood at log position ``stop``.

    The caller closes it. The cost is a replay of the first ``stop`` events. ``path`` puts the
    scratch database in a file (for whole-ledger replays, so memory stays flat).
    """
    scratch = SqliteViewDb(path, scratch=True)
    fresh = [_fresh(v) for v in views]
    # Large pages, as a rebuild's, and no readers' indexes: the replay is only compared.
    try:
        runner = Runner(app, scratch, fresh, REBUILD_PAGE_SIZE, keep_history=False, indexes=False)
        runner.catch_up(stop=stop)
    except BaseException:
        scratch.close()  # a replay that failed is thrown away whole, never read
        raise
    return scratch


def _fresh(view: View) -> View:
    """A new instance of ``view`` with no state, configured like it (``PeopleView``'s
    pseudonyms)."""
    fresh = getattr(view, "fresh", None)
    return cast("View", fresh()) if callable(fresh) else type(view)()


def aggregate_at(app: CareLedger, db: ViewDb, aggregate_id: UUID, position: int) -> Any:
    """The aggregate as it stood at log position ``position`` (None if it did not exist yet):
    its version then, from the audit view's index, and the library's repository (snapshots,
    then the events after them)."""
    rows = db.query(
        "SELECT version FROM v_audit WHERE aggregate_id = ? AND position <= ?"
        " ORDER BY position DESC LIMIT 1",
        (str(aggregate_id), position),
    )
    if not rows:
        return None
    return app.get_aggregate(aggregate_id, version=int(rows[0]["version"]))
