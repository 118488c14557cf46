"""Runs the benchmarks on fresh stores: SQLite in a temporary folder, PostgreSQL in a new schema."""

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

from projections.service import LedgerService
from scripts.bench import bench_projections, load_synthetic, machine
from scripts.bench_http import bench_http


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


def run_bench(
    events: int, postgres_url: str | None, output: str, console: Console, http: bool = True
) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "target_events": events, "stores": {}}
    with tempfile.TemporaryDirectory() as folder:
        results["stores"]["sqlite"] = _bench_store(f"sqlite:///{folder}/bench.db", events, console)
    if postgres_url:
        with fresh_schema(postgres_url) as url:
            results["stores"]["postgres"] = _bench_store(url, events, console)
        if http:
            console.print("HTTP on PostgreSQL: single posts with 8 clients, then batches …")
            with fresh_schema(postgres_url) as url:
                results["http"] = bench_http(url)
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
        figures["load_seconds"] = round(load_s, 1)
        figures["load_events_per_s"] = round(loaded / load_s, 1)
        return figures
    finally:
        service.close()


def _schema(postgres_url: str, statement: str) -> None:
    import psycopg

    base = postgres_url.split("?", 1)[0]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(statement)
