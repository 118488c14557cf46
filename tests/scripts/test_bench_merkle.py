"""The verifiable log's benchmark does the work it reports: it rebuilds the whole tree (to the
same root, leaving the view caught up) and times proofs of real leaves."""

from __future__ import annotations

from pathlib import Path

from projections import tlog
from projections.service import LedgerService
from projections.verify import verify
from scripts.bench_merkle import bench_merkle
from tests.integration.test_backends import run_scenario
from tests.support import World


def test_the_merkle_bench_rebuilds_the_tree_it_times_and_proves_real_leaves(
    tmp_path: Path,
) -> None:
    service = LedgerService(f"sqlite:///{tmp_path / 'bench.db'}")
    try:
        run_scenario(World(service.app).setup(pool_pence=50_000_00))
        before = tlog.signed_checkpoint(service)
        figures = bench_merkle(service)
        after = tlog.signed_checkpoint(service)
        report = verify(service.app, service.runner)
    finally:
        service.close()

    assert figures["events"] == before["tree_size"] == figures["proofs"]["tree_size"]
    assert after["root_hash"] == before["root_hash"]
    assert report.ok, [c for c in report.checks if not c.ok]
    assert figures["tree_us_per_event"] > 0 and figures["sha256_us_per_event"] > 0
    assert figures["proofs"]["samples"] == before["tree_size"]
    assert figures["proofs"]["inclusion_ms"]["p99"] >= figures["proofs"]["inclusion_ms"]["p50"]
