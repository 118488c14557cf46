"""Tamper evidence: edits, deletions and reordering in the event table or a view are detected
by verification, which names the first bad position. On SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from projections.service import LedgerService
from projections.verify import check_extends, take_checkpoint, verify
from tests.integration.test_backends import run_scenario
from tests.support import World

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def service(request: pytest.FixtureRequest) -> Iterator[LedgerService]:
    url = str(request.getfixturevalue(f"{request.param}_url"))
    svc = LedgerService(url)
    run_scenario(World(svc.app).setup(pool_pence=50_000_00))
    yield svc
    svc.close()


def raw(service: LedgerService, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run SQL straight on the database, behind the ledger's back."""
    if service.db.dialect == "sqlite":
        import sqlite3

        path = service.app.env["SQLITE_DBNAME"]
        with sqlite3.connect(path) as conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()
    schema = service.app.env["POSTGRES_SCHEMA"]
    dsn = f"postgresql://postgres@127.0.0.1:5432/{service.app.env['POSTGRES_DBNAME']}"
    with psycopg.connect(dsn, options=f"-c search_path={schema}", autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def events_table(service: LedgerService) -> tuple[str, str]:
    return (
        ("stored_events", "rowid")
        if service.db.dialect == "sqlite"
        else ("careledger_events", "notification_id")
    )


def first_failure(service: LedgerService) -> tuple[str, int | None]:
    report = verify(service.app, service.runner)
    bad = [c for c in report.checks if not c.ok]
    assert bad, "verification passed on a tampered ledger"
    return bad[0].name, bad[0].first_bad_position


def edit_a_byte(service: LedgerService) -> None:
    """Back-date event 10's timestamp by a century: still valid JSON, still a valid date."""
    table, pos = events_table(service)
    (state,) = raw(service, f"SELECT state FROM {table} WHERE {pos} = 10")[0]
    changed = bytes(state).replace(b'"_data_":"20', b'"_data_":"19', 1)
    assert changed != bytes(state)
    raw(service, f"UPDATE {table} SET state = %s WHERE {pos} = 10", (changed,))


def delete_a_row(service: LedgerService) -> None:
    table, pos = events_table(service)
    raw(service, f"DELETE FROM {table} WHERE {pos} = 10")


def swap_two_rows(service: LedgerService) -> None:
    table, pos = events_table(service)
    raw(service, f"UPDATE {table} SET {pos} = -1 WHERE {pos} = 10")
    raw(service, f"UPDATE {table} SET {pos} = 10 WHERE {pos} = 11")
    raw(service, f"UPDATE {table} SET {pos} = 11 WHERE {pos} = -1")


@pytest.mark.parametrize("tamper", [edit_a_byte, delete_a_row, swap_two_rows])
def test_verify_names_the_first_tampered_event(
    service: LedgerService, tamper: Callable[[LedgerService], None]
) -> None:
    assert verify(service.app, service.runner).ok

    tamper(service)

    assert first_failure(service) == ("hash-chain", 10)


def test_a_checkpoint_exposes_a_rewritten_history(service: LedgerService) -> None:
    checkpoint = take_checkpoint(service.app)
    assert check_extends(service.app, checkpoint).ok

    edit_a_byte(service)

    result = check_extends(service.app, checkpoint)
    assert not result.ok and result.first_bad_position == checkpoint.size


def test_an_edited_view_row_is_detected(service: LedgerService) -> None:
    raw(
        service,
        "UPDATE v_postings SET amount_pence = amount_pence + 1 WHERE position = 7 AND seq = 0",
    )

    names = [c.name for c in verify(service.app, service.runner).checks if not c.ok]

    assert names == ["trial-balance", "view:v_postings"]


def test_a_deleted_audit_row_is_detected(service: LedgerService) -> None:
    raw(service, "DELETE FROM v_audit WHERE position = 12")

    assert first_failure(service) == ("hash-chain", 12)


def test_a_forged_audit_hash_is_detected(service: LedgerService) -> None:
    raw(service, "UPDATE v_audit SET hash = %s WHERE position = 5", ("0" * 64,))

    assert first_failure(service) == ("hash-chain", 5)


def test_an_event_that_cannot_be_read_back_fails_the_views_check_and_leaves_no_scratch(
    service: LedgerService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay behind the views check stops at an event that is no longer JSON: the check
    fails by name, and the half-written scratch file (it keeps no journal) is closed and gone."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    table, pos = events_table(service)
    raw(service, f"UPDATE {table} SET state = %s WHERE {pos} = 10", (b"{not json",))

    report = verify(service.app, service.runner)

    views = [c for c in report.checks if c.name == "views"]
    assert [(c.ok, c.detail) for c in views] == [
        (False, "the log cannot be replayed: MapperDeserialisationError")
    ]
    assert first_failure(service) == ("hash-chain", 10)
    assert list(scratch.iterdir()) == []  # the replay's folder went with its file
