"""The log positions a request's commands were recorded at.

The API answers every write with ``CareLedger-Position``: the log position of the last event it
recorded. A read sent with ``min_position`` at or past it is served only by a database whose views
have applied it (``projections.replicas``): a client reads its own writes on a standby.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_written: ContextVar[list[int] | None] = ContextVar("careledger_written", default=None)


@contextmanager
def noting_positions() -> Iterator[list[int]]:
    """Collect, into the list yielded, the position of every event saved inside (in this
    context and the threads it is copied into: the list itself is shared)."""
    box: list[int] = []
    token = _written.set(box)
    try:
        yield box
    finally:
        _written.reset(token)


def note_positions(positions: Iterable[int | None]) -> None:
    box = _written.get()
    if box is not None:
        box.extend(p for p in positions if p is not None)
