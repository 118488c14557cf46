"""/healthz through a real client against the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.support import World


def test_healthz_says_empty_for_a_store_without_events_and_ok_once_it_has_some(
    database_url: str,
) -> None:
    with TestClient(create_app(Settings(database_url=database_url, log_json=True))) as client:
        empty = client.get("/healthz")
        World(client.app.state.service.app).setup()  # type: ignore[attr-defined]
        loaded = client.get("/healthz")

    assert empty.status_code == 200
    assert empty.json() == {"status": "empty", "events": 0, "standbys": None}
    assert loaded.status_code == 200
    assert loaded.json()["status"] == "ok" and loaded.json()["events"] > 0


def test_healthz_is_503_problem_when_the_store_is_down(sqlite_url: str) -> None:
    with TestClient(create_app(Settings(database_url=sqlite_url, log_json=True))) as client:
        client.app.state.service.app.recorder.datastore.close()  # type: ignore[attr-defined]

        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/store-unavailable"


def test_every_response_echoes_a_request_id(sqlite_url: str) -> None:
    with TestClient(create_app(Settings(database_url=sqlite_url, log_json=True))) as client:
        given = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
        made = client.get("/healthz", headers={"X-Request-ID": "bad id; drop"})

    assert given.headers["X-Request-ID"] == "trace-42"
    assert len(made.headers["X-Request-ID"]) == 32


def test_the_request_log_names_the_route_status_and_actor_but_no_body(sqlite_url: str) -> None:
    from structlog.testing import capture_logs

    from api.auth import TokenStore

    app = create_app(Settings(database_url=sqlite_url, log_json=True))
    with TestClient(app) as client:
        token, who = TokenStore(app.state.service.db).create("auditor")
        with capture_logs() as logs:
            client.get("/v1/audit", headers={"Authorization": f"Bearer {token}"})

    [line] = [entry for entry in logs if entry["event"] == "request"]
    assert (line["route"], line["status"], line["actor"], line["role"]) == (
        "/v1/audit",
        200,
        who.token_id,
        "auditor",
    )
    assert "duration_ms" in line and "body" not in line
