"""The log as a Merkle tree (RFC 9162 §2.1): leaf bytes, hashing, the stored tree and its proofs.

Leaves are the events in log order, numbered from 0 (the leaf index; positions may have gaps).
The leaf bytes of an event (big-endian, every variable field length-prefixed, so unambiguous)::

    0x01                                  format version
    uint64  position                      its place in the log
    uint32  n ‖ n bytes                   aggregate id (UTF-8, the UUID as text)
    uint64  version                       the aggregate's version
    uint32  n ‖ n bytes                   topic (UTF-8)
    uint32  n ‖ n bytes                   state: the exact bytes stored, never re-serialised

leaf hash = SHA-256(0x00 ‖ leaf bytes); node hash = SHA-256(0x01 ‖ left ‖ right).

The tree is stored as every node of every perfect subtree: node (level l, index k) is the hash
of leaves [k·2^l, (k+1)·2^l), written once when its last leaf arrives. A tree of any size N is
then ≤ log₂N perfect subtrees (the binary digits of N), so a root, an inclusion proof or a
consistency proof for any size is O(log N) primary-key reads; appending a page needs only the
right frontier (the perfect subtrees of the current size).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence

from eventsourcing.persistence import Notification

from projections.chain import exact_state
from projections.db import SqlCursor

LEAF_FORMAT = 1
_HEAD = struct.Struct(">BQI")  # format, position, length of the aggregate id
_MIDDLE = struct.Struct(">QI")  # version, length of the topic
_LENGTH = struct.Struct(">I")  # length of the state
EMPTY_ROOT = hashlib.sha256(b"").digest()
Key = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)


def leaf_bytes(n: Notification, aggregate_id: str | None = None) -> bytes:
    """The leaf bytes of a stored event (``aggregate_id``: its id as text, when known)."""
    agg = aggregate_id or str(n.originator_id)
    return leaf_of(n.id, agg, n.originator_version, n.topic, n.state)


def leaf_of(position: int, aggregate_id: str, version: int, topic: str, state: object) -> bytes:
    """The leaf bytes of a stored event from its values (``projections.logread``)."""
    raw = exact_state(state)
    agg = aggregate_id.encode()
    topic_bytes = topic.encode()
    return b"".join(
        (
            _HEAD.pack(LEAF_FORMAT, position, len(agg)),
            agg,
            _MIDDLE.pack(version, len(topic_bytes)),
            topic_bytes,
            _LENGTH.pack(len(raw)),
            raw,
        )
    )


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def subtrees(start: int, end: int) -> list[Key]:
    """The perfect subtrees whose hashes make MTH(D[start:end]), left to right: RFC 9162 splits
    at the largest power of two below the size, so a range the recursion produces is its size's
    binary digits, each aligned to its own size."""
    keys: list[Key] = []
    while start < end:
        width = 1 << ((end - start).bit_length() - 1)
        level = width.bit_length() - 1
        keys.append((level, start >> level))
        start += width
    return keys


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect subtrees' hashes (the right ones nest deepest)."""
    digest = hashes[-1]
    for left in reversed(hashes[:-1]):
        digest = node_hash(left, digest)
    return digest


def frontier(size: int) -> list[Key]:
    """The perfect subtrees of a tree of ``size`` leaves: all a new leaf may need."""
    return subtrees(0, size)


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (size ≥ 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose MTH form PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), in proof order."""
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    return out[::-1]


def consistency_ranges(old: int, size: int) -> list[Range]:
    """The ranges whose MTH form PROOF(old, D[0:size]) (RFC 9162 §2.1.4.1), in proof order."""
    out: list[Range] = []
    start, end, m, whole = 0, size, old, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        out.append((start, end))
    return out[::-1]


def append_nodes(
    size: int, leaves: Sequence[bytes], edge: dict[Key, bytes]
) -> list[tuple[int, int, bytes]]:
    """Every node completed by appending ``leaves`` (leaf hashes) to a tree of ``size`` leaves,
    as (level, index, hash) rows; ``edge`` holds the hashes of ``frontier(size)``."""
    end = size + len(leaves)
    rows: list[tuple[int, int, bytes]] = [(0, size + i, h) for i, h in enumerate(leaves)]
    level, first, current = 0, size, list(leaves)
    while (lo := size >> (level + 1)) < (hi := end >> (level + 1)):
        above = []
        for k in range(lo, hi):
            left = 2 * k
            left_hash = current[left - first] if left >= first else edge[(level, left)]
            above.append(node_hash(left_hash, current[left + 1 - first]))
        rows.extend((level + 1, lo + j, h) for j, h in enumerate(above))
        level, first, current = level + 1, lo, above
    return rows


class StoredTree:
    """The tree as stored in ``v_merkle_nodes`` / ``v_merkle_leaves``, read through a cursor."""

    def __init__(self, cur: SqlCursor) -> None:
        self.cur = cur

    def size(self) -> int:
        row = self.cur.execute(
            "SELECT leaf_index FROM v_merkle_leaves ORDER BY leaf_index DESC LIMIT 1"
        ).fetchone()
        return 0 if row is None else int(row["leaf_index"]) + 1

    def position(self, index: int) -> int | None:
        row = self.cur.execute(
            "SELECT position FROM v_merkle_leaves WHERE leaf_index = ?", (index,)
        ).fetchone()
        return None if row is None else int(row["position"])

    def nodes(self, keys: Iterable[Key]) -> dict[Key, bytes]:
        """The hashes of the given nodes: one primary-key lookup each, in one statement."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        where = " OR ".join(["(level = ? AND idx = ?)"] * len(wanted))
        params = [v for key in wanted for v in key]
        rows = self.cur.execute(
            f"SELECT level, idx, hash FROM v_merkle_nodes WHERE {where}",  # noqa: S608
            params,
        ).fetchall()
        found = {(int(r["level"]), int(r["idx"])): bytes(r["hash"]) for r in rows}
        missing = [k for k in wanted if k not in found]
        if missing:
            raise LookupError(f"the stored tree lacks node {missing[0]}")
        return found

    def mth(self, ranges: Sequence[Range]) -> list[bytes]:
        """MTH of each range, reading every perfect subtree they need at once."""
        parts = [subtrees(start, end) for start, end in ranges]
        found = self.nodes(k for keys in parts for k in keys)
        return [fold([found[k] for k in keys]) for keys in parts]

    def root(self, size: int) -> bytes:
        return EMPTY_ROOT if size == 0 else self.mth([(0, size)])[0]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return self.mth(inclusion_ranges(index, size))

    def consistency(self, old: int, size: int) -> list[bytes]:
        return self.mth(consistency_ranges(old, size))
