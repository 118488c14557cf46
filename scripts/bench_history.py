"""History at any instant (issue 14): each view read as at a past instant beside the same read
as at now; a full rebuild and a catch-up with the history-keeping views beside the same without
history; view bytes per event; a budget of 500 events loaded with and without snapshots.

The store is the demo (its entries recorded on simulated 2010-11 days) of about ``events``
events, loaded in this process. Instants are drawn from the recorded days, resolved once each.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from ledger.app_core import SNAPSHOT_INTERVAL
from ledger.application import CareLedger
from ledger.provenance import Provenance
from projections.asat import aggregate_at, resolve, view_db
from projections.db import ViewDb
from projections.runner import Runner
from projections.service import LedgerService, all_views
from projections.views.balances import get_balance
from projections.views.exceptions_query import exceptions
from projections.views.invoices import list_invoices
from projections.views.progress_measures import council_progress, national_progress
from projections.views.spend import spend_by_provider
from scripts.bench import COUNCIL, PROVIDER, START, _budget
from scripts.bench_scale import EVENTS_PER_PERSON, store_bytes
from scripts.demo import load_demo

SAMPLES = 60
ON = date(2011, 3, 31)
TRIAL = (
    "SELECT council, account, CAST(SUM(amount_pence) AS BIGINT) AS balance FROM v_postings"
    " WHERE council = ? GROUP BY council, account"
)
STATEMENT = (
    "SELECT position, amount_pence FROM v_postings WHERE budget_id = ?"
    " AND account = 'Budgets:Available' ORDER BY position, seq"
)
AUDIT = "SELECT * FROM v_audit WHERE budget_id = ? ORDER BY position LIMIT 100"
Read = Callable[[ViewDb, dict[str, Any]], object]
READS: dict[str, Read] = {
    "balance": lambda db, s: get_balance(db, s["budget"]),
    "statement": lambda db, s: db.query(STATEMENT, (s["budget"],)),
    "invoices": lambda db, s: list_invoices(db, council=s["council"], limit=100),
    "spend_by_provider": lambda db, s: spend_by_provider(db, s["council"]),
    "council_progress": lambda db, s: council_progress(db, s["council"], ON),
    "national_progress": lambda db, s: national_progress(db, ON),
    "exceptions": lambda db, s: exceptions(db, s["council"], on=ON, limit=100),
    "audit": lambda db, s: db.query(AUDIT, (s["budget"],)),
    "trial_balance": lambda db, s: db.query(TRIAL, (s["council"],)),
}


def bench_history(url: str, events: int) -> dict[str, Any]:
    """Load the demo of about ``events`` events at ``url`` (empty); measure."""
    service = LedgerService(url, inline=False)
    try:
        load_demo(service.app, 2011, people=max(1, events // EVENTS_PER_PERSON), runner=None)
    finally:
        service.close()
    return history_of(url)


def history_of(url: str) -> dict[str, Any]:
    """The figures on the demo store at ``url`` as it is (its views are rebuilt, twice each
    way, and left with history)."""
    service = LedgerService(url, inline=False)
    try:
        count = service.runner.head()
        figures: dict[str, Any] = {"events": count}
        figures["rebuild"] = _rebuilds(service)
        figures["catch_up"] = _catch_ups(service, max(1000, count // 10))
        figures["view_bytes_per_event"] = store_bytes(service, count)
        figures["as_at_reads_ms"] = _reads(service)
        return figures
    finally:
        service.close()


def reads_of(url: str) -> dict[str, Any]:
    """Only the as-at reads (beside the same reads as at now) on the demo store at ``url`` as
    it is, views untouched: to compare stores of the same people with more or less history
    (``python -m scripts.bench_history URL…`` prints them as JSON). The reads run once
    unmeasured first: a store just opened answers from cold caches (2 to 6 times slower here),
    where the bench's own reads follow its rebuilds."""
    service = LedgerService(url, inline=False)
    try:
        _reads(service)
        return {"events": service.runner.head(), "as_at_reads_ms": _reads(service)}
    finally:
        service.close()


def bench_live_clock(url: str, events: int) -> dict[str, Any]:
    """The rebuild and catch-up at ``url`` (empty) on a log recorded as a live service records
    it: every command at its own instant (the demo with its real clock), so a page holds as
    many instants as commands."""
    service = LedgerService(url, inline=False)
    try:
        people = max(1, events // EVENTS_PER_PERSON)
        load_demo(service.app, 2011, people=people, runner=None, real_clock=True)
        count = service.runner.head()
        return {
            "events": count,
            "rebuild": _rebuilds(service),
            "catch_up": _catch_ups(service, max(1000, count // 10)),
        }
    finally:
        service.close()


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _runner(service: LedgerService, history: bool) -> Runner:
    return Runner(service.app, service.db, all_views(), keep_history=history)


def _rebuilds(service: LedgerService) -> dict[str, float]:
    """A full rebuild without history (the baseline), then with; the better of two each."""
    names = [v.name for v in service.runner.views]
    plain, kept = [], []
    for _ in range(2):
        plain.append(_timed(lambda: _runner(service, False).rebuild(names)))
        kept.append(_timed(lambda: _runner(service, True).rebuild(names)))
    return _ratio(min(kept), min(plain), "seconds")


def _catch_ups(service: LedgerService, tail: int) -> dict[str, float]:
    """The last ``tail`` events caught up 100 at a time (a worker following the log)."""
    names = [v.name for v in service.runner.views]
    head = service.runner.head()
    times = {}
    for history in (False, True):
        runner = _runner(service, history)
        runner.reset(names)
        runner.catch_up(stop=head - tail, page_size=10_000)
        times[history] = _timed(lambda r=runner: r.catch_up(page_size=100))  # type: ignore[misc]
        runner.finish([runner.view(n) for n in names])
    return {**_ratio(times[True], times[False], "seconds"), "events": tail}


def _ratio(value: float, baseline: float, unit: str) -> dict[str, float]:
    return {
        f"with_history_{unit}": round(value, 3),
        f"without_history_{unit}": round(baseline, 3),
        "ratio": round(value / baseline, 2),
    }


def _reads(service: LedgerService) -> dict[str, dict[str, Any]]:
    """Each read at SAMPLES (subject, past instant) pairs: as at now, then as at the instant."""
    rng = random.Random(14)  # noqa: S311 - sampling, not secrets
    db = service.db
    budgets = [r["budget_id"] for r in db.query("SELECT budget_id FROM v_budget_balances")]
    councils = [r["code"] for r in db.query("SELECT code FROM v_councils")]
    days = [
        r["d"] for r in db.query("SELECT DISTINCT substr(recorded_at, 1, 10) AS d FROM v_audit")
    ]
    samples = []
    for _ in range(SAMPLES):
        day = datetime.fromisoformat(rng.choice(days)).replace(tzinfo=UTC) + timedelta(hours=12)
        position = resolve(db, min(day, datetime.now(UTC)))
        samples.append(
            {"budget": rng.choice(budgets), "council": rng.choice(councils), "at": position}
        )
    figures = {name: _read_pair(db, read, samples) for name, read in READS.items()}
    figures["budget_aggregate"] = _budget_reads(service.app, db, samples)
    return figures


def _read_pair(db: ViewDb, read: Read, samples: list[dict[str, Any]]) -> dict[str, Any]:
    now = [_timed(lambda s=s: read(db, s)) for s in samples]  # type: ignore[misc]
    past = [_timed(lambda s=s: read(view_db(db, s["at"]), s)) for s in samples]  # type: ignore[misc]
    return _percentiles(past, now)


def _budget_reads(app: CareLedger, db: ViewDb, samples: list[dict[str, Any]]) -> dict[str, Any]:
    now = [_timed(lambda s=s: app.budget(s["budget"])) for s in samples]  # type: ignore[misc]
    past = [
        _timed(lambda s=s: aggregate_at(app, db, UUID(s["budget"]), s["at"]))  # type: ignore[misc]
        for s in samples
    ]
    return _percentiles(past, now)


def _percentiles(past: list[float], now: list[float]) -> dict[str, Any]:
    def pick(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 3)

    figures = {
        "as_at_p50": pick(past, 0.5),
        "as_at_p99": pick(past, 0.99),
        "now_p50": pick(now, 0.5),
        "now_p99": pick(now, 0.99),
    }
    figures["ratio_p50"] = round(figures["as_at_p50"] / max(figures["now_p50"], 0.001), 2)
    figures["ratio_p99"] = round(figures["as_at_p99"] / max(figures["now_p99"], 0.001), 2)
    return figures


class _NoSnapshots(CareLedger):
    """The same application loading every budget from all its events (the baseline). It keeps
    the application's name: the library names a subclass after itself otherwise, and on
    PostgreSQL the name picks the tables (it found no budget there)."""

    name = CareLedger.name
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {}


def bench_snapshots(url: str, budget_events: int = 500, samples: int = 30) -> dict[str, Any]:
    """A budget of ``budget_events`` events at ``url`` (empty), loaded with snapshots (one every
    ``SNAPSHOT_INTERVAL`` events) and without (every event replayed)."""
    app = CareLedger(url)
    ids = itertools.count()

    def prov() -> Provenance:
        return Provenance("bench-officer", "council", f"snap-{next(ids)}")

    app.register_council(COUNCIL, "Benchshire", START, Provenance("a", "admin", "snap-c"))
    app.register_provider(PROVIDER, "Bench Care", date(2009, 1, 1), Provenance("a", "admin", "p"))
    budget_id = _budget(app, prov)
    while app.budget(budget_id).version < budget_events:
        app.receive_contribution(budget_id, 1_00, START, prov())
    plain = _NoSnapshots(url)
    try:
        with_ = [_timed(lambda: app.budget(budget_id)) for _ in range(samples)]
        without = [_timed(lambda: plain.budget(budget_id)) for _ in range(samples)]
    finally:
        plain.close()
        app.close()
    p50 = sorted(with_)[samples // 2] * 1000, sorted(without)[samples // 2] * 1000
    return {
        "budget_events": budget_events,
        "snapshot_interval": SNAPSHOT_INTERVAL,
        "with_snapshots_p50_ms": round(p50[0], 3),
        "without_snapshots_p50_ms": round(p50[1], 3),
        "ratio": round(p50[0] / p50[1], 3),
    }


def history_section(
    sizes: tuple[int, ...], postgres_url: str | None, console: Any, store: str | None = None
) -> dict[str, Any]:
    """Snapshots, then the history figures at each size, on each store (fresh ones); with
    ``store`` (a URL), only the history figures on that existing demo store (e.g. one of 1,000,000
    events loaded once)."""
    from scripts.bench_run import fresh_stores

    section: dict[str, Any] = {"snapshots": {}, "history": {}, "live_clock": {}}
    if store:
        name = "postgres" if store.startswith("postgres") else "sqlite"
        console.print(f"{name}: the history figures on the store given …")
        section["history"][name] = [history_of(store)]
        return section
    for name, url in fresh_stores(postgres_url):
        console.print(f"{name}: a budget of 500 events loaded with and without snapshots …")
        section["snapshots"][name] = bench_snapshots(url)
    if not sizes:  # `careledger bench` without --history: the snapshots only
        return section
    live = max(1000, min(sizes) // 4)
    for name, url in fresh_stores(postgres_url):
        console.print(f"{name}: about {live} events recorded in real time, rebuilt …")
        section["live_clock"][name] = bench_live_clock(url, live)
    for size in sizes:
        for name, url in fresh_stores(postgres_url):
            console.print(f"{name}: the demo at about {size} events, views as at past instants …")
            section["history"].setdefault(name, []).append(bench_history(url, size))
    return section


def history_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    """Table rows (store, figure, value, baseline, ratio, target) for the history figures."""
    rows: list[tuple[str, ...]] = []
    for store, snap in results.get("snapshots", {}).items():
        value, base = snap["with_snapshots_p50_ms"], snap["without_snapshots_p50_ms"]
        figure = "budget load, 500 events (ms p50)"
        rows.append((store, figure, str(value), f"no snapshots {base}", str(snap["ratio"]), ""))
    for store, run in results.get("live_clock", {}).items():
        rows.extend(_timing_rows(store, run, " (each command its own instant)"))
    for store, runs in results.get("history", {}).items():
        for run in runs:
            rows.extend(_run_rows(store, run))
    return rows


def _timing_rows(store: str, run: dict[str, Any], log: str = "") -> list[tuple[str, ...]]:
    n, rows = run["events"], list[tuple[str, ...]]()
    for what in ("rebuild", "catch_up"):
        r = run[what]
        value, base = r["with_history_seconds"], r["without_history_seconds"]
        figure = f"{what} with history @{n}{log} (s)"
        rows.append((store, figure, str(value), f"without {base}", str(r["ratio"]), "≤ 1.3"))
    return rows


def _run_rows(store: str, run: dict[str, Any]) -> list[tuple[str, ...]]:
    n, rows = run["events"], _timing_rows(store, run)
    for view, r in run["as_at_reads_ms"].items():
        value, base = f"{r['as_at_p50']}/{r['as_at_p99']}", f"now {r['now_p50']}/{r['now_p99']}"
        ratio = f"{r['ratio_p50']}/{r['ratio_p99']}"
        rows.append((store, f"{view} as at, ms p50/p99 @{n}", value, base, ratio, "≤ 2"))
    size = run["view_bytes_per_event"]
    if size:
        total = round(size["live_views"] + size["history"], 1)
        base = f"live {size['live_views']}"
        rows.append(
            (store, f"view bytes/event @{n}", str(total), base, str(size["history_ratio"]), "")
        )
    return rows


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps({url: reads_of(url) for url in sys.argv[1:]}, indent=1))
