"""Schemathesis over the whole OpenAPI schema: for every route, generated requests (valid and
not) never get a 5xx, and every response matches the schema (status declared, body shape,
content type). Run for a council officer and an auditor, whose tokens reach most routes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from api.app import create_app
from api.auth import TokenStore
from api.settings import Settings
from tests.support import COUNCIL, World

app = create_app(Settings(database_url="memory://", log_json=False))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# An over-long batch may be refused by the body limit (413, declared) before validation sees it.
schema.config.checks.negative_data_rejection.expected_statuses.append("413")
_state: dict[str, Any] = {}


def client() -> TestClient:
    """One running app for the module, with a council, a budget and tokens."""
    if "client" not in _state:
        test_client = TestClient(app)
        test_client.__enter__()
        service = app.state.service
        world = World(service.app).setup(pool_pence=50_000_00)
        world.active_budget()
        store = TokenStore(service.db)
        _state.update(
            client=test_client,
            council=store.create("council", council=COUNCIL)[0],
            auditor=store.create("auditor")[0],
            today=date.today(),
        )
    return _state["client"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("role", ["council", "auditor"])
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case: Any, role: str) -> None:
    session = client()
    headers = {"Authorization": f"Bearer {_state[role]}", "Idempotency-Key": uuid.uuid4().hex}
    case.call_and_validate(headers=headers, session=session)
