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
    agg = aggregate_id or n.originator_id
    head = f"{n.id}\x1f{agg}\x1f{n.originator_version}\x1f{n.topic}\x1f"
    state: object = n.state
    if isinstance(state, bytes | bytearray | memoryview):
        return head.encode() + bytes(state)
    # The library stores bytes; anything else was written behind its back. Hash it marked as
    # such, so it can never match the chain of the bytes it replaced.
    return head.encode() + b"\x00not-bytes\x00" + str(state).encode()


def next_hash(previous_hex: str, n: Notification) -> str:
    return next_digest(bytes.fromhex(previous_hex), n).hex()


def next_digest(previous: bytes, n: Notification, aggregate_id: str | None = None) -> bytes:
    """``next_hash`` on raw digests, for a run of events hashed one after another."""
    return hashlib.sha256(previous + canonical_bytes(n, aggregate_id)).digest()
