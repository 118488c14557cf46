"""The OpenAPI schema says what the server does, and the server does what it says: walked route by
route from /openapi.json, so a new route is held to the same contract at once."""

from __future__ import annotations

from typing import Any

import pytest

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import Api, active_budget

SCHEMA = create_app(Settings(database_url="memory://", log_json=False)).openapi()
PATHS: dict[str, dict[str, Any]] = SCHEMA["paths"]
WRITES = ("post", "put", "patch", "delete")
LISTS = {"/v1/invoices", "/v1/audit", "/v1/exceptions", "/v1/budgets/{budget_id}/statement"}
# Their response models come with the renaming of the budget and progress figures (issue 11,
# "one meaning per figure"); until then they answer untyped objects.


def operations(*methods: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in PATHS.items()
        for method, operation in item.items()
        if method in methods
    ]


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def query(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}


def body_schema(operation: dict[str, Any]) -> dict[str, Any]:
    content = operation["responses"]["200"].get("content", {})
    media = content.get("application/json") or content.get("text/plain") or {}
    return resolve(media.get("schema", {}))


def test_every_write_declares_a_required_idempotency_key_with_its_bounds() -> None:
    wrong = []
    for path, method, operation in operations(*WRITES):
        if operation.get("x-read-only"):
            continue
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        key = headers.get("idempotency-key", {})
        bounds = {k: key.get("schema", {}).get(k) for k in ("minLength", "maxLength", "pattern")}
        if not key.get("required") or bounds != {
            "minLength": 1,
            "maxLength": 64,
            "pattern": "^[\\t -~]+$",
        }:
            wrong.append(f"{method} {path}")

    assert wrong == []
    assert len(operations(*WRITES)) > 30


def test_every_read_declares_the_body_it_answers() -> None:
    untyped = [
        path
        for path, _, operation in operations("get")
        if not (body_schema(operation).get("properties") or body_schema(operation).get("type"))
    ]

    assert untyped == []


def test_every_route_declares_its_error_responses_as_problems() -> None:
    missing = []
    for path, method, operation in operations("get", *WRITES):
        codes = {"400", "422", "503"} | ({"401"} if path != "/healthz" else set())
        if path == "/healthz":
            codes -= {"422"}
        for code in sorted(codes):
            declared = operation["responses"].get(code, {}).get("content", {})
            if "application/problem+json" not in declared:
                missing.append(f"{method} {path} {code}")

    assert missing == []


def test_every_list_takes_cursor_and_limit_and_answers_the_envelope() -> None:
    paged = {path for path, _, operation in operations("get") if "cursor" in query(operation)}
    wrong = []
    for path in sorted(paged):
        parameters = query(PATHS[path]["get"])
        limit = parameters.get("limit", {}).get("schema", {})
        if (limit.get("minimum"), limit.get("maximum")) != (1, 1000):
            wrong.append(f"{path}: limit {limit}")
        if "after" in parameters or "next" in parameters:
            wrong.append(f"{path}: a second cursor name")
        envelope = set(body_schema(PATHS[path]["get"]).get("properties", {}))
        if not {"items", "next_cursor", "has_more"} <= envelope:
            wrong.append(f"{path}: answers {sorted(envelope)}")

    assert paged == LISTS
    assert wrong == []


def concrete(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.fixture
def ids(api: Api) -> dict[str, str]:
    return {
        "budget_id": active_budget(api),
        "invoice_id": "00000000-0000-0000-0000-000000000000",
        "code": "E09000033",
    }


def _is_problem(response: Any, status: int, kind: str) -> bool:
    return (
        response.status_code == status
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["type"] == f"/problems/{kind}"
    )


def test_every_route_refuses_a_parameter_it_does_not_take(api: Api, ids: dict[str, str]) -> None:
    refused = []
    for path, method, _ in operations("get", *WRITES):
        response = api.client.request(
            method,
            concrete(path, ids),
            params={"bogus": "1"},
            headers=api.headers("auditor", **{"Idempotency-Key": "bogus-param"}),
        )
        if not _is_problem(response, 400, "unknown-parameter"):
            refused.append(f"{method} {path} → {response.status_code}")
        elif response.json()["field"] != "bogus":
            refused.append(f"{method} {path}: names {response.json()['field']}")

    assert refused == []


def test_a_parameter_given_twice_is_refused(api: Api, ids: dict[str, str]) -> None:
    refused = []
    for path, _, operation in operations("get"):
        for name in query(operation):
            url = f"{concrete(path, ids)}?{name}=1&{name}=2"
            response = api.client.get(url, headers=api.headers("auditor"))
            if not _is_problem(response, 400, "repeated-parameter"):
                refused.append(f"{path} {name} → {response.status_code}")

    assert refused == []


def test_the_old_cursor_names_are_refused_not_ignored(api: Api) -> None:
    """Paging with the wrong name used to answer page 1 for ever."""
    response = api.get("auditor", "/v1/invoices", after="5")

    assert _is_problem(response, 400, "unknown-parameter")
    assert "cursor" in response.json()["allowed"]


@pytest.mark.parametrize(
    ("path", "low", "high"),
    [
        ("/v1/audit", "2011-01-02T00:00:00Z", "2011-01-01T00:00:00Z"),
        ("/v1/spend-by-provider", "2011-02", "2011-01"),
    ],
)
def test_a_range_that_runs_backwards_is_refused(api: Api, path: str, low: str, high: str) -> None:
    response = api.get("auditor", path, **{"from": low, "to": high})

    assert _is_problem(response, 422, "invalid-request")
    assert response.json()["field"] == "to"


@pytest.mark.parametrize(
    ("key", "kind"),
    [(None, "idempotency-key-required"), ("k" * 65, "invalid-idempotency-key"),
     ("", "invalid-idempotency-key"), (b"caf\xe9", "invalid-idempotency-key")],
)  # fmt: skip
def test_a_missing_or_malformed_idempotency_key_is_400_and_writes_nothing(
    api: Api, key: Any, kind: str
) -> None:
    before = api.event_count()
    headers = api.headers("admin")
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {"provider_ref": "1-555", "name": "Care Ltd", "effective_on": "2010-04-01"}

    response = api.client.post("/v1/providers", json=body, headers=headers)

    assert response.status_code == 400, response.text
    assert response.json()["type"] == f"/problems/{kind}"
    assert api.event_count() == before


def test_every_query_parameter_says_what_it_is(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]

    undescribed = [
        (method.upper(), path, p["name"])
        for path, operations in paths.items()
        for method, operation in operations.items()
        for p in operation.get("parameters", [])
        if p["in"] == "query" and not (p.get("description") or p["schema"].get("description"))
    ]

    assert undescribed == []
