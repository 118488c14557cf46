"""The web console's pages: render time at a given history length, each page beside the JSON
API route whose function it calls (the baseline, same process, same data, same run).

The demo of about ``events`` events loads into a fresh store (``careledger demo`` in its own
process); then, in this process, the app serves each page and its API route through an
in-process client (no network): p50/p99 milliseconds over ``samples`` requests. The issue's
target is every page p99 ≤ 300 ms at 1,000,000 events on PostgreSQL.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import TokenStore
from api.settings import Settings
from scripts.bench_scale import EVENTS_PER_PERSON, run_measured

SAMPLES = 20
TARGET_MS = 300


def _pages(db: Any) -> list[tuple[str, str, str, str]]:
    """(page, role, console path, API path) for the demo's first council and its data, as at
    now and, for the pages with history, as at the instant half way through the budget's."""
    council = db.query("SELECT MIN(code) AS c FROM v_councils")[0]["c"]
    budget = db.query("SELECT MIN(budget_id) AS b FROM v_budget_balances WHERE council = ?",
                      (council,))[0]["b"]  # fmt: skip
    invoice = db.query("SELECT MIN(invoice_id) AS i FROM v_invoices WHERE council = ?",
                       (council,))[0]["i"]  # fmt: skip
    # Half way through the budget's own entries: it exists then, and has changed since.
    entries = db.query("SELECT known_by FROM v_audit WHERE aggregate_id = ? ORDER BY position",
                       (budget,))  # fmt: skip
    middle = entries[len(entries) // 2]["known_by"]
    then = "as_at=" + quote(str(middle))
    return [
        ("national", "regulator", "/ui/national", "/v1/national/progress"),
        ("council", "auditor", f"/ui/councils/{council}", f"/v1/councils/{council}/progress"),
        ("budget", "auditor", f"/ui/budgets/{budget}", f"/v1/budgets/{budget}/statement"),
        ("invoices", "council", "/ui/invoices", "/v1/invoices?limit=50"),
        ("invoice", "council", f"/ui/invoices/{invoice}", f"/v1/invoices/{invoice}"),
        ("exceptions", "auditor", "/ui/exceptions", "/v1/exceptions?limit=50"),
        ("audit trail", "auditor", "/ui/audit", "/v1/audit?limit=50"),
        # The page reads nothing until asked to verify: its baseline is the lightest route.
        ("integrity", "auditor", "/ui/integrity", "/v1/audit/public-key"),
        ("national as at", "regulator", f"/ui/national?{then}", f"/v1/national/progress?{then}"),
        ("council as at", "auditor", f"/ui/councils/{council}?{then}",
         f"/v1/councils/{council}/progress?{then}"),
        ("budget as at", "auditor", f"/ui/budgets/{budget}?{then}",
         f"/v1/budgets/{budget}/statement?{then}"),
    ]  # fmt: skip


def sign_in(client: Any, token: str) -> Any:
    """Sign ``client`` (a TestClient or an httpx.Client on the app) in through the console's own
    form, CSRF token included; the form's answer (303 to the console when signed in)."""
    client.cookies.clear()
    form = client.get("/ui/sign-in").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if csrf is None:
        raise RuntimeError("the sign-in form carries no CSRF token")
    data = {"token": token, "csrf_token": csrf.group(1)}
    return client.post("/ui/sign-in", data=data, follow_redirects=False)


def _timed(get: Any, path: str, samples: int) -> dict[str, float]:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        answer = get(path)
        timings.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}")
    timings.sort()
    return {"p50": round(statistics.median(timings), 1),
            "p99": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 1)}  # fmt: skip


def bench_console(url: str, events: int, samples: int = SAMPLES) -> dict[str, Any]:
    """Load the demo of about ``events`` events into the empty store at ``url``; time pages."""
    people = max(1, events // EVENTS_PER_PERSON)
    run_measured(["demo", "--people", str(people), "--json"], url)
    return {**time_pages(url, samples), "people": people}


def time_pages(url: str, samples: int = SAMPLES) -> dict[str, Any]:
    """Every page of the store at ``url`` (the demo's data) beside its API route."""
    app = create_app(Settings(database_url=url, log_json=True))
    pages: dict[str, Any] = {}
    with TestClient(app) as client:
        service = app.state.service
        count = int(service.app.recorder.max_notification_id() or 0)
        council = service.db.query("SELECT MIN(code) AS c FROM v_councils")[0]["c"]
        store = TokenStore(service.db)
        scopes: dict[str, dict[str, str]] = {"regulator": {}, "auditor": {},
                                             "council": {"council": council}}  # fmt: skip
        tokens = {role: store.create(role, "bench", **s)[0] for role, s in scopes.items()}
        for name, role, page, api in _pages(service.db):
            signed = sign_in(client, tokens[role])
            if signed.status_code != 303:
                raise RuntimeError(f"{role} could not sign in: {signed.status_code}")
            shown = _timed(client.get, page, samples)
            bearer = {"Authorization": f"Bearer {tokens[role]}"}
            baseline = _timed(lambda p, h=bearer: client.get(p, headers=h), api, samples)
            pages[name] = {"page_ms": shown, "api_ms": baseline, "api": api,
                           "ratio_p50": round(shown["p50"] / max(baseline["p50"], 0.1), 2),
                           "meets_target": shown["p99"] <= TARGET_MS}  # fmt: skip
    return {"events": count, "samples": samples, "target_p99_ms": TARGET_MS, "pages": pages}
