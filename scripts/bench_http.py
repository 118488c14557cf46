"""HTTP benchmarks (issue 4), on PostgreSQL, each beside its baseline in the same run.

* single invoice posts/s over HTTP with 8 concurrent clients, against the same commands called
  directly on the application from 8 threads;
* invoices/s through ``POST /v1/invoices/batch``, against the library's raw batched ``save`` of
  the same events (Invoice.Posted + PersonalBudget.InvoiceReceived, no rules, no command record).

The server runs as its own processes (``careledger serve --workers 2``, one a core) with
projections in a worker's hands (inline off), as in production on PostgreSQL; the direct baseline
uses the same settings from 8 threads of one process.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import httpx

from api.auth import TokenStore
from ledger.app_invoices import InvoiceDraft
from ledger.application import CareLedger
from ledger.invoice import Invoice
from ledger.provenance import Provenance
from ledger.values import InvoiceLine, Period
from projections.service import LedgerService
from scripts.bench import COUNCIL, PROVIDER, _budget
from scripts.pgcluster import free_port

CLIENTS = 8
PERIOD = Period(date(2010, 4, 5), date(2010, 5, 2))
LINES = (InvoiceLine("home-care", 4000, 12_50),)
_numbers = itertools.count()


def _draft(budget_id: str, prefix: str) -> InvoiceDraft:
    return InvoiceDraft(f"{prefix}-{next(_numbers)}", budget_id, PERIOD, LINES, PERIOD.end)


def invoice_json(d: InvoiceDraft) -> dict[str, Any]:
    """An invoice draft as the body of ``POST /v1/invoices`` (and an item of a batch)."""
    return {
        "invoice_number": d.invoice_number,
        "budget_id": d.budget_id,
        "period": {"start": d.period.start.isoformat(), "end": d.period.end.isoformat()},
        "lines": [{"service": li.service, "units_hundredths": li.units_hundredths,
                   "rate_pence": li.rate_pence} for li in d.lines],
        "invoice_date": d.invoice_date.isoformat(),
    }  # fmt: skip


def _timed(count: int, work: Callable[[int], None], workers: int) -> float:
    """Run ``work(i)`` for i in range(count) on ``workers`` threads; calls per second."""
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(count)))
    return count / (time.perf_counter() - started)


def start_server(
    url: str, port: int, settings: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``careledger serve --workers 2`` on ``url`` (projections by a worker unless ``settings``,
    environment variables, say otherwise), once it answers."""
    env = {**os.environ, "CARELEDGER_DATABASE_URL": url, "CARELEDGER_INLINE_PROJECTIONS": "false",
           "CARELEDGER_LOG_JSON": "true", **(settings or {})}  # fmt: skip
    server = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "scripts.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


def bench_http(
    url: str, posts: int = 2000, batch_invoices: int = 10_000, port: int | None = None
) -> dict[str, Any]:
    service = LedgerService(url, inline=False)
    app = service.app
    ids = itertools.count()

    def prov(role: str = "council", actor: str = "bench-officer") -> Provenance:
        return Provenance(actor, role, f"http-bench-{next(ids)}")

    app.register_council(COUNCIL, "Benchshire", date(2010, 4, 1), prov("admin", "bench-admin"))
    app.register_provider(
        PROVIDER, "Bench Care Ltd", date(2009, 1, 1), prov("admin", "bench-admin")
    )
    budgets = [_budget(app, prov) for _ in range(max(posts, batch_invoices) // 8)]
    token, _ = TokenStore(service.db).create("provider", provider=PROVIDER)
    results: dict[str, Any] = {"clients": CLIENTS}
    results["direct_posts_per_s"] = round(_direct(app, budgets, posts, prov), 1)
    port = port or free_port()
    server = start_server(url, port)
    try:
        results["http_posts_per_s"] = round(_over_http(port, token, budgets, posts), 1)
        before = app.recorder.max_notification_id() or 0
        results["http_batch_invoices_per_s"] = round(
            _batch_http(port, token, budgets, batch_invoices), 1
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    results["copy"] = _copy_ceiling(app, before, batch_invoices)
    results["copy_ratio"] = round(
        results["http_batch_invoices_per_s"] / results["copy"]["invoices_per_s"], 4
    )
    results["raw_save_invoices_per_s"] = round(_raw_save(app, budgets, batch_invoices, prov), 1)
    results["post_ratio"] = round(results["http_posts_per_s"] / results["direct_posts_per_s"], 3)
    results["batch_ratio"] = round(
        results["http_batch_invoices_per_s"] / results["raw_save_invoices_per_s"], 3
    )
    results["targets"] = {"post_ratio": 0.6, "batch_ratio": 0.5, "batch_invoices_per_s": 10_000}
    service.close()
    return results


def _direct(
    app: CareLedger, budgets: list[str], posts: int, prov: Callable[..., Provenance]
) -> float:
    def work(i: int) -> None:
        app.post_invoice(
            PROVIDER, _draft(budgets[i % len(budgets)], "D"), prov("provider", PROVIDER)
        )

    return _timed(posts, work, CLIENTS)


def _over_http(port: int, token: str, budgets: list[str], posts: int) -> float:
    clients = [
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) for _ in range(CLIENTS)
    ]

    def work(i: int) -> None:
        body = invoice_json(_draft(budgets[(i + posts) % len(budgets)], "H"))
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"h-{i}-{time.time_ns()}"}
        response = clients[i % CLIENTS].post("/v1/invoices", json=body, headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")

    rate = _timed(posts, work, CLIENTS)
    for c in clients:
        c.close()
    return rate


def _batch_http(port: int, token: str, budgets: list[str], count: int) -> float:
    size = 1000
    bodies = [
        {
            "invoices": [
                invoice_json(_draft(budgets[(j + k) % len(budgets)], "B")) for k in range(size)
            ]
        }
        for j in range(0, count, size)
    ]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
        started = time.perf_counter()
        for n, body in enumerate(bodies):
            headers = {
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": f"b-{n}-{time.time_ns()}",
            }
            response = client.post("/v1/invoices/batch", json=body, headers=headers)
            if response.status_code != 200 or response.json()["refused"]:
                raise RuntimeError(f"batch refused: {response.text[:300]}")
        return count / (time.perf_counter() - started)


def _raw_save(
    app: CareLedger, budgets: list[str], count: int, prov: Callable[..., Provenance]
) -> float:
    """The physical ceiling of the write path: the same events, saved by the library in batches
    of 1,000, with none of the ledger's reads or rule checks."""
    loaded = {b: app.budget(b) for b in budgets}
    elapsed = 0.0
    for start in range(0, count, 1000):
        changed: dict[str, Any] = {}
        invoices = []
        for k in range(start, min(start + 1000, count)):
            budget = changed.setdefault(
                budgets[k % len(budgets)], loaded[budgets[k % len(budgets)]]
            )
            draft = _draft(str(budget.id), "R")
            p = prov("provider", PROVIDER)
            invoice = Invoice.post(budget.council, str(budget.id), PROVIDER, draft.invoice_number,
                                   PERIOD, LINES, (), PERIOD.end, p)  # fmt: skip
            budget.receive_invoice(str(invoice.id), PROVIDER, PERIOD, invoice.amount_pence, p)
            invoices.append(invoice)
        started = time.perf_counter()
        app.save(*invoices, *changed.values())
        elapsed += time.perf_counter() - started
    return count / elapsed


def _copy_ceiling(app: CareLedger, after: int, invoices: int) -> dict[str, Any]:
    """The physical ceiling: PostgreSQL ``COPY`` of as many rows, of the same sizes, as the batches
    stored (every event the batches wrote, command records included), into a table shaped like
    the events table (same columns, primary key and position index), in one transaction."""
    recorder: Any = app.recorder
    schema = recorder.datastore.schema
    table = f'"{schema}".{recorder.events_table_name}'
    with recorder.datastore.transaction(commit=True) as cur:
        cur.execute(
            f"SELECT topic, state FROM {table} WHERE notification_id > %s"  # noqa: S608
            " ORDER BY notification_id",
            (after,),
        )
        rows = [(r["topic"], bytes(r["state"])) for r in cur.fetchall()]
        cur.execute(f'CREATE TABLE "{schema}".bench_copy (LIKE {table} INCLUDING INDEXES)')
    started = time.perf_counter()
    with (
        recorder.datastore.transaction(commit=True) as cur,
        cur.copy(
            f'COPY "{schema}".bench_copy'
            " (originator_id, originator_version, topic, state, notification_id) FROM STDIN"
        ) as copy,
    ):
        for n, (topic, state) in enumerate(rows, start=1):
            copy.write_row((uuid.uuid4(), 1, topic, state, n))
    seconds = time.perf_counter() - started
    with recorder.datastore.transaction(commit=True) as cur:
        cur.execute(f'DROP TABLE "{schema}".bench_copy')
    return {
        "rows": len(rows),
        "rows_per_invoice": round(len(rows) / invoices, 3),
        "mean_state_bytes": round(sum(len(s) for _, s in rows) / max(1, len(rows)), 1),
        "rows_per_s": round(len(rows) / seconds, 1),
        "invoices_per_s": round(invoices / seconds, 1),
    }
