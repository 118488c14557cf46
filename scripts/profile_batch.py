"""Where a batch of invoices spends its time on PostgreSQL, phase by phase (issue 6).

Run: ``python -m scripts.profile_batch postgresql://postgres@127.0.0.1:5432/test [options]``.
Each run makes a fresh schema and writes ``--budgets`` budgets straight through ``save`` (set-up,
not measured), each with ``--history`` earlier invoices (4 + history events). Then, per size in
``--sizes``, it times ``post_invoices`` with each invoice on its own budget: cold (empty budget
cache), warm (the same budgets again), with wall time per phase and time in the GC, and a raw
``save`` of the same events beside them. ``--profile`` prints cProfile's top functions for one
warm batch; ``--ab-rounds N`` alternates warm batches (and budget reads) with the library's own
``save``, its own replay, and the server's GC threshold; ``--http`` / ``--http-only`` post
through a real server.

To measure the code before a change, run this file with ``PYTHONPATH`` (and the working directory)
set to a copy of the older tree: the phases it cannot find there are left out.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import pstats
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from typing import Any

import httpx
from eventsourcing.application import Application, project_aggregate

from api.auth import TokenStore
from ledger import app_core
from ledger.app_core import LedgerCore
from ledger.app_invoices import InvoiceDraft
from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.invoice import Invoice
from ledger.provenance import Provenance
from ledger.values import Allocation, Deployment, FundingStream, InvoiceLine, Period, PlanLine
from projections.service import LedgerService
from scripts.bench_http import invoice_json, start_server
from scripts.bench_run import fresh_schema

COUNCIL = "E10000998"
PROVIDER = "1-PROF00001"
START = date(2010, 4, 5)
LINES = (InvoiceLine("home-care", 4000, 12_50),)
SETUP_CHUNK = 500
LOADS = 200  # budget reads after each A/B batch
COMMAND_IDS = itertools.count()


def period(n: int) -> Period:
    """The n-th four-weekly service period from START."""
    return Period(START + timedelta(weeks=4 * n), START + timedelta(weeks=4 * n + 4, days=-1))


class Setup:
    """Budgets written straight through ``save``: fast, and the same events the commands make."""

    def __init__(self, app: CareLedger) -> None:
        self.app = app
        self.ids = COMMAND_IDS

    def prov(self, role: str = "council", actor: str = "prof-officer") -> Provenance:
        return Provenance(actor, role, f"prof-{next(self.ids)}")

    def budgets(self, count: int, history: int) -> list[str]:
        self.app.register_council(COUNCIL, "Profshire", date(2010, 4, 1), self.prov("admin", "a"))
        self.app.register_provider(
            PROVIDER, "Prof Care Ltd", date(2009, 1, 1), self.prov("admin", "a")
        )
        ids: list[str] = []
        for start in range(0, count, SETUP_CHUNK):
            made = [self._budget() for _ in range(start, min(start + SETUP_CHUNK, count))]
            invoices = [inv for b in made for inv in self._history(b, history)]
            self.app.save(*made, *invoices)
            ids.extend(str(b.id) for b in made)
        return ids

    def _budget(self) -> PersonalBudget:
        budget = PersonalBudget.open(COUNCIL, f"p-{next(self.ids)}", "physical", START, self.prov())
        budget.agree_support_plan(
            (PlanLine("home-care", 1000, 12_50, PROVIDER),), START, self.prov()
        )
        alloc = Allocation(
            80_000_00, 500_00, 79_500_00, (FundingStream("council-fund", 79_500_00),), 400_00
        )
        budget.approve(alloc, START, self.prov())
        budget.choose_deployment(Deployment("council-managed"), START, self.prov())
        return budget

    def _history(self, budget: PersonalBudget, count: int) -> list[Invoice]:
        made = []
        for n in range(count):
            p = self.prov("provider", PROVIDER)
            number = f"H{n}-{budget.id}"
            inv = Invoice.post(COUNCIL, str(budget.id), PROVIDER, number, period(n), LINES, (),
                               period(n).end, p)  # fmt: skip
            budget.receive_invoice(str(inv.id), PROVIDER, period(n), inv.amount_pence, p)
            made.append(inv)
        return made


def drafts(budgets: list[str], size: int, tag: str, n: int) -> list[InvoiceDraft]:
    """``size`` invoices, one per budget (wrapping), in the period after the history."""
    return [
        InvoiceDraft(f"{tag}-{k}", budgets[k % len(budgets)], period(n), LINES, period(n).end)
        for k in range(size)
    ]


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def raw_save(app: CareLedger, batch: list[InvoiceDraft]) -> tuple[float, float]:
    """The library's ceiling: load the budgets one by one and make the same events (first
    figure), then one ``save`` (second figure, as scripts/bench_http.py's ``_raw_save``)."""
    p = Provenance("prof", "provider", f"raw-{time.time_ns()}")
    started = time.perf_counter()
    budgets: dict[str, PersonalBudget] = {}
    invoices = []
    for d in batch:
        budget = budgets.get(d.budget_id) or app.budget(d.budget_id)
        budgets[d.budget_id] = budget
        inv = Invoice.post(COUNCIL, d.budget_id, PROVIDER, d.invoice_number, d.period, d.lines,
                           (), d.invoice_date, p)  # fmt: skip
        budget.receive_invoice(str(inv.id), PROVIDER, d.period, inv.amount_pence, p)
        invoices.append(inv)
    built = time.perf_counter()
    app.save(*invoices, *budgets.values())
    return built - started, time.perf_counter() - built


class GcTimer:
    """Time spent in the cyclic garbage collector (it walks every live object on a full pass)."""

    def __init__(self) -> None:
        import gc

        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1

    def take(self) -> dict[str, Any]:
        out = {"seconds": round(self.seconds, 3), "by_generation": list(self.collections)}
        self.seconds, self.collections = 0.0, [0, 0, 0]
        return out


class Phases:
    """Wall time per phase of ``post_invoices``, by wrapping the methods that make each phase."""

    def __init__(self, app: CareLedger) -> None:
        self.seconds: dict[str, float] = {}
        import ledger.app_core as core

        wrap = [
            (app, "_posting", "read: provider, budgets, existing invoices"),
            (app, "_post_one", "rules + events (all items)"),
            (app, "prior_outcome", "idempotency lookup"),
            (core, "fingerprint", "command fingerprint"),
            (app.mapper, "to_stored_event", "encode events (JSON)"),
            (app.recorder, "insert_events", "insert (one statement)"),
        ]
        for owner, name, label in wrap:
            if hasattr(owner, name):  # the code before issue 6 has no _posting
                setattr(owner, name, self._timed(getattr(owner, name), label))

    def _timed(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        return run

    def report(self, total: float) -> dict[str, float]:
        out = {k: round(v, 3) for k, v in self.seconds.items()}
        out["other"] = round(total - sum(self.seconds.values()), 3)
        self.seconds.clear()
        return out


def in_process(
    app: CareLedger, budgets: list[str], sizes: list[int], profile: bool
) -> dict[str, Any]:
    """Per size: a cold batch (empty budget cache), a warm one (same budgets again), the raw
    ceiling; the phases of each batch."""
    out: dict[str, Any] = {}
    setup = Setup(app)
    phases = Phases(app)
    gc_timer = GcTimer()
    periods = itertools.count(20)

    def post(size: int, tag: str) -> float:
        batch = drafts(budgets, size, f"{tag}{size}", next(periods))
        prov = setup.prov("provider", PROVIDER)
        gc_timer.take()
        started = time.process_time()
        seconds, outcome = timed(lambda: app.post_invoices(PROVIDER, batch, prov))
        cpu = time.process_time() - started
        if outcome["refused"]:
            raise RuntimeError(f"items refused: {outcome['results'][:3]}")
        out[f"{tag}_{size}_gc"] = gc_timer.take()
        out[f"{tag}_{size}_per_s"] = round(size / seconds, 1)
        out[f"{tag}_{size}_phases_s"] = {"total": round(seconds, 3), "client_cpu": round(cpu, 3),
                                         **phases.report(seconds)}  # fmt: skip
        return seconds

    for size in sizes:
        if hasattr(app, "budget_cache"):
            app.budget_cache = type(app.budget_cache)(app.budget_cache.maxsize)
        post(size, "cold")
        post(size, "warm")
        load, save = raw_save(app, drafts(budgets, size, f"R{size}", next(periods)))
        out[f"raw_load_and_build_{size}_per_s"] = round(size / load, 1)
        out[f"raw_save_{size}_per_s"] = round(size / save, 1)
    if profile:
        batch = drafts(budgets, sizes[-1], "P", next(periods))  # warm: the budgets are cached
        prof = cProfile.Profile()
        prof.enable()
        app.post_invoices(PROVIDER, batch, setup.prov("provider", PROVIDER))
        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    return out


@contextmanager
def library_save() -> Iterator[None]:
    """The library's own ``save`` in place of the application's (which collects events without
    the runtime-Protocol ``isinstance`` checks, ledger/app_core.py): what that change is worth."""
    ours = LedgerCore.save
    LedgerCore.save = Application.save  # type: ignore[method-assign]
    try:
        yield
    finally:
        LedgerCore.save = ours  # type: ignore[method-assign]


@contextmanager
def library_replay() -> Iterator[None]:
    """The library's ``project_aggregate`` in place of the application's ``replay_events`` (the
    same fold without a runtime-Protocol ``assert`` on every event)."""
    ours = app_core.replay_events
    app_core.replay_events = project_aggregate
    try:
        yield
    finally:
        app_core.replay_events = ours


@contextmanager
def gc_threshold(first: int) -> Iterator[None]:
    """As the server sets it (api/app.py): fewer young collections, each of which may cascade
    into a full pass over every live object (the cached budgets included)."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(first, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def a_b(app: CareLedger, budgets: list[str], size: int, rounds: int) -> dict[str, Any]:
    """Warm batches of ``size``, alternating plain and each variant, ``rounds`` times each;
    the median invoices/s of each (alternating cancels most of the machine's noise; the order
    turns each round, as whichever runs first after another was seen to run ~10% slower). After
    each batch, ``LOADS`` budgets read through the repository, as a command reads its budget."""
    setup = Setup(app)
    periods = itertools.count(100)
    variants: dict[str, Callable[[], Any]] = {
        "plain": nullcontext,
        "library_save": library_save,
        "library_replay": library_replay,
        "gc_threshold_50000": lambda: gc_threshold(50_000),
    }
    rates: dict[str, list[float]] = {name: [] for name in variants}
    loads: dict[str, list[float]] = {name: [] for name in variants}
    app.post_invoices(
        PROVIDER, drafts(budgets, size, "ab-warmup", 99), setup.prov("provider", PROVIDER)
    )
    names = list(variants)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # each goes first in turn
            variant = variants[name]
            batch = drafts(budgets, size, f"ab-{name}-{r}", next(periods))
            prov = setup.prov("provider", PROVIDER)
            with variant():
                started = time.perf_counter()
                app.post_invoices(PROVIDER, batch, prov)
                rates[name].append(size / (time.perf_counter() - started))
                started = time.perf_counter()
                for budget_id in budgets[:LOADS]:
                    app.budget(budget_id)
                loads[name].append(LOADS / (time.perf_counter() - started))
    medians = {f"ab_{size}_{name}_per_s": statistics.median(v) for name, v in rates.items()}
    medians |= {f"ab_loads_{name}_per_s": statistics.median(v) for name, v in loads.items()}
    return {key: round(value, 1) for key, value in medians.items()}


def over_http(url: str, service: LedgerService, budgets: list[str]) -> dict[str, Any]:
    """Through a real server (2 workers, as bench_http): ten batches of 1,000 on ten different
    sets of budgets (each budget's first touch: cold), the same again (warm), one of 10,000
    (warm); then a restarted server and one of 10,000 again (cold)."""
    token, _ = TokenStore(service.db).create("provider", provider=PROVIDER)
    out: dict[str, Any] = {}
    periods = itertools.count(80)
    server = start_server(url, 8777)
    try:
        with httpx.Client(base_url="http://127.0.0.1:8777", timeout=600) as client:
            for tag in ("cold", "warm"):
                n = next(periods)
                batches = [[budgets[(j + k) % len(budgets)] for k in range(1000)]
                           for j in range(0, 10_000, 1000)]  # fmt: skip
                seconds = sum(
                    _post(client, token, b, f"{tag}{j}", n) for j, b in enumerate(batches)
                )
                out[f"http_1000x10_{tag}_per_s"] = round(10_000 / seconds, 1)
            out["http_10000_warm_per_s"] = round(
                10_000 / _post(client, token, budgets[:10_000], "warm10k", next(periods)), 1
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    server = start_server(url, 8777)
    try:
        with httpx.Client(base_url="http://127.0.0.1:8777", timeout=600) as client:
            out["http_10000_cold_per_s"] = round(
                10_000 / _post(client, token, budgets[:10_000], "cold10k", next(periods)), 1
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def _post(client: httpx.Client, token: str, budget_ids: list[str], tag: str, n: int) -> float:
    """Post one batch (one invoice per budget, period ``n``); the seconds it took."""
    body = {"invoices": [invoice_json(d) for d in drafts(budget_ids, len(budget_ids), tag, n)]}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"h-{tag}-{n}"}
    seconds, response = timed(lambda: client.post("/v1/invoices/batch", json=body, headers=headers))
    if response.status_code != 200 or response.json()["refused"]:
        raise RuntimeError(f"batch refused: {response.text[:300]}")
    return float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("postgres_url")
    parser.add_argument("--budgets", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=10)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--http", action="store_true", help="also post through a real server")
    parser.add_argument("--http-only", action="store_true", help="skip the in-process figures")
    parser.add_argument("--ab-rounds", type=int, default=0, help="A/B the variants, warm")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with fresh_schema(args.postgres_url) as url:
        service = LedgerService(url, inline=False)
        seconds, budgets = timed(lambda: Setup(service.app).budgets(args.budgets, args.history))
        results: dict[str, Any] = {"budgets": len(budgets), "history": args.history,
                                   "setup_s": round(seconds, 1)}  # fmt: skip
        if not args.http_only:
            results.update(in_process(service.app, budgets, sizes, args.profile))
        if args.ab_rounds:
            results.update(a_b(service.app, budgets, sizes[-1], args.ab_rounds))
        if args.http or args.http_only:
            results.update(over_http(url, service, budgets))
        service.close()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
