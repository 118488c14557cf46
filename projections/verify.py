"""Whole-ledger checks an auditor or regulator can run at any time (``careledger verify``).

* the hash chain, recomputed from the event store, against the audit view, position by position;
* the Merkle tree: every leaf recomputed from the exact stored bytes against the stored leaf and
  its position, and the root recomputed (only the right frontier in memory) against the stored one;
* the trial balance, in total and per council, is zero;
* every view equals a fresh replay of the log into a scratch database.

Each check names the first position (or row) that does not match. A checkpoint (log size and
head hash) handed to a regulator can later be confirmed as a prefix of the current log.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Notification

from ledger.application import CareLedger
from projections.asat import build_as_at
from projections.chain import GENESIS, canonical
from projections.db import ViewDb
from projections.logread import stored_events, stored_pages
from projections.merkle import EMPTY_ROOT, StoredTree, fold, leaf_hash, leaf_of, node_hash
from projections.runner import Runner, View

PAGE = 1000


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    first_bad_position: int | None = None


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [vars(c) for c in self.checks]}


@dataclass(frozen=True)
class Checkpoint:
    """What a regulator keeps: the log's size and head hash at a moment."""

    size: int
    head_hash: str
    taken_at: str


def store_notifications(app: CareLedger, stop: int | None = None) -> Iterator[Notification]:
    start = 1
    while True:
        page = app.recorder.select_notifications(start, PAGE, stop=stop)
        yield from page
        if len(page) < PAGE:
            return
        start = page[-1].id + 1


def store_chain(app: CareLedger, stop: int | None = None) -> Iterator[tuple[int, str]]:
    """(position, hash) for every stored event, recomputed from the exact stored bytes."""
    for positions, digests in _chained(app, stop):
        for position, digest in zip(positions, digests, strict=True):
            yield position, digest.hex()


def _chained(app: CareLedger, stop: int | None) -> Iterator[tuple[list[int], list[bytes]]]:
    """Pages of (positions, digests) for every stored event up to ``stop``: the chain
    recomputed from the exact stored bytes (``projections.logread``)."""
    digest, sha = bytes.fromhex(GENESIS), hashlib.sha256
    for page in stored_pages(app.recorder, stop):
        positions, digests = [], []
        for position, aggregate_id, version, topic, state in page:
            digest = sha(digest + canonical(position, aggregate_id, version, topic, state)).digest()
            positions.append(position)
            digests.append(digest)
        yield positions, digests


# The audit view's positions and hashes in (after, upto], each joined with commas, in order.
AUDIT_PAGE = {
    "sqlite": "SELECT COALESCE(group_concat(position), '') AS positions,"
    " COALESCE(group_concat(hash), '') AS hashes"
    " FROM (SELECT position, hash FROM v_audit WHERE position > ? AND position <= ?"
    " ORDER BY position)",
    "postgres": "SELECT COALESCE(string_agg(CAST(position AS TEXT), ',' ORDER BY position), '')"
    " AS positions, COALESCE(string_agg(hash, ',' ORDER BY position), '') AS hashes"
    " FROM v_audit WHERE position > ? AND position <= ?",
}


def check_chain(
    app: CareLedger, db: ViewDb, on_events: Callable[[int], None] | None = None
) -> Check:
    """Every stored event, in order, hashes to what the audit view recorded for its position,
    and every audited position is still in the store.

    Positions need not be contiguous: PostgreSQL's sequence skips the numbers of rolled-back
    inserts. A deletion is caught because the audit view (or a checkpoint) remembers the event.
    A page of the store is compared with the audit view's rows for the same range at once: their
    positions and their hashes, each list joined with commas by the database (no hash or position
    holds one, so equal text is equal rows); only a page that differs is read row by row and
    walked, to name the first bad position.
    """
    audited = db.query("SELECT position FROM careledger_view_tracking WHERE view = 'audit'")
    upto = int(audited[0]["position"]) if audited else 0
    after, count = 0, 0
    summary = AUDIT_PAGE[db.dialect]
    for positions, digests in _chained(app, upto):
        if on_events is not None:
            on_events(len(positions))
        last = positions[-1]
        [row] = db.query(summary, (after, last))
        ours = (",".join(map(str, positions)), ",".join(d.hex() for d in digests))
        if (row["positions"], row["hashes"]) != ours:
            broken = _first_break(positions, digests, _audit_rows(db, after, last))
            if broken is not None:
                return broken
        after, count = last, count + len(positions)
    left = _audit_rows(db, after, upto, limit=1)
    if left:
        want = left[0][0]
        return Check("hash-chain", False, f"event {want} is missing from the store", want)
    return Check("hash-chain", True, f"{count} events chain to the audit view")


def _audit_rows(db: ViewDb, after: int, upto: int, limit: int | None = None) -> list[Any]:
    """The audit view's (position, hash) with ``after`` < position ≤ ``upto``, in order."""
    sql = "SELECT position, hash FROM v_audit WHERE position > ? AND position <= ?"
    sql += " ORDER BY position"
    params: tuple[int, ...] = (after, upto)
    if limit is not None:
        sql, params = f"{sql} LIMIT ?", (after, upto, limit)
    return [(r["position"], r["hash"]) for r in db.query(sql, params)]


def _first_break(positions: list[int], digests: list[bytes], rows: list[Any]) -> Check | None:
    """The first of ``positions`` (their digests recomputed) that the audit view's ``rows`` for
    the same range do not match; None if every one matches."""
    expected = iter(rows)
    for position, digest in zip(positions, digests, strict=True):
        want = next(expected, None)
        if want is not None and want[0] < position:
            return Check("hash-chain", False, f"event {want[0]} is missing from the store", want[0])
        if want is None or want[0] != position or want[1] != digest.hex():
            why = "not in the audit view" if want is None or want[0] != position else "hash differs"
            return Check("hash-chain", False, f"position {position}: {why}", position)
    left = next(expected, None)  # every event matched: a row the store lacks may be left
    if left is not None:
        return Check("hash-chain", False, f"event {left[0]} is missing from the store", left[0])
    return None


def check_merkle(app: CareLedger, db: ViewDb) -> Check:
    tracked = db.query("SELECT position FROM careledger_view_tracking WHERE view = 'merkle'")
    upto = int(tracked[0]["position"]) if tracked else 0
    stored = db.stream(
        "SELECT l.leaf_index, l.position, n.hash FROM v_merkle_leaves l JOIN v_merkle_nodes n"
        " ON n.level = 0 AND n.idx = l.leaf_index ORDER BY l.leaf_index"
    )
    edge: list[tuple[int, bytes]] = []  # (width, hash) of the perfect subtrees so far
    size = 0
    for event in stored_events(app.recorder, stop=upto):
        at, row = event[0], next(stored, None)
        digest = leaf_hash(leaf_of(*event))
        if row is None or int(row["position"]) != at or bytes(row["hash"]) != digest:
            why = "not in the tree" if row is None or int(row["position"]) != at else "differs"
            return Check("merkle-tree", False, f"position {at} (leaf {size}): {why}", at)
        edge.append((1, digest))
        while len(edge) > 1 and edge[-1][0] == edge[-2][0]:
            (width, right), (_, left) = edge.pop(), edge.pop()
            edge.append((2 * width, node_hash(left, right)))
        size += 1
    left_over = next(stored, None)
    if left_over is not None:
        position = int(left_over["position"])
        return Check(
            "merkle-tree", False, f"leaf at position {position} is not in the store", position
        )
    return _compare_root(db, size, edge)


def _compare_root(db: ViewDb, size: int, edge: list[tuple[int, bytes]]) -> Check:
    root = fold([digest for _, digest in edge]) if edge else EMPTY_ROOT
    with db.transaction(write=False) as cur:
        tree = StoredTree(cur)
        ok = tree.size() == size and tree.root(size) == root
    if not ok:
        return Check("merkle-tree", False, f"the stored root of {size} leaves differs", None)
    return Check("merkle-tree", True, f"{size} leaves and the root match the store")


def check_trial_balance(db: ViewDb) -> Check:
    rows = db.query(
        "SELECT council, CAST(SUM(amount_pence) AS BIGINT) AS total"
        " FROM v_postings GROUP BY council"
    )
    off = {r["council"]: int(r["total"]) for r in rows if int(r["total"]) != 0}
    if off:
        return Check("trial-balance", False, f"councils out of balance: {off}")
    return Check("trial-balance", True, f"{len(rows)} councils balance to zero")


def table_rows(db: ViewDb, table: str) -> list[tuple[str, ...]]:
    """Every row of a table, normalised to text and sorted, for comparison across dialects."""
    rows = db.query(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
    return sorted(tuple("" if v is None else str(v) for v in r.values()) for r in rows)


def table_digest(db: ViewDb, table: str) -> tuple[int, int]:
    """(rows, an order-free digest of them): the sum of each normalised row's SHA-256, streamed,
    so whole tables are compared in constant memory and regardless of the dialect's order."""
    count, total = 0, 0
    for row in db.stream_values(f"SELECT * FROM {table}"):  # noqa: S608 - our own table names
        text = "\x1f".join(["" if v is None else str(v) for v in row])
        total = (total + int.from_bytes(hashlib.sha256(text.encode()).digest())) % (1 << 256)
        count += 1
    return count, total


def check_views(app: CareLedger, db: ViewDb, views: Sequence[View], stop: int) -> list[Check]:
    """Rebuild every view from the log into a scratch database (a temporary file) and compare
    each table with the live one; only a mismatch loads rows, to name the first difference."""
    folder = tempfile.mkdtemp(prefix="careledger-verify-")
    try:
        try:
            scratch = build_as_at(app, views, stop, path=str(Path(folder) / "replay.db"))
        except Exception as error:  # a corrupted event cannot even be read back
            return [Check("views", False, f"the log cannot be replayed: {type(error).__name__}")]
        try:
            return [_compare(db, scratch, t) for view in views for t in view.tables]
        finally:
            scratch.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _compare(db: ViewDb, scratch: ViewDb, table: str) -> Check:
    live, fresh = table_digest(db, table), table_digest(scratch, table)
    if live == fresh:
        return Check(f"view:{table}", True, f"{live[0]} rows match a replay")
    detail = _first_difference(table_rows(db, table), table_rows(scratch, table))
    return Check(f"view:{table}", False, detail)


def _first_difference(live: list[tuple[str, ...]], fresh: list[tuple[str, ...]]) -> str:
    for a, b in zip(live, fresh, strict=False):
        if a != b:
            return f"row {a[:3]} differs from the replay's {b[:3]}"
    return f"{len(live)} rows live, {len(fresh)} in the replay"


def verify(
    app: CareLedger, runner: Runner, on_events: Callable[[int], None] | None = None
) -> Report:
    """Every check; ``on_events`` is told how many events the chain has checked, a page at a
    time (a progress bar)."""
    report = Report()
    report.checks.append(check_chain(app, runner.db, on_events))
    report.checks.append(check_merkle(app, runner.db))
    report.checks.append(check_trial_balance(runner.db))
    positions = runner.positions()
    views = [v for v in runner.views if v.name != "refs"]
    # Each view is compared with a replay up to its own position (views may lag a worker).
    for position in sorted({positions.get(v.name, 0) for v in views}):
        group = [v for v in views if positions.get(v.name, 0) == position]
        report.checks.extend(check_views(app, runner.db, group, position))
    return report


def take_checkpoint(app: CareLedger) -> Checkpoint:
    """The log's size and head hash, recomputed from the store itself."""
    size, digest = _chain_head(app, None)
    return Checkpoint(size, digest, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _chain_head(app: CareLedger, stop: int | None) -> tuple[int, str]:
    """The last position up to ``stop`` and the chain's hash there (0 and GENESIS: none)."""
    last, digest = 0, bytes.fromhex(GENESIS)
    for positions, digests in _chained(app, stop):
        last, digest = positions[-1], digests[-1]
    return last, digest.hex()


def check_extends(app: CareLedger, checkpoint: Checkpoint) -> Check:
    """The current log still begins with exactly the log the checkpoint saw."""
    last, digest = _chain_head(app, checkpoint.size)
    head = app.recorder.max_notification_id() or 0
    if last != checkpoint.size or digest != checkpoint.head_hash:
        return Check(
            "checkpoint",
            False,
            f"the log no longer extends the checkpoint of {checkpoint.size} events",
            checkpoint.size,
        )
    return Check("checkpoint", True, f"the log ({head} events) extends the checkpoint")
