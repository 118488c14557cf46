"""A real app on each backend, a real HTTP client, and ready tokens for every role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import TokenStore
from api.settings import Settings
from projections.service import LedgerService
from tests.support import COUNCIL, OTHER_COUNCIL, POOL, PROVIDER, World, count_events

OTHER_PROVIDER = "1-999888777"


@dataclass
class Api:
    """The client, the service behind it, and a bearer token per role."""

    client: TestClient
    service: LedgerService
    tokens: dict[str, str]
    keys: count[int] = field(default_factory=count)

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def post(
        self, who: str, path: str, body: Any = None, key: str | None = None, **headers: str
    ) -> Any:
        key = key or f"key-{next(self.keys)}"
        return self.client.post(
            path, json=body, headers=self.headers(who, **{"Idempotency-Key": key}, **headers)
        )

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers(who))

    def event_count(self) -> int:
        return count_events(self.service.app)

    def token(self, role: str, **scope: str | None) -> str:
        token, _ = TokenStore(self.service.db).create(role, **scope)
        return token


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=database_url, log_json=True))
    with TestClient(app) as client:
        service: LedgerService = app.state.service
        world = World(service.app).setup(pool_pence=50_000_00)
        service.app.register_council(OTHER_COUNCIL, "Birmingham", date(2010, 4, 1), world.admin())
        service.app.register_provider(
            OTHER_PROVIDER, "Other Care Ltd", date(2009, 1, 1), world.admin()
        )
        store = TokenStore(service.db)
        tokens = {
            "admin": store.create("admin")[0],
            "council": store.create("council", council=COUNCIL)[0],
            "other_council": store.create("council", council=OTHER_COUNCIL)[0],
            "provider": store.create("provider", provider=PROVIDER)[0],
            "other_provider": store.create("provider", provider=OTHER_PROVIDER)[0],
            "auditor": store.create("auditor")[0],
            "regulator": store.create("regulator")[0],
        }
        yield Api(client, service, tokens)


def budget_body(**overrides: Any) -> dict[str, Any]:
    return {
        "council": COUNCIL,
        "person_ref": "P-000123",
        "primary_support_reason": "physical",
        "effective_on": "2010-04-05",
        **overrides,
    }


def approval_body(
    total: int = 10_000_00, client: int = 1_000_00, pooled: int = 0
) -> dict[str, Any]:
    streams = [{"source": "council-fund", "amount_pence": total - client - pooled}]
    if pooled:
        streams.append({"source": "pooled-fund", "amount_pence": pooled, "pooled_fund": POOL})
    return {
        "total_pence": total,
        "client_contribution_pence": client,
        "council_contribution_pence": total - client,
        "streams": streams,
        "contingency_pence": 500_00,
        "effective_on": "2010-04-05",
    }


def active_budget(api: Api, deployment: str = "mixed") -> str:
    """Open, plan, approve and deploy a budget through the API, as the council."""
    budget_id: str = api.post("council", "/v1/budgets", budget_body()).json()["id"]
    plan = {
        "lines": [
            {
                "service": "home-care",
                "units_per_week_hundredths": 1000,
                "rate_pence": 13_00,
                "provider_id": PROVIDER,
            }
        ],
        "effective_on": "2010-04-05",
    }
    assert api.post("council", f"/v1/budgets/{budget_id}/support-plan", plan).status_code == 200
    assert (
        api.post("council", f"/v1/budgets/{budget_id}/approval", approval_body()).status_code == 200
    )
    body = {"kind": deployment, "effective_on": "2010-04-05"}
    if deployment == "mixed":
        body["direct_payment_pence"] = 5_000_00
    assert api.post("council", f"/v1/budgets/{budget_id}/deployment", body).status_code == 200
    return budget_id
