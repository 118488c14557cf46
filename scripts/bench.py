"""Benchmarks, each measured beside its baseline in the same run and reported as a ratio.

Projections (issue 3): catch-up events/s against the raw rate of reading the same notifications
from the store; verify events/s against plain SHA-256 over the same canonical bytes.
"""

from __future__ import annotations

import hashlib
import itertools
import platform
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ledger.app_invoices import InvoiceDraft
from ledger.application import CareLedger
from ledger.provenance import Provenance
from ledger.values import Allocation, Deployment, FundingStream, InvoiceLine, Period, PlanLine
from projections.chain import canonical_bytes
from projections.service import LedgerService
from projections.verify import check_chain, store_notifications

COUNCIL = "E10000999"
PROVIDER = "1-BENCH0001"
START = date(2010, 4, 5)
BATCH = 1000


def load_synthetic(app: CareLedger, target_events: int, progress: Callable[[int], None]) -> int:
    """Budgets, then 4-weekly invoice batches, until the log holds about ``target_events``."""
    ids = itertools.count()

    def prov(role: str = "council", actor: str = "bench-officer") -> Provenance:
        return Provenance(actor, role, f"bench-{next(ids)}")

    app.register_council(COUNCIL, "Benchshire", START, prov("admin", "bench-admin"))
    app.register_provider(
        PROVIDER, "Bench Care Ltd", date(2009, 1, 1), prov("admin", "bench-admin")
    )
    budgets = [_budget(app, prov) for _ in range(max(1, target_events // 40))]
    progress(app.recorder.max_notification_id() or 0)
    for period_no in itertools.count():
        head = app.recorder.max_notification_id() or 0
        if head >= target_events:
            return head
        period = Period(
            START + timedelta(weeks=4 * period_no),
            START + timedelta(weeks=4 * period_no + 4, days=-1),
        )
        for chunk in range(0, len(budgets), BATCH):
            drafts = [
                InvoiceDraft(
                    f"B{period_no}-{i}",
                    b,
                    period,
                    (InvoiceLine("home-care", 4000, 12_50),),
                    period.end,
                )
                for i, b in enumerate(budgets[chunk : chunk + BATCH], start=chunk)
            ]
            app.post_invoices(PROVIDER, drafts, prov("provider", PROVIDER))
        progress((app.recorder.max_notification_id() or 0) - head)
    return 0  # pragma: no cover - the loop returns


def _budget(app: CareLedger, prov: Callable[..., Provenance]) -> str:
    budget_id: str = app.open_budget(
        COUNCIL, f"bench-person-{prov().command_id}", "physical", START, prov()
    )["budget_id"]
    app.agree_support_plan(
        budget_id, (PlanLine("home-care", 1000, 12_50, PROVIDER),), START, prov()
    )
    alloc = Allocation(
        8_000_00, 500_00, 7_500_00, (FundingStream("council-fund", 7_500_00),), 400_00
    )
    app.approve_budget(budget_id, alloc, START, prov())
    app.choose_deployment(budget_id, Deployment("council-managed"), START, prov())
    return budget_id


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def raw_read(app: CareLedger) -> tuple[int, float, list[bytes]]:
    """Baseline: read every notification from the store in pages; keep the canonical bytes."""
    started = time.perf_counter()
    blobs = [canonical_bytes(n) for n in store_notifications(app)]
    return len(blobs), time.perf_counter() - started, blobs


def bench_projections(service: LedgerService) -> dict[str, Any]:
    app, runner = service.app, service.runner
    count, read_s, blobs = raw_read(app)
    started = time.perf_counter()
    runner.rebuild([v.name for v in runner.views])
    catch_up_s = time.perf_counter() - started
    started = time.perf_counter()
    digest = b"\0" * 32
    for blob in blobs:
        digest = hashlib.sha256(digest + blob).digest()
    sha_s = time.perf_counter() - started
    started = time.perf_counter()
    chain = check_chain(app, service.db)
    verify_s = time.perf_counter() - started
    raw_rate, catch_rate = _rate(count, read_s), _rate(count, catch_up_s)
    sha_rate, verify_rate = _rate(count, sha_s), _rate(count, verify_s)
    return {
        "events": count,
        "views": [v.name for v in runner.views],
        "raw_read_events_per_s": raw_rate,
        "catch_up_events_per_s": catch_rate,
        "catch_up_ratio": round(catch_rate / raw_rate, 3) if raw_rate else None,
        "catch_up_target_ratio": 0.5,
        "sha256_events_per_s": sha_rate,
        "verify_events_per_s": verify_rate,
        "verify_ratio": round(verify_rate / sha_rate, 3) if sha_rate else None,
        "verify_chain_ok": chain.ok,
    }


def machine() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
