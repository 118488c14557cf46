"""When the ledger records: one instant per command, and a clock the demo can set.

Every event's recorded time is its ``timestamp`` (the library stamps it when the event is
created). Here it comes from one clock:

* a command stamps all the events it causes with one instant (``recording_at``): they are
  saved together, so the ledger learned them together — and "what was known at T" never
  falls between two events of one command;
* the demo sets the instant itself (``recording_at(day)``) to simulate when each entry was
  recorded: a payment on its run day, an invoice days after its period.

The hash chain and the Merkle log cover the stored bytes, stamp included: nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from eventsourcing.domain import CanCreateTimestamp

_instant: ContextVar[datetime | None] = ContextVar("careledger_recorded_at", default=None)


def now() -> datetime:
    """The instant events created now are recorded at."""
    return _instant.get() or datetime.now(UTC)


@contextmanager
def recording_at(instant: datetime | None = None) -> Iterator[datetime]:
    """Stamp every event created inside with one instant: ``instant``, or the one an outer
    block set, or the clock's now."""
    outer = _instant.get()
    stamp = instant or outer or datetime.now(UTC)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    token = _instant.set(stamp)
    try:
        yield stamp
    finally:
        _instant.reset(token)


# The library's one place for an event's timestamp (every event class inherits it).
CanCreateTimestamp.create_timestamp = staticmethod(now)  # type: ignore[method-assign]
