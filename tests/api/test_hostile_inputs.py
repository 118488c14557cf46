"""A corpus of hostile inputs through every write route: always a 4xx problem, never a 5xx, and
nothing written. Routes are read from the OpenAPI schema, so a new route is covered at once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import Api, active_budget
from tests.forged import forge

HOSTILE_BODIES: list[tuple[str, bytes, str]] = [
    ("malformed json", b'{"effective_on": "2010-04-05",', "application/json"),
    ("not an object", b"[1, 2, 3]", "application/json"),
    ("empty", b"", "application/json"),
    ("unknown field", b'{"surprise": 1}', "application/json"),
    ("deep nesting", b"[" * 5000 + b"]" * 5000, "application/json"),
    ("huge number", b'{"amount_pence": 1' + b"0" * 400 + b"}", "application/json"),
    ("NaN", b'{"amount_pence": NaN, "effective_on": "2010-04-05"}', "application/json"),
    ("negative", b'{"amount_pence": -5, "effective_on": "2010-04-05"}', "application/json"),
    ("float pence", b'{"amount_pence": 10.5, "effective_on": "2010-04-05"}', "application/json"),
    ("string pence", b'{"amount_pence": "100", "effective_on": "2010-04-05"}', "application/json"),
    (
        "control characters",
        json.dumps({"person_ref": "P\u0000\u202e1", "code": "E\u0007"}).encode(),
        "application/json",
    ),
    (
        "sql fragment",
        json.dumps({"invoice_number": "1'; DROP TABLE stored_events; --"}).encode(),
        "application/json",
    ),
    (
        "over-long string",
        json.dumps({"reason": "x" * 10_000, "person_ref": "y" * 10_000}).encode(),
        "application/json",
    ),
    ("date as number", b'{"effective_on": 20100405}', "application/json"),
    ("wrong content type", b"effective_on=2010-04-05", "application/x-www-form-urlencoded"),
    ("invalid utf-8", b'{"person_ref": "\xff\xfe"}', "application/json"),
]

ROLES = ("admin", "council", "provider", "auditor")


def write_routes(api: Api, budget_id: str, invoice_id: str) -> list[str]:
    paths = api.client.get("/openapi.json").json()["paths"]
    ids = {
        "budget_id": budget_id,
        "invoice_id": invoice_id,
        "id": invoice_id,
        "code": "E09000033",
        "rid": "rep-1",
        "fund_ref": "MH-S75-POOL",
        "provider_id": "1-101234567",
    }
    routes = []
    for path, operations in paths.items():
        if "post" in operations:
            routes.append(path.format_map(_Ids(ids)))
    return routes


class _Ids(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "00000000-0000-0000-0000-000000000000"


def test_every_write_route_refuses_hostile_bodies_with_a_4xx_problem(api: Api) -> None:
    budget_id = active_budget(api)
    invoice = api.post(
        "provider",
        "/v1/invoices",
        {
            "invoice_number": "INV-H1",
            "budget_id": budget_id,
            "period": {"start": "2010-04-05", "end": "2010-05-02"},
            "lines": [{"service": "home-care", "units_hundredths": 4000, "rate_pence": 13_00}],
            "invoice_date": "2010-05-03",
        },
    )
    invoice_id = invoice.json().get("id", "00000000-0000-0000-0000-000000000000")
    before = api.event_count()
    failures: list[str] = []

    for path in write_routes(api, budget_id, invoice_id):
        for role in ROLES:
            for name, body, content_type in HOSTILE_BODIES:
                response = api.client.post(
                    path,
                    content=body,
                    headers=api.headers(
                        role,
                        **{"Idempotency-Key": f"hostile-{name}"[:64], "Content-Type": content_type},
                    ),
                )
                if not (400 <= response.status_code < 500) or not _is_problem(response):
                    failures.append(f"{role} {path} [{name}] → {response.status_code}")

    assert failures == []
    assert api.event_count() == before


def _is_problem(response: Any) -> bool:
    if response.headers.get("content-type") != "application/problem+json":
        return False
    body = response.json()
    return {"type", "title", "status", "detail"} <= set(body) and body[
        "status"
    ] == response.status_code


@pytest.mark.parametrize("size", [300 * 1024, 17 * 1024 * 1024])
def test_an_oversized_body_is_413_before_it_is_read(api: Api, size: int) -> None:
    before = api.event_count()
    path = "/v1/budgets" if size < 1024 * 1024 else "/v1/invoices/batch"

    response = api.client.post(
        path,
        content=b"{" + b" " * size + b"}",
        headers=api.headers(
            "council", **{"Idempotency-Key": "big", "Content-Type": "application/json"}
        ),
    )

    assert response.status_code == 413
    assert response.json()["type"] == "/problems/body-too-large"
    assert api.event_count() == before


# --- cursors --------------------------------------------------------------------------------------

LIST_NAMES = ("invoices", "audit", "exceptions", "statement")
HOSTILE_CURSORS: list[tuple[str, str]] = [
    ("old exceptions overflow", "s:99999999999999999999999.0"),
    ("overflow", forge("audit", [99999999999999999999999])),
    ("phase overflow", forge("exceptions", ["s", 99999999999999999999999, 0])),
    ("negative", forge("invoices", [-1])),
    ("negative pair", forge("statement", [-1, -1])),
    ("float", forge("audit", [1.5])),
    ("not a list", forge("audit", {"position": 1})),
    ("nested", forge("audit", [[[[[1]]]]])),
    ("future version", forge("audit", [1], version=2)),
    ("bad base64", "@@@@"),
    ("truncated", forge("audit", [1])[:-3]),
    ("one character", "A"),
    ("huge", "A" * 5000),
    ("sql fragment", "1;DROP TABLE v_audit"),
    ("empty", ""),
    *((f"another list's ({name})", forge(name, [1])) for name in LIST_NAMES),
]


def list_routes(api: Api, budget_id: str) -> list[str]:
    paths = api.client.get("/openapi.json").json()["paths"]
    return [
        path.replace("{budget_id}", budget_id)
        for path, operations in paths.items()
        if any(p["name"] == "cursor" for p in operations.get("get", {}).get("parameters", []))
    ]


def test_every_list_refuses_hostile_cursors_with_a_400_problem(api: Api) -> None:
    budget_id = active_budget(api)
    routes = list_routes(api, budget_id)
    failures = []

    for path in routes:
        own = path.rsplit("/", 1)[-1]
        for name, cursor in HOSTILE_CURSORS:
            if name == f"another list's ({own})":
                continue  # a forged position of its own list may be a valid one
            response = api.client.get(
                path, params={"cursor": cursor}, headers=api.headers("auditor")
            )
            if response.status_code != 400 or not _is_problem(response):
                failures.append(f"{path} [{name}] → {response.status_code}")
            elif response.json()["type"] != "/problems/invalid-cursor":
                failures.append(f"{path} [{name}] → {response.json()['type']}")

    assert len(routes) == len(LIST_NAMES)
    assert failures == []


def test_every_list_pages_through_its_items_with_the_envelope(api: Api) -> None:
    budget_id = active_budget(api)
    failures = []

    for path in list_routes(api, budget_id):
        whole = api.get("auditor", path, limit=1000).json()
        items, cursor = [], None
        while True:
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            page = api.get("auditor", path, **params).json()
            if not {"items", "next_cursor", "has_more"} <= set(page):
                failures.append(f"{path}: {sorted(page)}")
                break
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if page["has_more"] is not (cursor is not None) or len(page["items"]) > 1:
                failures.append(f"{path}: has_more {page['has_more']}, next {cursor}")
            if cursor is None:
                break
        if items != whole["items"] or whole["has_more"]:
            failures.append(f"{path}: paged {len(items)} items, whole {len(whole['items'])}")

    assert failures == []
