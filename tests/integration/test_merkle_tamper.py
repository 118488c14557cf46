"""Tampering with one event row, behind the ledger's back, is caught by what a regulator holds:
the edited entry's inclusion proof fails against the signed checkpoint; rebuilding the tree to
cover the edit makes the log inconsistent with any checkpoint kept from before; and
``verify`` names the edited position. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date

import pytest

from ledger.provenance import Provenance
from projections import tlog
from projections.service import LedgerService
from projections.verify import verify
from scripts.tlog_verify import (
    CheckFailedError,
    leaf_hash,
    parse_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from tests.integration.test_backends import run_scenario
from tests.integration.test_tamper import edit_a_byte
from tests.support import World

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def service(request: pytest.FixtureRequest) -> Iterator[LedgerService]:
    url = str(request.getfixturevalue(f"{request.param}_url"))
    svc = LedgerService(url)
    run_scenario(World(svc.app).setup(pool_pence=50_000_00))
    yield svc
    svc.close()


def kept_checkpoint(service: LedgerService) -> tuple[int, bytes]:
    note = tlog.signed_checkpoint(service)["signed_note"]
    _, size, root = parse_checkpoint(note, [tlog.public_key(service)["verifier_key"]])
    return size, root


def leaf_of(service: LedgerService, position: int) -> int:
    rows = service.db.query(
        "SELECT leaf_index FROM v_merkle_leaves WHERE position = ?", (position,)
    )
    return int(rows[0]["leaf_index"])


def included(service: LedgerService, index: int, size: int, root: bytes) -> bool:
    leaf = base64.b64decode(tlog.entry(service, index)["leaf"])
    hashes = [base64.b64decode(h) for h in tlog.inclusion(service, index, size)["hashes"]]
    try:
        verify_inclusion(index, size, leaf_hash(leaf), hashes, root)
    except CheckFailedError:
        return False
    return True


def consistent(service: LedgerService, size: int, root: bytes, now: tuple[int, bytes]) -> bool:
    hashes = [base64.b64decode(h) for h in tlog.consistency(service, size, now[0])["hashes"]]
    try:
        verify_consistency(size, now[0], hashes, root, now[1])
    except CheckFailedError:
        return False
    return True


def test_an_edited_event_fails_its_inclusion_proof_and_verify_names_it(
    service: LedgerService,
) -> None:
    size, root = kept_checkpoint(service)
    index = leaf_of(service, 10)
    assert included(service, index, size, root)
    assert verify(service.app, service.runner).ok

    edit_a_byte(service)  # event 10's state, rewritten in the event table

    merkle = [c for c in verify(service.app, service.runner).checks if c.name == "merkle-tree"]
    assert not included(service, index, size, root)
    assert (merkle[0].ok, merkle[0].first_bad_position) == (False, 10)


def test_a_tree_rebuilt_over_an_edit_is_inconsistent_with_a_kept_checkpoint(
    service: LedgerService,
) -> None:
    kept_size, kept_root = kept_checkpoint(service)
    admin = Provenance("admin-2", "admin", "register-hartlepool")
    service.app.register_council("E06000001", "Hartlepool", date(2010, 4, 1), admin)
    index = leaf_of(service, 10)
    assert consistent(service, kept_size, kept_root, kept_checkpoint(service))

    edit_a_byte(service)
    service.runner.rebuild(["merkle"])  # the operator re-hashes the edited log
    now = kept_checkpoint(service)

    assert now[0] > kept_size
    assert included(service, index, now[0], now[1])  # the new tree covers the edit …
    assert not consistent(service, kept_size, kept_root, now)  # … but breaks the kept one
