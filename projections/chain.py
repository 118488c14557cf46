"""The audit trail's hash chain over the whole log.

``h(n) = SHA-256(h(n-1) ‖ canonical bytes of event n)``, with ``h(0)`` 32 zero bytes. The
canonical bytes are the event's position, aggregate id, version and topic, then the exact state
bytes as stored — never re-serialised — so any edit, deletion or reordering changes the chain.
"""

from __future__ import annotations

import hashlib

from eventsourcing.persistence import Notification

GENESIS = "0" * 64


def canonical_bytes(n: Notification, aggregate_id: str | None = None) -> bytes:
    """``aggregate_id``: the notification's originator id as text, when the caller has it."""
    agg = aggregate_id or str(n.originator_id)
    return canonical(n.id, agg, n.originator_version, n.topic, n.state)


def canonical(position: int, aggregate_id: str, version: int, topic: str, state: object) -> bytes:
    """The canonical bytes of a stored event from its values (``projections.logread``)."""
    return f"{position}\x1f{aggregate_id}\x1f{version}\x1f{topic}\x1f".encode() + exact_state(state)


def exact_state(state: object) -> bytes:
    """A stored state's bytes, exactly. The library stores bytes; anything else was written
    behind its back: hashed marked as such, so it can never match the bytes it replaced."""
    if type(state) is bytes:
        return state
    if isinstance(state, bytes | bytearray | memoryview):
        return bytes(state)
    return b"\x00not-bytes\x00" + str(state).encode()


def next_digest(previous: bytes, n: Notification, aggregate_id: str | None = None) -> bytes:
    """The chain's next digest after ``previous`` (raw digests, for a run of events)."""
    return hashlib.sha256(previous + canonical_bytes(n, aggregate_id)).digest()
