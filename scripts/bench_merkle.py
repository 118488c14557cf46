"""The verifiable log's costs (issue 15), each beside its baseline from the same run:

* tree maintenance per event — the Merkle view appending every event of the log in pages of
  1,000 (leaf bytes, leaf and node hashes, the frontier read, the inserts), beside SHA-256 of
  the same leaf bytes alone (one hash an event: the floor; the tree needs about two);
* proof latency — inclusion and consistency proofs as the API serves them (a read transaction,
  the tree's size, O(log n) node lookups), p50/p99 over random leaves and sizes, beside a
  primary-key lookup of one leaf row.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from typing import Any

from projections import tlog
from projections.merkle import leaf_bytes
from projections.runner import Item
from projections.service import LedgerService
from projections.verify import store_notifications
from projections.views.merkle import MerkleView

PAGE = 1000
SAMPLES = 500


def bench_merkle(service: LedgerService) -> dict[str, Any]:
    figures = tree_maintenance(service)
    figures["proofs"] = proof_reads(service)
    return figures


def tree_maintenance(service: LedgerService) -> dict[str, Any]:
    """Rebuild the tree from notifications already in memory, timing only the tree's work."""
    runner, view = service.runner, MerkleView()
    notes = list(store_notifications(service.app))
    leaves = [leaf_bytes(n) for n in notes]
    started = time.perf_counter()
    for leaf in leaves:
        hashlib.sha256(b"\x00" + leaf).digest()
    sha_s = time.perf_counter() - started
    runner.reset([view.name])
    pages = [
        [Item(n.id, n, None, str(n.originator_id)) for n in notes[at : at + PAGE]]
        for at in range(0, len(notes), PAGE)
    ]  # as the runner hands them to every view
    started = time.perf_counter()
    for items in pages:
        with service.db.transaction() as cur:
            view.project(cur, items, runner.refs)
            cur.execute(
                "UPDATE careledger_view_tracking SET position = ? WHERE view = ?",
                (items[-1].position, view.name),
            )
    tree_s = time.perf_counter() - started
    runner.finish([view])
    count = len(notes)
    return {
        "events": count,
        "tree_us_per_event": round(tree_s / count * 1e6, 2),
        "tree_events_per_s": round(count / tree_s, 1),
        "sha256_us_per_event": round(sha_s / count * 1e6, 2),
        "sha256_events_per_s": round(count / sha_s, 1),
        "tree_ratio": round(sha_s / tree_s, 4),  # the tree's rate over SHA-256's
    }


def proof_reads(service: LedgerService, samples: int = SAMPLES) -> dict[str, Any]:
    """p50/p99 ms of inclusion and consistency proofs at the current size, and of a PK lookup."""
    size = tlog.tree_size(service)
    rng = random.Random(15)  # noqa: S311 - sampling
    chosen = [rng.randrange(size) for _ in range(min(samples, size))]

    def inclusion(i: int) -> None:
        tlog.inclusion(service, i, None)

    def consistency(i: int) -> None:
        tlog.consistency(service, i + 1, None)

    def primary_key(i: int) -> None:
        service.db.query("SELECT * FROM v_merkle_leaves WHERE leaf_index = ?", (i,))

    return {
        "tree_size": size,
        "samples": len(chosen),
        "inclusion_ms": percentiles(inclusion, chosen),
        "consistency_ms": percentiles(consistency, chosen),
        "primary_key_ms": percentiles(primary_key, chosen),
    }


def percentiles(read: Callable[[int], None], keys: list[int]) -> dict[str, float]:
    timings = []
    for key in keys:
        started = time.perf_counter()
        read(key)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "p50": round(timings[len(timings) // 2], 3),
        "p99": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3),
    }
