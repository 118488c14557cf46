"""The verifiable log over HTTP (DESIGN.md §9): the signed checkpoint, entries with their leaf
bytes, inclusion and consistency proofs that the offline verifier accepts, the verifier key for
anyone, bad sizes as problems, and who may read what."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from scripts import tlog_verify
from tests.api.conftest import Api
from tests.support import COUNCIL, OTHER_COUNCIL, World, count_events

OTHERS = ("admin", "council", "provider")


def build(api: Api) -> World:
    world = World(api.service.app)
    world.active_budget()
    return world


def key(api: Api) -> str:
    response = api.client.get("/v1/audit/public-key")
    assert response.status_code == 200
    return str(response.json()["verifier_key"])


def checkpoint(api: Api) -> tuple[dict[str, Any], int, bytes]:
    body = api.get("regulator", "/v1/audit/checkpoint").json()
    _, size, root = tlog_verify.parse_checkpoint(body["signed_note"], [key(api)])
    return body, size, root


def test_the_signed_checkpoint_verifies_with_the_public_key_and_counts_every_event(
    api: Api,
) -> None:
    build(api)
    body, size, root = checkpoint(api)

    assert size == body["tree_size"] == count_events(api.service.app)
    assert base64.b64decode(body["root_hash"]) == root
    assert {"size", "head_hash", "taken_at"} <= body.keys()  # the chain's checkpoint stays
    assert body["signed_note"].split("\n")[:2] == [key(api).split("+")[0], str(size)]


def test_every_entry_is_included_in_the_checkpoint_and_its_leaf_names_its_event(api: Api) -> None:
    build(api)
    _, size, root = checkpoint(api)

    for index in range(size):
        entry = api.get("auditor", f"/v1/audit/entries/{index}").json()
        proof = api.get("regulator", f"/v1/audit/entries/{index}/proof", size=size).json()
        leaf = base64.b64decode(entry["leaf"])
        fields = tlog_verify.decode_leaf(leaf)
        hashes = [base64.b64decode(h) for h in proof["hashes"]]

        tlog_verify.verify_inclusion(index, size, tlog_verify.leaf_hash(leaf), hashes, root)
        assert fields["position"] == entry["position"]
        assert f"{fields['aggregate_id']}/{fields['version']}" == entry["provenance"]["entry_id"]
        assert (proof["leaf_index"], proof["tree_size"]) == (index, size)


def test_a_later_checkpoint_is_proved_consistent_with_a_kept_one(api: Api) -> None:
    world = build(api)
    _, kept, kept_root = checkpoint(api)
    world.active_budget()
    _, size, root = checkpoint(api)

    proof = api.get("regulator", "/v1/audit/consistency", **{"from": kept, "to": size}).json()
    default_to = api.get("regulator", "/v1/audit/consistency", **{"from": kept}).json()
    hashes = [base64.b64decode(h) for h in proof["hashes"]]

    assert size > kept
    tlog_verify.verify_consistency(kept, size, hashes, kept_root, root)
    assert (proof["from"], proof["to"]) == (kept, size)
    assert default_to == proof


def test_proofs_the_log_cannot_give_are_problems(api: Api) -> None:
    build(api)
    size = count_events(api.service.app)
    asks = [
        (f"/v1/audit/entries/{size}/proof", {}, 422),  # index ≥ the tree's size
        ("/v1/audit/entries/3/proof", {"size": 3}, 422),  # index ≥ the asked size
        ("/v1/audit/entries/0/proof", {"size": size + 1}, 422),  # beyond the log
        ("/v1/audit/entries/0/proof", {"size": -1}, 422),
        ("/v1/audit/consistency", {"from": 0, "to": size}, 422),
        ("/v1/audit/consistency", {"from": 3, "to": 2}, 422),
        ("/v1/audit/consistency", {"from": 1, "to": size + 1}, 422),
        ("/v1/audit/consistency", {}, 422),
        (f"/v1/audit/entries/{size}", {}, 404),
        ("/v1/audit/entries/-1", {}, 422),
    ]
    for path, params, status in asks:
        response = api.get("regulator", path, **params)
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"


def test_proofs_are_for_auditors_and_regulators_and_the_key_for_anyone(api: Api) -> None:
    build(api)
    for who in OTHERS:
        assert api.get(who, "/v1/audit/entries/0").status_code == 403
        assert api.get(who, "/v1/audit/entries/0/proof").status_code == 403
        assert api.get(who, "/v1/audit/consistency", **{"from": 1}).status_code == 403
    assert api.client.get("/v1/audit/entries/0/proof").status_code == 401
    assert api.client.get("/v1/audit/public-key").status_code == 200


def test_a_council_auditor_reads_only_its_councils_entries(api: Api) -> None:
    build(api)
    own = api.token("auditor", council=COUNCIL)
    other = api.token("auditor", council=OTHER_COUNCIL)
    size = count_events(api.service.app)
    councils = [
        api.get("auditor", f"/v1/audit/entries/{i}").json()["provenance"]["council"]
        for i in range(size)
    ]
    index = councils.index(COUNCIL)

    mine = api.client.get(f"/v1/audit/entries/{index}", headers={"Authorization": f"Bearer {own}"})
    theirs = api.client.get(
        f"/v1/audit/entries/{index}", headers={"Authorization": f"Bearer {other}"}
    )
    assert (mine.status_code, theirs.status_code) == (200, 404)


def test_the_signing_key_is_made_once_outside_the_store_and_private(
    api: Api, signing_key_file: Path
) -> None:
    first = key(api)

    assert signing_key_file.stat().st_mode & 0o777 == 0o600
    assert key(api) == first
    name, hex_id, blob = first.split("+", 2)
    raw = base64.b64decode(blob)
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == hex_id
    assert (
        signing_key_file.read_text().split("+", 4)[4].strip()
        not in api.client.get("/v1/audit/public-key").text
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_kept_checkpoint_posted_back_is_checked_against_the_tree_too(api: Api) -> None:
    build(api)
    body, _, _ = checkpoint(api)
    forged_root = base64.b64encode(bytes(32)).decode()

    kept = api.client.post("/v1/audit/checkpoint/check", json=body, headers=api.headers("auditor"))
    forged = api.client.post(
        "/v1/audit/checkpoint/check",
        json={**body, "root_hash": forged_root},
        headers=api.headers("auditor"),
    )

    assert (kept.status_code, kept.json()["ok"]) == (200, True)
    assert (forged.json()["ok"], forged.json()["name"]) == (False, "merkle-checkpoint")
