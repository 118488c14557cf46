"""Reads on a PostgreSQL streaming replica: a throwaway primary and a hot standby of it
(``initdb``, ``pg_basebackup -R``, their own ports), the app writing to one and reading from the
other (``CARELEDGER_READ_DATABASE_URL``).

Which database answered is told apart by pausing the standby's replay (``pg_wal_replay_pause``):
a write then reaches the primary but not the standby, so a read that does not show it came from
the standby, and a read that must show it waits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import TokenStore
from api.settings import Settings
from projections.service import LedgerService
from scripts.bench_console import sign_in
from tests.api.conftest import budget_body
from tests.reliability.pgcluster import PgCluster, throwaway_cluster
from tests.support import COUNCIL, World

pytestmark = pytest.mark.postgres  # a throwaway primary and standby of its own

MAX_LAG = 1.5
WAIT = 0.6


@dataclass
class Pair:
    primary: PgCluster
    standby: PgCluster
    client: TestClient
    service: LedgerService
    tokens: dict[str, str]

    def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        answer: httpx.Response = self.client.get(
            path, params=params, headers={"Authorization": f"Bearer {self.tokens[who]}"}
        )
        return answer

    def open_budget(self, who: str, person: str) -> tuple[str, int]:
        """A budget opened through the API: its id and the write's CareLedger-Position."""
        answer = self.client.post(
            "/v1/budgets",
            json=budget_body(person_ref=person),
            headers={"Authorization": f"Bearer {self.tokens[who]}", "Idempotency-Key": person},
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["id"], int(answer.headers["CareLedger-Position"])

    def page(self, who: str, path: str) -> httpx.Response:
        """A console page, signed in with ``who``'s token."""
        signed = sign_in(self.client, self.tokens[who])
        assert signed.status_code == 303, signed.text
        answer: httpx.Response = self.client.get(path)
        return answer

    def pause(self) -> None:
        self.standby.sql("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        self.standby.sql("SELECT pg_wal_replay_resume()")

    def caught_up(self) -> None:
        """Wait until the standby has replayed everything the primary wrote."""
        self.standby.wait_replayed(self.primary, timeout=20)
        time.sleep(0.25)  # the app samples positions every 0.1 s


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with throwaway_cluster() as primary:
        primary.create_database("ledger")
        with throwaway_cluster(standby_of=primary) as standby:
            settings = Settings(
                database_url=primary.url("ledger", connect_timeout=2),
                read_database_url=standby.url("ledger", connect_timeout=2),
                read_max_lag_seconds=MAX_LAG,
                read_wait_seconds=WAIT,
                log_json=True,
            )
            app = create_app(settings)
            with TestClient(app) as client:
                service: LedgerService = app.state.service
                World(service.app).setup(pool_pence=50_000_00)
                store = TokenStore(service.db)
                tokens = {
                    "council": store.create("council", council=COUNCIL)[0],
                    "colleague": store.create("council", council=COUNCIL)[0],
                    "auditor": store.create("auditor")[0],
                }
                found = Pair(primary, standby, client, service, tokens)
                found.caught_up()
                yield found


@pytest.fixture
def live(pair: Pair) -> Iterator[Pair]:
    """The pair replaying and caught up before and after each test."""
    pair.resume()
    pair.caught_up()
    yield pair
    pair.resume()


def test_a_read_is_served_by_the_standby_not_the_primary(live: Pair) -> None:
    live.pause()
    budget_id, _ = live.open_budget("council", "P-REPLICA-1")

    # The colleague never wrote: the paused standby answers, without the new budget.
    seen = live.get("colleague", f"/v1/budgets/{budget_id}")
    audit = live.get("auditor", "/v1/audit", budget=budget_id)

    assert seen.status_code == 404
    assert audit.status_code == 404  # the budget the trail is asked about is not there yet
    live.resume()
    live.caught_up()
    assert live.get("colleague", f"/v1/budgets/{budget_id}").status_code == 200


def test_a_client_reads_its_own_write_by_min_position(live: Pair) -> None:
    live.pause()
    budget_id, position = live.open_budget("council", "P-REPLICA-2")

    waited = live.get("colleague", f"/v1/budgets/{budget_id}", min_position=position)

    assert waited.status_code == 503
    body = waited.json()
    assert (body["type"], body["min_position"]) == ("/problems/replica-behind", position)
    assert body["position"] < position
    assert waited.headers["Retry-After"] == "1"
    live.resume()
    got = live.get("colleague", f"/v1/budgets/{budget_id}", min_position=position)
    assert got.status_code == 200
    assert got.json()["id"] == budget_id


def test_the_same_token_reads_its_own_write_without_asking(live: Pair) -> None:
    live.pause()
    budget_id, position = live.open_budget("council", "P-REPLICA-3")

    own = live.get("council", f"/v1/budgets/{budget_id}")  # waits for its own last write
    other = live.get("colleague", f"/v1/budgets/{budget_id}")  # the standby as it stands

    assert own.status_code == 503
    assert own.json()["min_position"] == position
    assert other.status_code == 404
    live.resume()
    assert live.get("council", f"/v1/budgets/{budget_id}").status_code == 200


def test_a_position_past_the_log_is_a_422(live: Pair) -> None:
    answer = live.get("auditor", "/v1/audit", min_position=10**9)

    assert answer.status_code == 422
    assert answer.json()["type"] == "/problems/min-position-ahead"
    assert answer.json()["field"] == "min_position"


def test_a_standby_further_behind_than_the_lag_allowed_is_skipped(live: Pair) -> None:
    live.pause()
    live.open_budget("council", "P-REPLICA-4")
    time.sleep(MAX_LAG + 0.5)

    answer = live.get("auditor", "/v1/audit")

    assert answer.status_code == 503
    body = answer.json()
    assert body["type"] == "/problems/no-fresh-replica"
    assert body["standbys"][0]["behind_seconds"] > MAX_LAG
    assert "password" not in answer.text
    page = live.page("auditor", "/ui/audit")  # the console says it in words, as a page
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "cannot be read just now" in page.text
    live.resume()
    live.caught_up()
    assert live.get("auditor", "/v1/audit").status_code == 200


def test_the_standby_stopped_and_restarted(live: Pair) -> None:
    live.standby.stop("fast")
    try:
        seen_down = time.monotonic() + 10
        while live.client.get("/healthz").json()["standbys"][0]["fresh"]:
            assert time.monotonic() < seen_down, "the stopped standby was still called fresh"
            time.sleep(0.1)
        started = time.monotonic()
        down = live.get("auditor", "/v1/audit")
        took = time.monotonic() - started
        writes = live.open_budget("council", "P-REPLICA-5")  # the primary still takes writes
        health = live.client.get("/healthz").json()
    finally:
        live.standby.start()

    assert down.status_code == 503
    assert down.json()["type"] == "/problems/no-fresh-replica"
    assert took < 1  # the standby is known to be down: no wait on it
    assert health["status"] == "ok"
    assert health["standbys"][0]["down"].startswith("not answering")
    live.caught_up()
    deadline = time.monotonic() + 10
    path = f"/v1/budgets/{writes[0]}"
    while (back := live.get("colleague", path, min_position=writes[1])).status_code != 200:
        assert time.monotonic() < deadline, back.text
        time.sleep(0.2)
    assert back.json()["id"] == writes[0]


def test_tokens_and_writes_stay_on_the_primary(live: Pair) -> None:
    """A token revoked on the primary is refused at once, however far the standby lags."""
    live.pause()
    store = TokenStore(live.service.db)
    token, principal = store.create("regulator")
    live.tokens["regulator"] = token
    assert live.get("regulator", "/v1/national/progress").status_code == 200

    store.revoke(principal.token_id)

    assert live.get("regulator", "/v1/national/progress").status_code == 401


def test_health_names_each_standby_and_its_lag(live: Pair) -> None:
    health = live.client.get("/healthz").json()

    assert health["status"] == "ok"
    assert [s["fresh"] for s in health["standbys"]] == [True]
    assert health["standbys"][0]["position"] >= 1
    assert health["standbys"][0]["behind_seconds"] == 0


def test_the_replica_bench_measures_reads_through_a_server_on_the_standby(live: Pair) -> None:
    """The bench's own measuring code (``scripts/bench_replicas.py``), on this pair: a real
    ``careledger serve`` reading from the standby, reads per second and own writes read back."""
    from scripts.bench_http import start_server
    from scripts.bench_replicas import _own_writes, _reads
    from scripts.bench_run import table
    from scripts.pgcluster import free_port

    budget_id, _ = live.open_budget("council", "P-REPLICA-BENCH")
    live.caught_up()
    port = free_port()
    server = start_server(live.primary.url("ledger"), port, {
        "CARELEDGER_INLINE_PROJECTIONS": "true",
        "CARELEDGER_READ_DATABASE_URL": live.standby.url("ledger")})  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        paths = [f"/v1/budgets/{budget_id}", "/v1/audit?limit=5", "/v1/invoices?limit=5"]
        rate = _reads(base, live.tokens["auditor"], paths, 40)
        own = _own_writes(base, {**live.tokens, "council_code": COUNCIL}, 3)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert rate > 0
    assert 0 < own["p50"] <= own["p99"]
    figures = {"events": 1, "clients": 8, "reads": 40, "primary_reads_per_s": rate,
               "standby_reads_per_s": rate, "ratio": 1.0, "primary_own_write_ms": own,
               "standby_own_write_ms": own}  # fmt: skip
    shown = table({"stores": {}, "replicas": figures}).columns[1]._cells
    assert "own write read back p50/p99 ms, standby" in shown


def test_a_journal_streamed_from_the_standby_is_the_primarys(live: Pair) -> None:
    """A streamed export (a server-side cursor, on the standby) equals the primary's own."""
    from projections.export import journal_lines

    answer = live.get("auditor", "/v1/export/journal")
    primary = "".join(f"{line}\n" for line in journal_lines(live.service.db, "hledger", None, None))

    assert answer.status_code == 200
    assert answer.text == primary
    assert "PooledFund.ContributionReceived" in answer.text  # a real entry, not only headers
