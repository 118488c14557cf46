"""A write's answer carries its log position; a read may ask for the views to have reached one
(``min_position``). Standbys themselves are tested in ``tests/reliability/test_replicas.py``;
here, the primary alone on every backend, in both projection modes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import DDL, TokenStore
from api.settings import Settings
from projections.db import open_view_db
from projections.replicas import Lag, redacted
from projections.service import LedgerService
from scripts.pgcluster import free_port
from tests.api.conftest import Api, budget_body
from tests.support import COUNCIL, World


def test_a_write_answers_with_the_position_of_its_last_event(api: Api) -> None:
    before = api.service.runner.head()

    created = api.post("council", "/v1/budgets", budget_body(), key="pos-1")
    after = api.service.runner.head()
    again = api.post("council", "/v1/budgets", budget_body(), key="pos-1")

    assert created.status_code == 201
    assert before < int(created.headers["CareLedger-Position"]) == after
    # A repeat records nothing: the log's head, at or past the first answer's position.
    assert again.json()["replayed"] is True
    assert int(again.headers["CareLedger-Position"]) >= after
    read = api.get("council", f"/v1/budgets/{created.json()['id']}")
    assert "CareLedger-Position" not in read.headers


def test_a_refused_write_carries_no_position(api: Api) -> None:
    refused = api.post("council", "/v1/budgets", budget_body(council="E99999999"))

    assert refused.status_code in (403, 404, 422)
    assert "CareLedger-Position" not in refused.headers


def test_a_read_at_a_reached_position_is_answered_and_past_the_log_is_a_422(api: Api) -> None:
    created = api.post("council", "/v1/budgets", budget_body())
    position = int(created.headers["CareLedger-Position"])
    path = f"/v1/budgets/{created.json()['id']}"

    read = api.get("council", path, min_position=position)
    ahead = api.get("council", path, min_position=position + 1000)
    malformed = api.get("council", path, min_position=-1)

    assert read.status_code == 200
    assert (ahead.status_code, ahead.json()["type"]) == (422, "/problems/min-position-ahead")
    assert ahead.json()["head"] == position
    assert malformed.status_code == 422


@pytest.fixture
def worker_mode(database_url: str) -> Iterator[tuple[TestClient, LedgerService, str]]:
    """The API with projections left to a worker that is not running: views stand still."""
    settings = Settings(database_url=database_url, inline_projections=False, log_json=True,
                        read_wait_seconds=0.3)  # fmt: skip
    app = create_app(settings)
    with TestClient(app) as client:
        service: LedgerService = app.state.service
        World(service.app).setup(pool_pence=50_000_00)
        service.runner.catch_up()
        token = TokenStore(service.db).create("council", council=COUNCIL)[0]
        yield client, service, token


def test_views_behind_a_worker_make_a_read_wait_then_503_until_they_catch_up(
    worker_mode: tuple[TestClient, LedgerService, str],
) -> None:
    client, service, token = worker_mode
    bearer = {"Authorization": f"Bearer {token}"}
    created = client.post("/v1/budgets", json=budget_body(),
                          headers={**bearer, "Idempotency-Key": "w-1"})  # fmt: skip
    position = int(created.headers["CareLedger-Position"])
    path = f"/v1/budgets/{created.json()['id']}"

    behind = client.get(path, params={"min_position": position}, headers=bearer)
    service.runner.catch_up()  # the worker's turn
    caught_up = client.get(path, params={"min_position": position}, headers=bearer)

    assert behind.status_code == 503
    assert behind.json()["type"] == "/problems/replica-behind"
    assert behind.json()["position"] < position == behind.json()["min_position"]
    assert caught_up.status_code == 200


def test_a_tokens_table_from_before_standbys_gains_the_last_position(tmp_path: Path) -> None:
    db = open_view_db(f"sqlite:///{tmp_path}/old.db")
    try:
        with db.transaction() as cur:
            cur.execute(DDL.replace(", last_position BIGINT NOT NULL DEFAULT 0", ""))
            cur.execute(
                "INSERT INTO careledger_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                ("h", "tok_old", "auditor", None, None, None, None, None, "2026-01-01"),
            )
        assert "last_position" not in db.columns("careledger_tokens")

        store = TokenStore(db)
        store.remember("tok_old", 41)
        store.remember("tok_old", 7)  # never goes back

        assert "last_position" in db.columns("careledger_tokens")
        row = db.query("SELECT last_position FROM careledger_tokens WHERE token_id = 'tok_old'")
        assert row == [{"last_position": 41}]
    finally:
        db.close()


def test_lag_is_the_age_of_the_first_position_a_standby_lacks() -> None:
    lag = Lag(keep=10)
    lag.sample(100.0, 5)
    lag.sample(101.0, 5)  # no change: no new sample
    lag.sample(102.0, 9)
    lag.sample(104.0, 12)

    assert lag.behind(12, now=105.0) == 0
    assert lag.behind(30, now=105.0) == 0
    assert lag.behind(9, now=105.0) == 1.0  # position 12 seen at 104
    assert lag.behind(6, now=105.0) == 3.0  # 9 seen at 102
    assert lag.behind(0, now=105.0) == 5.0  # 5 seen at 100

    lag.sample(120.0, 13)  # a sample goes once the one after it is older than keep (10 s)
    assert [p for _, p in lag.seen] == [12, 13]
    assert lag.behind(0, now=120.0) == 16.0  # over keep, whichever sample says it: stale
    assert lag.behind(12, now=120.0) == 0.0


def test_a_standby_down_from_the_start_is_named_and_reads_answer_503(sqlite_url: str) -> None:
    """Nothing listens at the standby's port: the app starts at once, says so, and every read
    is a clear 503 while writes and tokens on the primary carry on."""
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/ledger"
    settings = Settings(database_url=sqlite_url, read_database_url=nowhere, log_json=True)
    started = time.monotonic()
    with TestClient(create_app(settings)) as client:
        took = time.monotonic() - started
        service: LedgerService = client.app.state.service  # type: ignore[attr-defined]
        World(service.app).setup()
        token = TokenStore(service.db).create("auditor")[0]
        health = client.get("/healthz").json()
        read = client.get("/v1/audit", headers={"Authorization": f"Bearer {token}"})

    assert took < 10
    assert health["status"] == "ok"
    assert health["standbys"][0]["fresh"] is False
    assert health["standbys"][0]["down"].startswith("not answering")
    assert (read.status_code, read.json()["type"]) == (503, "/problems/no-fresh-replica")
    assert read.headers["Retry-After"] == "2"


@pytest.mark.postgres
def test_a_standby_url_that_holds_another_ledger_is_never_read(
    sqlite_url: str, postgres_url: str
) -> None:
    """Pointed by mistake at another store, the app refuses to read it: its log differs."""
    other = LedgerService(postgres_url)
    World(other.app).setup()
    other.close()
    settings = Settings(database_url=sqlite_url, read_database_url=postgres_url, log_json=True)
    with TestClient(create_app(settings)) as client:
        service: LedgerService = client.app.state.service  # type: ignore[attr-defined]
        World(service.app).setup()
        token = TokenStore(service.db).create("auditor")[0]
        health = client.get("/healthz").json()
        read = client.get("/v1/audit", headers={"Authorization": f"Bearer {token}"})

    assert health["standbys"][0]["down"].startswith("not a standby of this store")
    assert health["standbys"][0]["fresh"] is False
    assert (read.status_code, read.json()["type"]) == (503, "/problems/no-fresh-replica")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://reader:s3cret@db1:5432/care", "postgresql://reader:***@db1:5432/care"),
        ("postgresql://reader:p%40ss%3Aw@db1/care", "postgresql://reader:***@db1/care"),
        ("postgresql://reader@db1/care?schema=x", "postgresql://reader@db1/care?schema=x"),
    ],
)
def test_a_standby_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redacted(url) == shown
