"""Time travel: views as they stood at a past position or recorded instant.

*As at* asks what the ledger knew then, not what is known now about then: the log is replayed
up to that position into a scratch (in-memory) database and queried there, the live views
untouched. An instant maps to the last position recorded at or before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from ledger.application import CareLedger
from projections.db import SqliteViewDb, ViewDb
from projections.runner import Runner, View
from projections.views.audit import utc_stamp


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
    scratch = SqliteViewDb(path)
    Runner(app, scratch, [_fresh(v) for v in views]).catch_up(stop=stop)
    return scratch


def _fresh(view: View) -> View:
    """A new instance of ``view`` with no state, configured like it (``PeopleView``'s
    pseudonyms)."""
    fresh = getattr(view, "fresh", None)
    return cast("View", fresh()) if callable(fresh) else type(view)()
