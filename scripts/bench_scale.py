"""Scale: the national demo at two history lengths — rebuild time, memory, balance reads.

For each length the demo loads into a fresh store in its own process, then ``careledger
rebuild`` rebuilds every view in another; each reports its own peak RSS (``scripts.peak_rss``).
The demo has a floor of about 20,000 events (every council has its pool, providers and people),
so lengths below that all load the same store. Beside them, in the same run:

* the raw read of the same events (``select_notifications`` in pages, nothing decoded) — the
  baseline for the rebuild;
* inclusion and consistency proofs as the API serves them, p50/p99, beside a primary-key lookup
  of a leaf row (``scripts.bench_merkle``);
* balance reads as the API does them (``GET /v1/budgets/{id}/balance``: a replay of the budget's
  stored events), as at now and as at a past instant, p50/p99 over random budgets, beside a
  primary-key lookup of the same budget's row in the balances view;
* ``careledger verify`` in its own process (the chain, the Merkle tree, the trial balance and
  every view against a replay of the log): seconds and peak RSS;
* every view read as at past instants beside the same read as at now
  (``scripts.bench_history.reads_of``);
* bytes on disk per event: the event store (events, snapshots, their indexes), the live views
  and the views' history.

``scripts.capacity`` turns the sizes measured into a capacity model (issue 17).

Memory must stay flat as history grows: the report gives the ratio of peak RSS at the longer
history to the shorter (≈ 1 means flat; the ratio of the lengths means linear).
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

from projections.asat import position_at
from projections.balance import balance_of
from projections.service import LedgerService
from scripts.bench_merkle import proof_reads
from scripts.peak_rss import PEAK_FILE

EVENTS_PER_PERSON = 55  # events the demo writes a budget holder (960,030 for 17,241)
SAMPLES = 500
ROOT = Path(__file__).resolve().parents[1]


def bench_scale(url: str, events: int, rebuild_jobs: int | None = None) -> dict[str, Any]:
    """Load the demo of about ``events`` events into the empty store at ``url``; measure."""
    people = max(1, events // EVENTS_PER_PERSON)
    demo = run_measured(["demo", "--people", str(people), "--json"], url)
    jobs = ["--jobs", str(rebuild_jobs)] if rebuild_jobs else []
    rebuild = run_measured(["rebuild", *jobs], url)
    service = LedgerService(url, inline=False)
    try:
        count, read_s = raw_read_rate(service)
        figures: dict[str, Any] = {
            "events": count,
            "people": people,
            "demo_seconds": demo["seconds"],
            "demo_peak_rss_mb": demo["peak_rss_mb"],
            "rebuild_seconds": rebuild["seconds"],
            "rebuild_peak_rss_mb": rebuild["peak_rss_mb"],
            "rebuild_events_per_s": round(count / rebuild["seconds"], 1),
            "raw_read_seconds": round(read_s, 2),
            "raw_read_events_per_s": round(count / read_s, 1),
            "rebuild_ratio": round(read_s / rebuild["seconds"], 4),
            "rebuild_target_seconds": 120 if count >= 1_000_000 else None,
        }
        figures["balance_reads"] = balance_reads(service)
        figures["proofs"] = proof_reads(service)
        figures["bytes_per_event"] = store_bytes(service, count)
    finally:
        service.close()
    verify = run_measured(["verify"], url)  # exits non-zero, and so raises, on any failure
    figures["verify_seconds"] = verify["seconds"]
    figures["verify_peak_rss_mb"] = verify["peak_rss_mb"]
    figures["verify_events_per_s"] = round(count / verify["seconds"], 1)
    from scripts.bench_history import reads_of  # it reads this module's EVENTS_PER_PERSON

    figures["as_at_reads_ms"] = reads_of(url)["as_at_reads_ms"]
    return figures


def store_bytes(service: LedgerService, count: int) -> dict[str, float]:
    """Bytes on disk per event, each table with its indexes: the event store (events and
    snapshots), the live views (``v_*``) and their history (``v_*__h``). PostgreSQL: the tables
    of the store's schema; SQLite: ``dbstat`` (an empty answer where SQLite lacks it)."""
    sizes = _table_sizes(service)
    if not sizes or count == 0:
        return {}
    recorder = service.app.recorder
    store = {getattr(recorder, "events_table_name", "stored_events"), "stored_snapshots"}
    store |= {n for n in sizes if n.endswith(("_events", "_snapshots"))}
    events = sum(size for name, size in sizes.items() if name in store)
    past = sum(size for name, size in sizes.items() if name.startswith("v_") and "__h" in name)
    live = sum(size for name, size in sizes.items() if name.startswith("v_")) - past
    return {
        "events": round(events / count, 1),
        "live_views": round(live / count, 1),
        "history": round(past / count, 1),
        "history_ratio": round((live + past) / live, 2) if live else 0.0,
    }


def _table_sizes(service: LedgerService) -> dict[str, int]:
    """Each table's bytes with its indexes (an index is counted with its table)."""
    db = service.db
    if db.dialect == "postgres":
        rows = db.query(
            "SELECT c.relname AS name, pg_total_relation_size(c.oid) AS size FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        )
        return {r["name"]: int(r["size"]) for r in rows}
    path = getattr(db, "path", None)
    if path is None or path == ":memory:":
        return {}
    with closing(sqlite3.connect(path)) as conn:
        try:
            rows = conn.execute(
                "SELECT coalesce(i.tbl_name, d.name), SUM(d.pgsize) FROM dbstat d"
                " LEFT JOIN sqlite_master i ON i.name = d.name GROUP BY 1"
            ).fetchall()
        except sqlite3.OperationalError:  # built without dbstat
            return {}
    return {str(name): int(size) for name, size in rows}


def run_measured(args: list[str], url: str) -> dict[str, Any]:
    """``careledger <args>`` in its own process: wall seconds and that process's peak RSS."""
    with tempfile.TemporaryDirectory() as folder:
        peak = Path(folder) / "peak_kb"
        env = {**os.environ, "CARELEDGER_DATABASE_URL": url, PEAK_FILE: str(peak)}
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our own command line
            [sys.executable, "-m", "scripts.peak_rss", *args],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"careledger {' '.join(args)} failed: {done.stderr.decode()[-500:]}")
        peak_kb = int(peak.read_text())
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak_kb / 1024, 1)}


def raw_read_rate(service: LedgerService, page: int = 1000) -> tuple[int, float]:
    """Every stored event read in pages, nothing kept: (count, seconds)."""
    recorder = service.app.recorder
    count, start = 0, 1
    started = time.perf_counter()
    while True:
        notes = recorder.select_notifications(start, page)
        count += len(notes)
        if len(notes) < page:
            return count, time.perf_counter() - started
        start = notes[-1].id + 1


def balance_reads(service: LedgerService, samples: int = SAMPLES) -> dict[str, Any]:
    """p50/p99 milliseconds of balance reads (now, past instant) and of a primary-key lookup."""
    db, app = service.db, service.app
    middle = db.query("SELECT MAX(position) AS p FROM v_audit")[0]["p"] // 2
    past = datetime.fromisoformat(
        str(db.query("SELECT recorded_at FROM v_audit WHERE position <= ? ORDER BY position DESC"
                     " LIMIT 1", (middle,))[0]["recorded_at"])
    )  # fmt: skip
    # Budgets the log already held at that instant, so both reads find them.
    ids = [r["aggregate_id"] for r in db.query(
        "SELECT aggregate_id FROM v_audit WHERE version = 1 AND aggregate_kind = 'budget'"
        " AND position <= ?", (position_at(db, past),))]  # fmt: skip
    chosen = random.Random(2011).sample(ids, min(samples, len(ids)))  # noqa: S311 - sampling

    def now(budget_id: str) -> None:
        balance_of(app, budget_id, db=db)

    def as_at(budget_id: str) -> None:
        balance_of(app, budget_id, stop_position=position_at(db, past), db=db)

    def primary_key(budget_id: str) -> None:
        db.query("SELECT * FROM v_budget_balances WHERE budget_id = ?", (budget_id,))

    return {
        "samples": len(chosen),
        "now_ms": _percentiles(now, chosen),
        "as_at_past_ms": _percentiles(as_at, chosen),
        "primary_key_ms": _percentiles(primary_key, chosen),
        "target_p99_ms": 20,
    }


def _percentiles(read: Callable[[str], None], ids: list[str]) -> dict[str, float]:
    timings = []
    for budget_id in ids:
        started = time.perf_counter()
        read(budget_id)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "p50": round(timings[len(timings) // 2], 3),
        "p99": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3),
    }
