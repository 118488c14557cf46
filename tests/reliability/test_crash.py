"""Crash tests (issue 6): the server and a projection worker are killed with SIGKILL at the worst
moment, on SQLite and PostgreSQL, and the ledger must come back whole.

* ``POST /v1/invoices/batch`` killed while its save's transaction is open, or the instant it
  commits, leaves all or nothing; the client's retry with the same Idempotency-Key and body then
  writes it exactly once, and a second retry answers byte for byte the same;
* a batch answered before the kill answers its retry with the identical status and body;
* ``careledger project`` killed inside a page's transaction resumes from the views' tracking rows,
  so no event is applied twice or skipped.

Each kill is aimed, not timed: the test watches the database from outside (SQLite's write lock;
the ``backend_xid`` of the killed process's PostgreSQL sessions) and kills while a write
transaction is open (or the moment it ends). ``careledger verify --json`` then checks the hash
chain, the trial balance and every view against a fresh replay of the log.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest

from api.auth import TokenStore
from ledger.app_invoices import InvoiceDraft
from ledger.budget import PersonalBudget
from ledger.ids import command_record_id, invoice_id
from ledger.invoice import Invoice
from ledger.values import Period
from projections.balance import balance_of
from projections.service import LedgerService
from projections.views.balances import TABLE as BALANCES
from projections.views.balances import from_row
from scripts.bench_http import invoice_json
from tests.reliability.servers import ROOT, cli, kill9, server
from tests.support import PROVIDER, START, World, count_events

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
BATCH_PATH = "/v1/invoices/batch"
BIG_BATCH = 3_000  # 6,001 events: PostgreSQL's large-save path; ~50-100 ms in a transaction
ANSWERED_BATCH = 1_000  # 2,001 events: PostgreSQL's pipelined save
KILL_ATTEMPTS = 3
BATCH_BUDGETS = 50
WORKER_BUDGETS = 40
WORKER_BATCHES = 5  # of 2,000 invoices: ~20,500 events in all


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


# --- watching the database from outside the process we kill ----------------------------------


class Watcher:
    """Tells, from outside, whether the processes it named hold an open write transaction."""

    def __init__(self, url: str) -> None:
        self.name = f"crash-{uuid.uuid4().hex[:10]}"
        self.sqlite: sqlite3.Connection | None = None
        self.pg: psycopg.Connection[Any] | None = None
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            self.sqlite = sqlite3.connect(path, timeout=0, isolation_level=None)
        else:
            self.pg = psycopg.connect(url.split("?", maxsplit=1)[0], autocommit=True)

    @contextmanager
    def named(self) -> Iterator[None]:
        """Processes started inside carry the watcher's name as their PostgreSQL
        application_name (libpq reads PGAPPNAME), so their sessions can be told apart."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PGAPPNAME", self.name)
            yield

    def writing(self) -> bool:
        """SQLite: someone holds the write lock (here only the process under test writes).
        PostgreSQL: one of the named sessions has written in its open transaction."""
        if self.sqlite is not None:
            try:
                self.sqlite.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                if "locked" not in str(error):
                    raise
                return True
            self.sqlite.execute("ROLLBACK")
            return False
        return self._sessions(written=True) > 0

    def settle(self, timeout: float = 15) -> None:
        """Wait until the killed processes' sessions are gone. PostgreSQL ends a dead client's
        backend (rolling its transaction back) once it next reads the socket; SQLite's file
        locks go with the process."""
        deadline = time.monotonic() + timeout
        while self.pg is not None and self._sessions(written=False) > 0:
            assert time.monotonic() < deadline, "the killed process's sessions did not end"
            time.sleep(0.05)

    def _sessions(self, *, written: bool) -> int:
        assert self.pg is not None
        sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
        if written:
            sql += " AND backend_xid IS NOT NULL"
        row = self.pg.execute(sql, (self.name,)).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        for conn in (self.sqlite, self.pg):
            if conn is not None:
                conn.close()


@pytest.fixture
def watcher(store_url: str) -> Iterator[Watcher]:
    w = Watcher(store_url)
    yield w
    w.close()


@contextmanager
def watched_server(
    url: str, watcher: Watcher, *, inline: bool
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``careledger serve`` named for the watcher (only the server, not this process)."""
    with ExitStack() as stack:
        with watcher.named():
            running = stack.enter_context(server(url, inline=inline))
        yield running


# --- the ledger under test -------------------------------------------------------------------


@dataclass
class Ledger:
    """A store with a council, a care firm, active budgets and the firm's API token."""

    service: LedgerService
    world: World
    budgets: list[str]
    token: str
    scope: str  # the account its Idempotency-Keys belong to

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}

    def drafts(self, prefix: str, count: int, first_period: int = 0) -> list[InvoiceDraft]:
        """``count`` invoices spread over the budgets, each budget's in consecutive 4-week
        periods (so none overlaps another)."""
        drafts = []
        for k in range(count):
            n = first_period + k // len(self.budgets)
            period = Period(
                START + timedelta(weeks=4 * n), START + timedelta(weeks=4 * n + 4, days=-1)
            )
            drafts.append(
                self.world.draft(
                    self.budgets[k % len(self.budgets)], f"{prefix}-{k:05d}", period=period
                )
            )
        return drafts

    def census(self, drafts: list[InvoiceDraft], key: str) -> tuple[int, int, int, bool]:
        """What the store holds of this batch: (invoices posted, invoices received by their
        budgets, the most copies of any one of those events, whether the command is recorded)."""
        wanted = {str(invoice_id(PROVIDER, d.invoice_number)) for d in drafts}
        recorder, mapper = self.service.app.recorder, self.service.app.mapper
        posted = Counter(
            str(UUID(str(n.originator_id)))
            for n in recorder.select_notifications(1, 10**7, topics=[Invoice.Posted.TOPIC])
        )
        received = Counter(
            getattr(mapper.to_domain_event(n), "invoice_id", None)
            for n in recorder.select_notifications(
                1, 10**7, topics=[PersonalBudget.InvoiceReceived.TOPIC]
            )
        )
        copies = [c[i] for c in (posted, received) for i in wanted if c[i]]
        return (
            sum(1 for i in wanted if posted[i]),
            sum(1 for i in wanted if received[i]),
            max(copies, default=0),
            self.service.app.exists(command_record_id(self.scope, key)),
        )

    def close(self) -> None:
        self.service.close()


def open_ledger(url: str, budgets: int) -> Ledger:
    service = LedgerService(url, inline=False)
    world = World(service.app).setup()
    ids = [world.active_budget() for _ in range(budgets)]
    token, principal = TokenStore(service.db).create("provider", provider=PROVIDER)
    return Ledger(service, world, ids, token, principal.idempotency_scope)


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    opened = open_ledger(store_url, budgets=BATCH_BUDGETS)
    yield opened
    opened.close()


def batch_body(drafts: list[InvoiceDraft]) -> dict[str, Any]:
    return {"invoices": [invoice_json(d) for d in drafts]}


def expected_ids(drafts: list[InvoiceDraft]) -> list[str]:
    return [str(invoice_id(PROVIDER, d.invoice_number)) for d in drafts]


def run_cli(args: list[str], url: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARELEDGER_DATABASE_URL": url, "CARELEDGER_INLINE_PROJECTIONS": "false"}
    return subprocess.run(
        [sys.executable, "-m", "scripts.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def assert_verified(url: str, *, project: bool) -> None:
    """``careledger verify --json`` passes: chain, trial balance and every view equal to a fresh
    replay. ``project``: first catch the views up with ``careledger project`` (no inline runner
    or worker has)."""
    if project:
        projected = run_cli(["project"], url)
        assert projected.returncode == 0, projected.stderr[-2000:]
    verified = run_cli(["verify", "--json"], url)
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
    report: dict[str, Any] = json.loads(verified.stdout)
    assert report["ok"] is True
    names = {c["name"] for c in report["checks"]}
    assert {"catch-up", "hash-chain", "trial-balance", "view:v_budget_balances"} <= names


def tracked(ledger: Ledger) -> dict[str, int]:
    """The views' tracking positions, read from the store."""
    return ledger.service.runner.positions()


# --- 1. the server killed in the middle of a batch -------------------------------------------


class InFlight(threading.Thread):
    """A POST sent from its own thread; ``response`` is set if the server answered it."""

    def __init__(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.url, self.body, self.headers = url, body, headers
        self.response: httpx.Response | None = None
        self.start()

    def run(self) -> None:
        with suppress(httpx.HTTPError):  # the server died under the request
            self.response = httpx.post(self.url, json=self.body, headers=self.headers, timeout=60)


def kill_when(
    process: subprocess.Popen[bytes], ready: Callable[[], bool], alive: Callable[[], bool]
) -> float:
    """Poll ``ready`` every few ms and SIGKILL the process group the moment it holds; the
    seconds waited. Fails if ``alive`` stops holding first (the work finished unkilled)."""
    started = time.monotonic()
    while not ready():
        assert alive(), "the work finished before the kill could land in it"
        assert time.monotonic() - started < 60, "no write transaction was seen in 60 s"
        time.sleep(0.002)
    kill9(process)
    return time.monotonic() - started


def transaction_trigger(watcher: Watcher, open_for: float | None) -> Callable[[], bool]:
    """When to kill: once a write transaction is seen, after it has been open ``open_for``
    seconds (None: never), and in any case the moment it ends, right after its commit."""
    opened: list[float] = []

    def ready() -> bool:
        writing = watcher.writing()
        if writing and not opened:
            opened.append(time.monotonic())
        if not opened:
            return False
        if not writing:
            return True
        return open_for is not None and time.monotonic() - opened[0] >= open_for

    return ready


NOTHING = (0, 0, 0, False)
EVERYTHING = (BIG_BATCH, BIG_BATCH, 1, True)


def crash_batch(
    ledger: Ledger, watcher: Watcher, url: str, attempt: int, open_for: float | None
) -> str:
    """One aimed kill of a batch, a restart and two retries with the same key and body; returns
    what the kill left ("nothing" or "everything"), having checked the retries either way: the
    first retry writes exactly the batch (2 events an invoice and the command record) if the
    kill left nothing, and nothing at all if the kill left everything."""
    drafts = ledger.drafts(f"K{attempt}", BIG_BATCH, first_period=attempt * 200)
    body, key = batch_body(drafts), f"crash-batch-{attempt}"
    with watched_server(url, watcher, inline=False) as (base, process):
        request = InFlight(base + BATCH_PATH, body, ledger.headers(key))
        waited = kill_when(process, transaction_trigger(watcher, open_for), request.is_alive)
        request.join(timeout=30)
    watcher.settle()
    left, events = ledger.census(drafts, key), count_events(ledger.service.app)
    answered = request.response is not None
    print(f"kill {attempt} ({open_for=}): {waited:.3f} s after sending; {answered=}; left {left}")
    assert left in (NOTHING, EVERYTHING), f"a partial batch: {left}"

    with watched_server(url, watcher, inline=False) as (base, _):
        retry = httpx.post(base + BATCH_PATH, json=body, headers=ledger.headers(key), timeout=60)
        again = httpx.post(base + BATCH_PATH, json=body, headers=ledger.headers(key), timeout=60)
    assert retry.status_code == 200, retry.text[:500]
    result = retry.json()
    assert (result["accepted"], result["refused"]) == (BIG_BATCH, 0)
    assert [r["id"] for r in result["results"]] == expected_ids(drafts)
    assert (again.status_code, again.content) == (retry.status_code, retry.content)
    if request.response is not None:  # answered in the instant before the kill
        assert (request.response.status_code, request.response.content) == (200, retry.content)
    assert ledger.census(drafts, key) == EVERYTHING
    written = count_events(ledger.service.app) - events
    assert written == (2 * BIG_BATCH + 1 if left == NOTHING else 0)
    return "nothing" if left == NOTHING else "everything"


@pytest.mark.timeout(120)
def test_a_batch_killed_in_or_just_after_its_transaction_is_all_or_nothing_and_retried_once(
    ledger: Ledger, watcher: Watcher, store_url: str
) -> None:
    """Killed 15 ms into the save's transaction (mid-insert): nothing was written, and the retry
    writes the batch. Killed the moment the transaction ends: all of it was written, and the
    retry answers from the stored result without writing again."""
    inside = []
    for attempt in range(KILL_ATTEMPTS):
        inside.append(crash_batch(ledger, watcher, store_url, attempt, open_for=0.015))
        if inside[-1] == "nothing":
            break
    # Each kill left all or nothing; one must have torn an open transaction, or none was tested.
    assert "nothing" in inside, f"every kill came after the commit: {inside}"
    assert crash_batch(ledger, watcher, store_url, len(inside), open_for=None) == "everything"
    assert_verified(store_url, project=True)


@pytest.mark.timeout(120)
def test_a_batch_answered_before_the_kill_is_answered_identically_after_the_restart(
    ledger: Ledger, store_url: str
) -> None:
    """The server answers, then dies; the client, unsure, retries: the restarted server answers
    with the identical status and bytes, and writes nothing more. Inline projections here: the
    views are caught up by the servers' inline runner, without a worker."""
    drafts = ledger.drafts("A", ANSWERED_BATCH)
    body, headers = batch_body(drafts), ledger.headers("answered-batch")
    with server(store_url, inline=True) as (base, process):
        first = httpx.post(base + BATCH_PATH, json=body, headers=headers, timeout=60)
        kill9(process)
    assert first.status_code == 200, first.text[:500]
    assert first.json()["accepted"] == ANSWERED_BATCH
    events = count_events(ledger.service.app)
    with server(store_url, inline=True) as (base, _):
        retry = httpx.post(base + BATCH_PATH, json=body, headers=headers, timeout=60)

    assert (retry.status_code, retry.content) == (first.status_code, first.content)
    assert ledger.census(drafts, "answered-batch") == (ANSWERED_BATCH, ANSWERED_BATCH, 1, True)
    assert count_events(ledger.service.app) == events
    assert set(tracked(ledger).values()) == {ledger.service.runner.head()}
    assert_verified(store_url, project=False)


# --- 2. a projection worker killed in the middle of catch-up --------------------------------


def load_events(ledger: Ledger) -> None:
    """~20,500 events: batches of invoices, then some approved and paid (spend, balances)."""
    app, world = ledger.service.app, ledger.world
    per_batch = 2_000
    for n in range(WORKER_BATCHES):
        drafts = ledger.drafts(
            f"W{n}", per_batch, first_period=n * (per_batch // len(ledger.budgets) + 1)
        )
        outcome = app.post_invoices(PROVIDER, drafts, world.as_provider())
        assert outcome["accepted"] == per_batch
    for k in range(0, len(ledger.budgets), 3):  # invoice k of the first batch is budget k's
        invoice = str(invoice_id(PROVIDER, f"W0-{k:05d}"))
        app.approve_invoice(invoice, date(2010, 6, 1), world.prov())
        app.pay_invoice(invoice, f"REM-{invoice[:8]}", date(2010, 6, 8), world.prov())


def kill_worker_past(ledger: Ledger, watcher: Watcher, url: str, past: int) -> dict[str, int]:
    """Start ``careledger project``; SIGKILL it inside a page's transaction once every view has
    passed position ``past``; the tracked positions it left."""
    with watcher.named():
        worker = cli(["project"], url, inline=False)
    try:
        waited = kill_when(
            worker,
            lambda: min(tracked(ledger).values()) >= past and watcher.writing(),
            lambda: worker.poll() is None,
        )
    finally:
        kill9(worker)
    watcher.settle()
    left = tracked(ledger)
    print(f"worker killed after {waited:.2f} s, past {past}: positions {set(left.values())}")
    return left


@pytest.mark.timeout(120)
def test_a_projection_worker_killed_mid_catch_up_resumes_without_double_counting(
    store_url: str, watcher: Watcher
) -> None:
    """Killed twice inside a page (a third and two thirds of the way), the worker resumes from
    the tracking rows each time: the views reach the head equal to a fresh replay, and budget
    balances equal ``balance_of``, so no page was applied twice or lost."""
    ledger = open_ledger(store_url, budgets=WORKER_BUDGETS)
    try:
        load_events(ledger)
        head = ledger.service.runner.head()
        assert max(tracked(ledger).values()) == 0  # the views have not started
        reached = 0
        for past in (head // 3, 2 * head // 3):
            left = kill_worker_past(ledger, watcher, store_url, past)
            assert reached < min(left.values()) and max(left.values()) < head
            reached = min(left.values())

        with watcher.named():
            worker = cli(["project"], store_url, inline=False)
        try:
            assert worker.wait(timeout=90) == 0
        finally:
            kill9(worker)
        assert set(tracked(ledger).values()) == {head}

        assert_verified(store_url, project=False)
        rows = ledger.service.db.query(f"SELECT * FROM {BALANCES}")
        views = {r["budget_id"]: from_row(r) for r in rows}
        assert len(views) == WORKER_BUDGETS
        for budget_id in ledger.budgets[::7]:
            assert views[budget_id] == balance_of(ledger.service.app, budget_id)
    finally:
        ledger.close()
