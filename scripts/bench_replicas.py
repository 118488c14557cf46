"""Reads on a PostgreSQL streaming replica (issue 17): read throughput with one standby against
the primary alone, and how long a client waits to read its own write, each in the same run.

A throwaway primary and a hot standby of it (``scripts/pgcluster.py``: ``initdb``,
``pg_basebackup -R``, their own ports, on this machine); the demo of about ``events`` events
loaded into the primary and replayed by the standby; then ``careledger serve --workers 2`` on the
same data twice: reading from the primary (the baseline), then with
``CARELEDGER_READ_DATABASE_URL`` set to the standby. ``CLIENTS`` threads send the same mix of
reads (a budget, its statement, invoices, the audit trail, a council's progress) through HTTP;
then a council opens budgets one at a time and an auditor reads each back with the write's
``CareLedger-Position`` as ``min_position`` (milliseconds from the write's answer to the read's).

On one 2-core machine the servers, both databases and the clients share the cores: the figure
says what routing reads to a standby costs or gains here, not what a standby on its own
machine adds (there, the primary's cores are freed of every read).
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from typing import Any

import httpx

from api.auth import TokenStore
from projections.service import LedgerService
from scripts.bench_http import _timed, start_server
from scripts.bench_scale import EVENTS_PER_PERSON, run_measured
from scripts.pgcluster import free_port, throwaway_cluster

CLIENTS = 8
READS = 1600
OWN_WRITES = 40


def bench_replicas(events: int, reads: int = READS) -> dict[str, Any]:
    """Primary and standby on this machine; read throughput without and with the standby."""
    people = max(1, events // EVENTS_PER_PERSON)
    with throwaway_cluster() as primary:
        primary.create_database("ledger")
        url = primary.url("ledger")
        load = run_measured(["demo", "--people", str(people), "--json"], url)
        with throwaway_cluster(standby_of=primary) as standby:
            standby.wait_replayed(primary, timeout=300)
            paths, tokens, count = _setup(url)
            results: dict[str, Any] = {"events": count, "clients": CLIENTS, "reads": reads,
                                       "demo_seconds": load["seconds"]}  # fmt: skip
            for mode, extra in (("primary", {}),
                                ("standby", {"CARELEDGER_READ_DATABASE_URL":
                                             standby.url("ledger")})):  # fmt: skip
                port = free_port()
                env = {"CARELEDGER_INLINE_PROJECTIONS": "true", **extra}
                server = start_server(url, port, env)
                try:
                    base = f"http://127.0.0.1:{port}"
                    results[f"{mode}_reads_per_s"] = _reads(base, tokens["auditor"], paths, reads)
                    results[f"{mode}_own_write_ms"] = _own_writes(base, tokens, OWN_WRITES)
                finally:
                    server.terminate()
                    server.wait(timeout=30)
    results["ratio"] = round(results["standby_reads_per_s"] / results["primary_reads_per_s"], 3)
    return results


def _setup(url: str) -> tuple[list[str], dict[str, str], int]:
    """The read mix (paths over the demo's first council), tokens, and the log's length."""
    service = LedgerService(url, inline=False)
    try:
        db = service.db
        council = db.query("SELECT MIN(code) AS c FROM v_councils")[0]["c"]
        budgets = [r["budget_id"] for r in db.query(
            "SELECT budget_id FROM v_budget_balances WHERE council = ? ORDER BY budget_id"
            " LIMIT 50", (council,))]  # fmt: skip
        store = TokenStore(db)
        tokens = {"auditor": store.create("auditor", "bench")[0],
                  "council": store.create("council", "bench", council=council)[0]}  # fmt: skip
        count = int(service.app.recorder.max_notification_id() or 0)
    finally:
        service.close()
    paths = [p for b in budgets for p in (f"/v1/budgets/{b}", f"/v1/budgets/{b}/statement")]
    paths += ["/v1/invoices?limit=50", "/v1/audit?limit=50", f"/v1/councils/{council}/progress"]
    tokens["council_code"] = council
    return paths, tokens, count


def _reads(base: str, token: str, paths: list[str], count: int) -> float:
    """Reads per second: ``count`` GETs of the mix from CLIENTS threads."""
    order = random.Random(17).choices(paths, k=count)  # noqa: S311 - a fixed mix, not a secret
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as warm:
        for path in paths[:10]:
            warm.get(path).raise_for_status()
    clients = [httpx.Client(base_url=base, headers=headers, timeout=30) for _ in range(CLIENTS)]

    def work(i: int) -> None:
        answer = clients[i % CLIENTS].get(order[i])
        if answer.status_code != 200:
            raise RuntimeError(f"{order[i]} answered {answer.status_code}: {answer.text[:200]}")

    try:
        return round(_timed(count, work, CLIENTS), 1)
    finally:
        for client in clients:
            client.close()


def _own_writes(base: str, tokens: dict[str, str], count: int) -> dict[str, float]:
    """A budget opened, then read by another token at the write's position: ms, p50 and p99."""
    waits = []
    keys = itertools.count()
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(count):
            key = f"bench-replica-{time.time_ns()}-{next(keys)}"
            body = {"council": tokens["council_code"], "person_ref": key[:32],
                    "primary_support_reason": "physical", "effective_on": "2010-04-05"}  # fmt: skip
            headers = {"Authorization": f"Bearer {tokens['council']}", "Idempotency-Key": key}
            written = client.post("/v1/budgets", json=body, headers=headers)
            written.raise_for_status()
            started = time.perf_counter()
            read = client.get(
                f"/v1/budgets/{written.json()['id']}",
                params={"min_position": written.headers["CareLedger-Position"]},
                headers={"Authorization": f"Bearer {tokens['auditor']}"},
            )
            waits.append((time.perf_counter() - started) * 1000)
            read.raise_for_status()
    waits.sort()
    return {"p50": round(statistics.median(waits), 1),
            "p99": round(waits[min(len(waits) - 1, int(len(waits) * 0.99))], 1)}  # fmt: skip
