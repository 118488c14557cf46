"""Time travel: views as they stood at a past position or recorded instant.

*As at* asks what the ledger knew then, not what is known now about then: the log is replayed
up to that position into a scratch (in-memory) database and queried there, the live views
untouched. An instant maps to the last position recorded at or before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from ledger.application import CareLedger
from projections.db import SqliteViewDb, ViewDb
from projections.runner import Runner, View
from projections.views.audit import utc_stamp


def position_at(db: ViewDb, instant: datetime) -> int:
    """The last log position recorded at or before ``instant`` (0 before the first event)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    stamp = utc_stamp(instant)
    rows = db.query("SELECT MAX(position) AS p FROM v_audit WHERE recorded_at <= ?", (stamp,))
    value = rows[0]["p"] if rows else None
    return int(value) if value is not None else 0


def build_as_at(
    app: CareLedger, views: Sequence[View], stop: int, path: str = ":memory:"
) -> SqliteViewDb:
    """A scratch database holding ``views`` as they stood at log position ``stop``.

    The caller closes it. The cost is a replay of the first ``stop`` events. ``path`` puts the
    scratch database in a file (for whole-ledger replays, so memory stays flat).
    """
    scratch = SqliteViewDb(path)
    Runner(app, scratch, [type(v)() for v in views]).catch_up(stop=stop)
    return scratch
