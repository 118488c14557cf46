"""Runs the benchmarks on fresh stores: SQLite in a temporary folder, PostgreSQL in a new schema.

Every figure sits beside its baseline from the same run; the table shows value, baseline, ratio
and the issue's target where it sets one.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from projections.service import LedgerService
from scripts.bench import bench_projections, load_synthetic, machine
from scripts.bench_commands import bench_commands
from scripts.bench_history import history_rows, history_section
from scripts.bench_http import bench_http
from scripts.bench_merkle import bench_merkle
from scripts.bench_personal import bench_personal
from scripts.bench_scale import bench_scale
from scripts.capacity import capacity


@contextmanager
def fresh_schema(postgres_url: str) -> Iterator[str]:
    """A new, empty schema for one benchmark, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    _schema(postgres_url, f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{sep}schema={schema}"
    finally:
        _schema(postgres_url, f'DROP SCHEMA "{schema}" CASCADE')


def fresh_stores(postgres_url: str | None, only: str | None = None) -> Iterator[tuple[str, str]]:
    """(store name, URL) of a fresh SQLite file, then of a fresh PostgreSQL schema if given;
    each is removed when the loop moves on. ``only``: that store alone ("sqlite", "postgres")."""
    if only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            yield "sqlite", f"sqlite:///{folder}/bench.db"
    if postgres_url and only in (None, "postgres"):
        with fresh_schema(postgres_url) as url:
            yield "postgres", url


def run_bench(
    events: int,
    postgres_url: str | None,
    output: str,
    console: Console,
    *,
    http: bool = True,
    scale_events: tuple[int, ...] = (),
    rebuild_jobs: int | None = None,
    console_events: tuple[int, ...] = (),
    console_only: bool = False,
    history_events: tuple[int, ...] = (),
    history_only: bool = False,
    console_url: str | None = None,
    history_url: str | None = None,
    replica_events: int = 0,
    replicas_only: bool = False,
    scale_only: bool = False,
    scale_store: str | None = None,
) -> dict[str, Any]:
    """Every section on every store; the JSON is written to ``output`` and its path returned.
    ``history_only``: only the history section (issue 14: snapshots, views as at past
    instants at ``history_events``); ``replicas_only``: only reads on a standby (issue 17);
    ``scale_only``: only the scale runs and their capacity model, on ``scale_store`` alone if
    named (e.g. 5,000,000 events on PostgreSQL)."""
    results: dict[str, Any] = {"machine": machine(), "target_events": events, "stores": {}}
    if replica_events:
        from scripts.bench_replicas import bench_replicas

        console.print(f"a throwaway primary and standby: reads at about {replica_events} events …")
        results["replicas"] = bench_replicas(replica_events)
    if replicas_only:
        return _written(results, output)
    _console(results, postgres_url, console_events, console, console_url)
    if console_only:
        return _written(results, output)
    if scale_only:
        _scale(results, scale_events, postgres_url, scale_store, rebuild_jobs, console)
        return _written(results, output)
    results.update(history_section(history_events, postgres_url, console, history_url))
    if history_only:
        return _written(results, output)
    for name, url in fresh_stores(postgres_url):
        results["stores"][name] = _bench_store(url, events, console)
    results["commands"] = {}
    for name, url in fresh_stores(postgres_url):
        console.print(f"{name}: commands through the application at 1 and 8 threads …")
        results["commands"][name] = _with_app(url, bench_commands)
    if postgres_url and http:
        console.print("HTTP on PostgreSQL: single posts with 8 clients, then batches …")
        with fresh_schema(postgres_url) as url:
            results["http"] = bench_http(url)
    console.print("sqlite: personal data sealed vs in the clear (commands, rebuild, reads) …")
    results["personal_data"] = bench_personal(max(20, min(1000, events // 50)))
    _scale(results, scale_events, postgres_url, scale_store, rebuild_jobs, console)
    return _written(results, output)


def _scale(
    results: dict[str, Any],
    sizes: tuple[int, ...],
    postgres_url: str | None,
    store: str | None,
    rebuild_jobs: int | None,
    console: Console,
) -> None:
    """The scale runs at each size on each store, their growth and the capacity model."""
    results["scale"] = {}
    for size in sizes:
        for name, url in fresh_stores(postgres_url, store):
            console.print(f"{name}: the demo at about {size} events, rebuild, verify, reads …")
            results["scale"].setdefault(name, []).append(bench_scale(url, size, rebuild_jobs))
    _memory_growth(results["scale"])
    results["capacity"] = {name: capacity(runs) for name, runs in results["scale"].items()}


def _console(
    results: dict[str, Any],
    postgres_url: str | None,
    sizes: tuple[int, ...],
    console: Console,
    url: str | None = None,
) -> None:
    """The console's page render times at each history length (``scripts.bench_console``), or
    on the existing store at ``url``."""
    from scripts.bench_console import bench_console, time_pages

    results["console"] = {}
    if url:
        name = "postgres" if url.startswith("postgres") else "sqlite"
        console.print(f"{name}: console pages on the store given …")
        results["console"][name] = [time_pages(url)]
    for size in sizes:
        for name, fresh in fresh_stores(postgres_url):
            console.print(f"{name}: console pages at about {size} events …")
            results["console"].setdefault(name, []).append(bench_console(fresh, size))


def _written(results: dict[str, Any], output: str) -> dict[str, Any]:
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    results["path"] = str(path)
    return results


def _bench_store(url: str, events: int, console: Console) -> dict[str, Any]:
    service = LedgerService(url, inline=False)
    try:
        console.print(f"loading about {events} events into {url.split(':', 1)[0]} …")
        started = time.perf_counter()
        loaded = load_synthetic(service.app, events, lambda _n: None)
        load_s = time.perf_counter() - started
        figures = bench_projections(service)
        figures["merkle"] = bench_merkle(service)
        figures["load_seconds"] = round(load_s, 1)
        figures["load_events_per_s"] = round(loaded / load_s, 1)
        return figures
    finally:
        service.close()


def _with_app(url: str, bench: Any) -> dict[str, Any]:
    service = LedgerService(url, inline=False)
    try:
        result: dict[str, Any] = bench(service.app)
        return result
    finally:
        service.close()


def _memory_growth(scale: dict[str, list[dict[str, Any]]]) -> None:
    """Peak RSS at the longest history over the shortest, beside the ratio of the lengths."""
    for runs in scale.values():
        if len(runs) < 2:
            continue
        small, large = min(runs, key=lambda r: r["events"]), max(runs, key=lambda r: r["events"])
        large["growth"] = {
            "events_ratio": round(large["events"] / small["events"], 2),
            "rebuild_rss_ratio": round(
                large["rebuild_peak_rss_mb"] / small["rebuild_peak_rss_mb"], 2
            ),
            "demo_rss_ratio": round(large["demo_peak_rss_mb"] / small["demo_peak_rss_mb"], 2),
        }
        if "verify_peak_rss_mb" in small and "verify_peak_rss_mb" in large:
            growth = large["verify_peak_rss_mb"] / small["verify_peak_rss_mb"]
            large["growth"]["verify_rss_ratio"] = round(growth, 2)
        reads = small.get("as_at_reads_ms", {}), large.get("as_at_reads_ms", {})
        # As-at reads flat: each read's p99 at the longest history over the shortest, beside the
        # same read as at now (its answer grows with the data as much).
        growths = {
            view: {
                "as_at": round(r["as_at_p99"] / max(reads[0][view]["as_at_p99"], 1e-3), 2),
                "now": round(r["now_p99"] / max(reads[0][view]["now_p99"], 1e-3), 2),
            }
            for view, r in reads[1].items()
            if view in reads[0]
        }
        if growths:
            large["growth"]["reads_p99"] = growths


def table(results: dict[str, Any]) -> Table:
    """The readable summary of ``run_bench``'s results."""
    t = Table("store", "figure", "value", "baseline", "ratio", "target")
    for store, r in results["stores"].items():
        t.add_row(
            store,
            "catch-up ev/s",
            str(r["catch_up_events_per_s"]),
            f"raw read {r['raw_read_events_per_s']}",
            str(r["catch_up_ratio"]),
            "≥ 0.5",
        )
        t.add_row(store, "verify ev/s", str(r["verify_events_per_s"]),
                  f"sha256 {r['sha256_events_per_s']}", str(r["verify_ratio"]), "")  # fmt: skip
        if "merkle" in r:
            _merkle_rows(t, store, r["merkle"])
    for store, c in results.get("commands", {}).items():
        for threads in (1, 8):
            f = c[f"threads_{threads}"]
            t.add_row(store, f"commands/s, {threads} thread(s)", str(f["commands_per_s"]),
                      f"raw save {f['raw_save_per_s']}", str(f["ratio"]), "")  # fmt: skip
    if "http" in results:
        h = results["http"]
        t.add_row(
            "postgres",
            "HTTP posts/s (8 clients)",
            str(h["http_posts_per_s"]),
            f"direct {h['direct_posts_per_s']}",
            str(h["post_ratio"]),
            "≥ 0.6",
        )
        t.add_row(
            "postgres",
            "HTTP batch invoices/s",
            str(h["http_batch_invoices_per_s"]),
            f"raw save {h['raw_save_invoices_per_s']}",
            str(h["batch_ratio"]),
            "≥ 10,000/s",
        )
        t.add_row("postgres", "HTTP batch invoices/s", str(h["http_batch_invoices_per_s"]),
                  f"COPY {h['copy']['invoices_per_s']}", str(h["copy_ratio"]), "")  # fmt: skip
    if "personal_data" in results:
        _personal_rows(t, results["personal_data"])
    for store, runs in results.get("scale", {}).items():
        for r in runs:
            _scale_rows(t, store, r)
    for store, model in results.get("capacity", {}).items():
        _capacity_rows(t, store, model)
    _console_rows(t, results.get("console", {}))
    for row in history_rows(results):
        t.add_row(*row)
    if "replicas" in results:
        _replica_rows(t, results["replicas"])
    return t


def _console_rows(t: Table, console: dict[str, Any]) -> None:
    for store, runs in console.items():
        for r in runs:
            for page, f in r["pages"].items():
                t.add_row(store, f"console {page} p50/p99 ms ({r['events']:,} ev)",
                          f"{f['page_ms']['p50']} / {f['page_ms']['p99']}",
                          f"API {f['api_ms']['p50']} / {f['api_ms']['p99']}",
                          str(f["ratio_p50"]), f"p99 ≤ {r['target_p99_ms']} ms")  # fmt: skip


def _replica_rows(t: Table, r: dict[str, Any]) -> None:
    """Reads with a standby beside the primary alone (``scripts.bench_replicas``)."""
    own = {mode: r[f"{mode}_own_write_ms"] for mode in ("standby", "primary")}
    t.add_row("postgres", f"reads/s via a standby ({r['events']:,} ev, {r['clients']} clients)",
              str(r["standby_reads_per_s"]), f"primary alone {r['primary_reads_per_s']}",
              str(r["ratio"]), "")  # fmt: skip
    t.add_row("postgres", "own write read back p50/p99 ms, standby",
              f"{own['standby']['p50']} / {own['standby']['p99']}",
              f"primary {own['primary']['p50']} / {own['primary']['p99']}", "", "")  # fmt: skip


def _personal_rows(t: Table, p: dict[str, Any]) -> None:
    """Sealed personal data beside the same commands in the clear (the baseline)."""
    for key, label in (
        ("commands_per_s", "commands/s, personal data sealed"),
        ("rebuild_events_per_s", "rebuild ev/s, personal data sealed"),
        ("reads_per_s", "person reads/s, opened under the key"),
    ):
        t.add_row("sqlite", label, str(p["sealed"][key]), str(p["clear"][key]),
                  str(p["ratios"][key]), "")  # fmt: skip


def _merkle_rows(t: Table, store: str, m: dict[str, Any]) -> None:
    sha = f"SHA-256 of the leaf {m['sha256_us_per_event']} µs"
    t.add_row(store, "Merkle tree µs/event", str(m["tree_us_per_event"]), sha,
              str(m["tree_ratio"]), "")  # fmt: skip
    _proof_rows(t, store, m["proofs"])


def _proof_rows(t: Table, store: str, p: dict[str, Any]) -> None:
    pk = p["primary_key_ms"]
    for key, label in (
        ("inclusion_ms", "inclusion proof"),
        ("consistency_ms", "consistency proof"),
    ):
        t.add_row(store, f"{label} p50/p99 ms ({p['tree_size']:,} leaves)",
                  f"{p[key]['p50']} / {p[key]['p99']}", f"PK {pk['p50']} / {pk['p99']}",
                  str(round(p[key]["p99"] / max(pk["p99"], 1e-3), 1)), "")  # fmt: skip


def _scale_rows(t: Table, store: str, r: dict[str, Any]) -> None:
    n, b = f"{r['events']:,} ev", r["balance_reads"]
    t.add_row(
        store,
        f"rebuild s ({n})",
        str(r["rebuild_seconds"]),
        f"raw read {r['raw_read_seconds']} s",
        str(r["rebuild_ratio"]),
        "≤ 120 s" if r["rebuild_target_seconds"] else "",
    )
    t.add_row(
        store,
        f"rebuild / demo peak RSS MB ({n})",
        f"{r['rebuild_peak_rss_mb']} / {r['demo_peak_rss_mb']}",
        "",
        "",
        "flat",
    )
    for key, label in (("now_ms", "balance now"), ("as_at_past_ms", "balance as at past")):
        t.add_row(store, f"{label} p50/p99 ms ({n})", f"{b[key]['p50']} / {b[key]['p99']}",
                  f"PK {b['primary_key_ms']['p50']} / {b['primary_key_ms']['p99']}",
                  str(round(b[key]["p99"] / max(b["primary_key_ms"]["p99"], 1e-3), 1)),
                  "p99 ≤ 20 ms")  # fmt: skip
    if "proofs" in r:
        _proof_rows(t, store, r["proofs"])
    if "verify_seconds" in r:
        t.add_row(store, f"verify s, peak RSS MB ({n})",
                  f"{r['verify_seconds']}, {r['verify_peak_rss_mb']}",
                  f"raw read {r['raw_read_seconds']} s",
                  str(round(r["raw_read_seconds"] / r["verify_seconds"], 4)), "")  # fmt: skip
    if r.get("bytes_per_event"):
        size = r["bytes_per_event"]
        sizes = f"{size['events']}, {size['live_views']}, {size['history']}"
        t.add_row(store, f"bytes/event: events, views, history ({n})", sizes, "", "", "")
    if "growth" in r:
        g = r["growth"]
        verify = f", verify {g['verify_rss_ratio']}x" if "verify_rss_ratio" in g else ""
        t.add_row(store, f"peak RSS growth for {g['events_ratio']}x events",
                  f"rebuild {g['rebuild_rss_ratio']}x, demo {g['demo_rss_ratio']}x{verify}", "",
                  "", "≈ 1x")  # fmt: skip
        for view, growth in g.get("reads_p99", {}).items():
            t.add_row(store, f"{view} as-at p99 growth for {g['events_ratio']}x events",
                      f"{growth['as_at']}x", f"as at now {growth['now']}x", "", "")  # fmt: skip


def _capacity_rows(t: Table, store: str, model: dict[str, Any]) -> None:
    """The capacity model: each figure at a national year and a decade, and its check."""
    for name, f in model.get("figures", {}).items():
        value = f"{_human(name, f['national_year'])} / {_human(name, f['decade'])}"
        check, checked, error = f.get("check"), "", ""
        if check:
            predicted, measured = _human(name, check["predicted"]), _human(name, check["measured"])
            checked, error = f"predicted {predicted}, measured {measured}", str(check["error"])
        label = f"{name} at 25M / 250M events (k={f['exponent']})"
        t.add_row(store, label, value, checked, error, "")


def _human(name: str, value: float) -> str:
    """A capacity figure in the unit a reader plans in: hours, gigabytes, megabytes."""
    if name.endswith("_seconds"):
        if value >= 3600:
            return f"{value / 3600:.2f} h"
        return f"{value / 60:.1f} min" if value >= 60 else f"{value:.1f} s"
    if name.endswith("_bytes"):
        return f"{value / 1e9:.2f} GB"
    return f"{value:.1f} MB"


def _schema(postgres_url: str, statement: str) -> None:
    import psycopg

    base = postgres_url.split("?", 1)[0]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(statement)
