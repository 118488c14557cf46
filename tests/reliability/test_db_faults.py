"""Database faults under a real server: PostgreSQL crashes and comes back; locks are held.

Each test runs ``careledger serve`` (a real process) against a throwaway cluster of its own
(``pgcluster.py``), so the cluster may be stopped, SIGKILLed and restarted while requests flow.
What must hold: a request fails cleanly (503 problem+json, ``/problems/store-unavailable``) in
bounded time, never a 500, never a hang, never half a command; the server reconnects by itself;
a retry with the same Idempotency-Key lands exactly once; the books verify afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from api.auth import TokenStore
from ledger.command_record import CommandRecord
from ledger.invoice import Invoice
from projections.service import LedgerService
from tests.reliability.pgcluster import PgCluster, throwaway_cluster
from tests.reliability.servers import ROOT, cli, kill9, server
from tests.support import COUNCIL, FOUR_WEEKS, PROVIDER, World

PROBLEM = "application/problem+json"
UNAVAILABLE = "/problems/store-unavailable"
# The longest a request may take while the database is gone or a lock is held: the URL's
# connect_timeout / lock_timeout (1 s) plus the server's own retries and slack for 2 busy cores.
BOUND = 5.0
CLIENT_TIMEOUT = 30.0  # a request still open after this counts as a hang
LOCK_SLACK = 2.0  # beyond the 1 s lock timeout: the request's own work on 2 busy cores
RECONNECT = 2.5  # after the database is back, every request succeeds again within this


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    with throwaway_cluster() as c:
        yield c


@dataclass(frozen=True)
class Ledger:
    """A prepared database: an active budget and tokens for a provider and its council."""

    url: str
    budget_id: str
    provider: str
    council: str


def prepared(cluster: PgCluster, name: str, **options: str | int) -> Ledger:
    cluster.create_database(name)
    url = cluster.url(name, **options)
    service = LedgerService(url, inline=True)
    try:
        world = World(service.app).setup()
        budget_id = world.active_budget()
        tokens = TokenStore(service.db)
        provider = tokens.create("provider", provider=PROVIDER)[0]
        council = tokens.create("council", council=COUNCIL)[0]
    finally:
        service.close()
    return Ledger(url, budget_id, provider, council)


def invoice(budget_id: str, number: int) -> dict[str, Any]:
    return {
        "invoice_number": f"INV-{number:05d}",
        "budget_id": budget_id,
        "period": {"start": str(FOUR_WEEKS.start), "end": str(FOUR_WEEKS.end)},
        "lines": [{"service": "home-care", "units_hundredths": 100, "rate_pence": 13_00}],
        "invoice_date": str(FOUR_WEEKS.end),
    }


@dataclass(frozen=True)
class Answer:
    """One request's fate: what was asked, when, how long it took and what came back."""

    kind: str
    key: str
    started: float
    elapsed: float
    status: int  # 0: no answer (connection error or client timeout)
    media: str = ""
    problem: str = ""
    retry_after: str | None = None
    error: str = ""


def ask(client: httpx.Client, kind: str, key: str, method: str, path: str, **kw: Any) -> Answer:
    started = time.monotonic()
    try:
        response = client.request(method, path, **kw)
    except httpx.HTTPError as error:
        return Answer(kind, key, started, time.monotonic() - started, 0, error=repr(error))
    media = response.headers.get("content-type", "")
    problem = response.json().get("type", "") if media.startswith(PROBLEM) else ""
    return Answer(
        kind, key, started, time.monotonic() - started, response.status_code,
        media, problem, response.headers.get("retry-after"),
    )  # fmt: skip


@dataclass
class Client:
    """The requests the tests send: a write (an invoice post under its own Idempotency-Key) and
    two reads, one replayed from the events, one from a view."""

    base: str
    ledger: Ledger

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=CLIENT_TIMEOUT)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def write(self, number: int) -> Answer:
        key = f"inv-{number}"
        headers = {**self._auth(self.ledger.provider), "Idempotency-Key": key}
        body = invoice(self.ledger.budget_id, number)
        return ask(self.http, "write", key, "POST", "/v1/invoices", json=body, headers=headers)

    def read(self, kind: str) -> Answer:
        path, token = {
            "read-events": (f"/v1/budgets/{self.ledger.budget_id}/balance", self.ledger.council),
            "read-views": ("/v1/invoices?limit=5", self.ledger.provider),
        }[kind]
        return ask(self.http, kind, "", "GET", path, headers=self._auth(token))

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@dataclass
class Load:
    """A steady stream of writes (new keys) and of reads, from two threads, until stopped."""

    base: str
    ledger: Ledger
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def writer(self) -> None:
        with Client(self.base, self.ledger) as client:
            for number in count():
                if self.stop.is_set():
                    return
                self.answers.append(client.write(number))
                time.sleep(0.02)

    def reader(self) -> None:
        with Client(self.base, self.ledger) as client:
            for i in count():
                if self.stop.is_set():
                    return
                self.answers.append(client.read(("read-events", "read-views")[i % 2]))
                time.sleep(0.02)

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=t, daemon=True) for t in (self.writer, self.reader)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)
            assert not thread.is_alive(), "a request never returned"


def health(base: str) -> Answer:
    with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as client:
        return ask(client, "health", "", "GET", "/healthz")


def wait_healthy(base: str, timeout: float = 30) -> float:
    """Seconds until /healthz answers 200 again."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if health(base).status == 200:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"the server did not reconnect within {timeout} s")


def assert_unavailable(answer: Answer) -> None:
    assert answer.status == 503, answer
    assert answer.media.startswith(PROBLEM), answer
    assert answer.problem == UNAVAILABLE, answer
    assert answer.retry_after is not None, answer
    assert answer.elapsed < BOUND, answer


def outage(cluster: PgCluster, base: str, how: str, seconds: float) -> dict[str, float]:
    """Take the database away for ``seconds`` (the load keeps running), then bring it back."""
    down_at = time.monotonic()
    if how == "kill9":
        cluster.kill9()
    else:
        cluster.stop("immediate")
    time.sleep(seconds / 2)
    assert_unavailable(health(base))  # /healthz says so too, just as fast
    time.sleep(seconds / 2)
    cluster.start()
    up_at = time.monotonic()
    return {"down_at": down_at, "up_at": up_at, "recovered_s": wait_healthy(base)}


def store_counts(url: str) -> tuple[Counter[str], Counter[str]]:
    """Invoices posted per invoice number and command records per command id, from the events."""
    service = LedgerService(url, inline=False)
    try:
        posted: Counter[str] = Counter()
        commands: Counter[str] = Counter()
        for n in service.app.recorder.select_notifications(1, 10_000_000):
            event: Any = service.app.mapper.to_domain_event(n)
            if isinstance(event, Invoice.Posted):
                posted[event.invoice_number] += 1
            elif isinstance(event, CommandRecord.Accepted):
                commands[event.prov.command_id] += 1
        return posted, commands
    finally:
        service.close()


def views_lag(cluster: PgCluster, dbname: str) -> int:
    """How far the slowest view is behind the head of the log."""
    with psycopg.connect(cluster.conninfo(dbname)) as conn:
        head = conn.execute("SELECT max(notification_id) FROM careledger_events").fetchone()
        low = conn.execute("SELECT min(position) FROM careledger_view_tracking").fetchone()
    assert head is not None and low is not None
    return int(head[0]) - int(low[0])


def wait_views_caught_up(cluster: PgCluster, dbname: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while views_lag(cluster, dbname) > 0:
        assert time.monotonic() < deadline, "the projection worker did not catch up"
        time.sleep(0.1)


def verify_json(url: str) -> tuple[int, dict[str, Any]]:
    """``careledger verify --json``: its exit status and report."""
    done = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "verify", "--json", "--database-url", url],
        cwd=ROOT, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    return done.returncode, json.loads(done.stdout)


@pytest.mark.postgres
@pytest.mark.timeout(80)
@pytest.mark.parametrize("inline", [True, False], ids=["inline", "worker"])
def test_a_database_crash_under_load_fails_cleanly_and_every_command_lands_once(
    cluster: PgCluster, inline: bool, tmp_path: Path
) -> None:
    dbname = f"crash_{'inline' if inline else 'worker'}"
    ledger = prepared(cluster, dbname, connect_timeout=1)
    log = tmp_path / "careledger.log"
    worker = None if inline else cli(["project", "--follow", "--interval", "0.5"], ledger.url)
    try:
        with server(ledger.url, inline=inline, log=log) as (base, process):
            with Load(base, ledger) as load:
                time.sleep(1.5)
                outages = []
                for how in ("immediate", "kill9"):
                    outages.append(outage(cluster, base, how, 3))
                    time.sleep(RECONNECT + 1)
            assert process.poll() is None, "the server died"
            failed = [a.key for a in load.answers if a.kind == "write" and a.status != 201]
            with Client(base, ledger) as client:
                retried = {key: client.write(int(key[4:])).status for key in failed}
        if worker is not None:
            wait_views_caught_up(cluster, dbname)  # the worker lived through both crashes
            assert worker.poll() is None, "the projection worker died"
    finally:
        if worker is not None:
            kill9(worker)
    answers = load.answers
    report(answers, outages, retried)

    # Every answer came, in bounded time, and was a success or a clean 503: never a 500.
    assert all(a.status in (200, 201, 503) for a in answers), [
        a for a in answers if a.status not in (200, 201, 503)
    ]
    assert max(a.elapsed for a in answers) < BOUND
    for a in answers:
        if a.status == 503:
            assert_unavailable(a)
    for kind in ("write", "read-events", "read-views"):
        assert {a.status for a in answers if a.kind == kind} == {
            200 if "read" in kind else 201,
            503,
        }, kind
    # The server reconnected by itself after each outage: soon every request succeeded again.
    ends = [o["down_at"] for o in outages[1:]] + [time.monotonic()]
    for o, until in zip(outages, ends, strict=True):
        after = [a for a in answers if o["up_at"] + RECONNECT < a.started < until - a.elapsed]
        assert {a.kind for a in after} == {"write", "read-events", "read-views"}
        late = [(a.kind, round(a.started - o["up_at"], 2)) for a in after if a.status == 503]
        assert not late, f"503 after the database was back for RECONNECT s: {late}"
    # Retrying each failed write with its Idempotency-Key succeeds ...
    assert retried and all(status in (200, 201) for status in retried.values()), retried
    # ... and every command is in the store exactly once, whole: its invoice and its record.
    keys = {a.key for a in answers if a.kind == "write"}
    posted, commands = store_counts(ledger.url)
    commands = Counter({k: n for k, n in commands.items() if k.startswith("inv-")})
    assert set(commands) == keys and set(commands.values()) == {1}
    assert len(posted) == len(keys) and set(posted.values()) == {1}
    rc, verdict = verify_json(ledger.url)
    assert rc == 0 and verdict["ok"], verdict


def report(answers: list[Answer], outages: list[dict[str, float]], retried: dict[str, int]) -> None:
    """Timings for the test log (``pytest -s``)."""
    failed = [a for a in answers if a.status == 503]
    back = [
        {k: round(min((a.started + a.elapsed for a in answers if a.kind == k
                       and a.started > o["up_at"] and a.status in (200, 201)),
                      default=float("inf")) - o["up_at"], 2)
         for k in ("write", "read-events", "read-views")}
        for o in outages
    ]  # fmt: skip
    print(
        f"\n{len(answers)} answers {dict(Counter((a.kind, a.status) for a in answers))};"
        f" 503 in {min(a.elapsed for a in failed):.2f}..{max(a.elapsed for a in failed):.2f} s;"
        f" slowest answer {max(a.elapsed for a in answers):.2f} s;"
        f" /healthz 200 again {[round(o['recovered_s'], 2) for o in outages]} s after restarts;"
        f" first success after restart (s): {back}; {len(retried)} writes retried"
    )


# Each table locked in turn, and the requests that must wait on it.
LOCKED = {
    "careledger_events": ("write", "read-events"),  # the event store (the library's table)
    "careledger_tokens": ("write", "read-views"),  # every request looks its token up first
    "v_invoices": ("read-views",),  # a view
}


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_a_held_lock_answers_503_after_the_lock_timeout_not_a_hang(
    cluster: PgCluster, tmp_path: Path
) -> None:
    ledger = prepared(cluster, "locks", lock_timeout=1, connect_timeout=1)
    numbers = count(1000)
    blocked: list[Answer] = []
    with (
        server(ledger.url, log=tmp_path / "careledger.log") as (base, _process),
        Client(base, ledger) as client,
    ):
        for table, kinds in LOCKED.items():
            with psycopg.connect(cluster.conninfo("locks")) as holder:
                holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # in a transaction
                asked = [client.write(next(numbers)) if k == "write" else client.read(k)
                         for k in kinds]  # fmt: skip
                holder.rollback()  # the lock is released
            blocked += asked
            again = [client.write(int(a.key[4:])) if a.kind == "write" else client.read(a.kind)
                     for a in asked]  # fmt: skip
            print(f"\n{table}: " + ", ".join(f"{a.kind} {a.status} in {a.elapsed:.2f} s"
                                             for a in asked))  # fmt: skip
            assert [a.status for a in again] == [201 if a.kind == "write" else 200 for a in asked]

    for answer in blocked:
        assert_unavailable(answer)
        assert 0.9 < answer.elapsed < 1 + LOCK_SLACK, answer  # the lock timeout, not a hang
    keys = {a.key for a in blocked if a.kind == "write"}
    _posted, commands = store_counts(ledger.url)
    assert {k: commands[k] for k in keys} == dict.fromkeys(keys, 1)  # each retry landed once
