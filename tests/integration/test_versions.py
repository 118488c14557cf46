"""A view writing its own versions (``projections.versions``): one call a page, whatever the
page's instants, and the same versions the triggers wrote — each row true from the last position
recorded at its instant until the next change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from projections import history
from projections.db import ViewDb, open_view_db
from projections.history import FOREVER
from projections.service import LedgerService
from projections.versions import Table
from tests.integration.test_projections import scenario

TABLE = Table("v_t", ("k", "y", "n"), ("k", "y"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> ViewDb:
    db = open_view_db(str(request.getfixturevalue(f"{request.param}_url")))
    with db.schema_transaction() as cur:
        history.setup(cur)
        cur.execute("CREATE TABLE v_t (k TEXT, y TEXT, n BIGINT, PRIMARY KEY (k, y))")
        history.keep_history(cur, "v_t", triggers=False)
    return db


def _page(db: ViewDb, *changes: tuple[str, int | None, int | None]) -> None:
    """``changes``: (key, n or None to delete, stamp), one page."""
    with db.transaction() as cur:
        rows = TABLE.rows(cur)
        for k, n, stamp in changes:
            if n is None:
                rows.delete((k, "2011"), stamp)
            else:
                rows.put({"k": k, "y": "2011", "n": n}, stamp)
        rows.flush()


def _versions(db: ViewDb) -> list[tuple[Any, ...]]:
    sql = "SELECT k, n, valid_from, valid_to FROM v_t__h ORDER BY k, valid_from"
    return [tuple(r.values()) for r in db.query(sql)]


def test_each_instant_that_changes_a_row_is_one_version_until_the_next(db: ViewDb) -> None:
    # Two writes at one instant are its last; a write that changes nothing is no version.
    _page(db, ("a", 1, 5), ("a", 2, 5), ("a", 3, 7), ("b", 1, 7), ("b", 1, 8))
    _page(db, ("a", 4, 9), ("b", None, 11))

    assert _versions(db) == [
        ("a", 2, 5, 7),
        ("a", 3, 7, 9),
        ("a", 4, 9, FOREVER),
        ("b", 1, 7, 11),
    ]
    assert db.query("SELECT k, n FROM v_t") == [{"k": "a", "n": 4}]


def test_a_row_read_before_it_is_written_is_the_pages_latest(db: ViewDb) -> None:
    _page(db, ("a", 1, 5))
    with db.transaction() as cur:
        rows = TABLE.rows(cur)
        row = rows.get(("a", "2011"))
        assert row == {"k": "a", "y": "2011", "n": 1}
        rows.put({**row, "n": 2}, 6)
        assert rows.get(("a", "2011")) == {"k": "a", "y": "2011", "n": 2}
        assert rows.get(("z", "2011")) is None
        rows.flush()

    assert _versions(db) == [("a", 1, 5, 6), ("a", 2, 6, FOREVER)]


def test_many_rows_a_page_close_their_open_versions_at_once(db: ViewDb) -> None:
    # Many keys: on PostgreSQL the open versions are closed by one UPDATE … FROM a COPY.
    keys = [f"k{i:03}" for i in range(120)]
    _page(db, *((k, 1, 5) for k in keys))
    _page(db, *((k, 2, 9) for k in keys[::2]))

    versions = _versions(db)
    assert len(versions) == 180
    assert versions[:3] == [("k000", 1, 5, 9), ("k000", 2, 9, FOREVER), ("k001", 1, 5, FOREVER)]


def test_without_stamps_only_the_live_rows_are_written(db: ViewDb) -> None:
    _page(db, ("a", 1, None), ("a", 2, None))

    assert db.query("SELECT n FROM v_t") == [{"n": 2}]
    assert _versions(db) == []


def test_a_keys_rows_read_whole_by_its_first_column(db: ViewDb) -> None:
    _page(db, ("a", 1, 5))
    with db.transaction() as cur:
        rows = TABLE.rows(cur)
        rows.load_by_first(["a", "b"])
        assert rows.keys_of("a") == [("a", "2011")]
        assert rows.keys_of("b") == []
        assert rows.get(("b", "2012")) is None
        assert cur.execute("SELECT COUNT(*) AS n FROM v_t").fetchone()["n"] == 1


def _calls(service: LedgerService) -> dict[str, int]:
    calls: dict[str, int] = {}
    for view in service.runner.views:
        project = view.project

        def counted(
            cur: Any, items: Any, refs: Any, project: Any = project, name: str = view.name
        ) -> None:
            calls[name] = calls.get(name, 0) + 1
            project(cur, items, refs)

        view.project = counted  # type: ignore[method-assign]
    return calls


def test_a_page_of_many_instants_is_projected_once_by_each_view(tmp_path: Path) -> None:
    # Handing a page over an instant at a time was a call per view per command: on a live
    # service's log, one per event (a rebuild with history took 3.4 times the one without).
    service = LedgerService(f"sqlite:///{tmp_path / 'a.db'}", inline=False)
    scenario(service)
    calls = _calls(service)

    service.runner.catch_up(page_size=10_000)

    instants = service.db.query("SELECT COUNT(DISTINCT recorded_at) AS n FROM v_audit")
    assert instants[0]["n"] > 10
    assert calls == {view.name: 1 for view in service.runner.views}
    service.close()


def test_tables_versioned_by_their_view_have_no_triggers(tmp_path: Path) -> None:
    service = LedgerService(f"sqlite:///{tmp_path / 'a.db'}")
    scenario(service)

    rows = service.db.query("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
    triggered = {r["tbl_name"] for r in rows}
    assert "v_budget_balances" not in triggered
    assert "v_budget_status" not in triggered
    assert "v_councils" in triggered  # written a few times a year: by trigger
    assert service.db.query("SELECT COUNT(*) AS n FROM v_budget_balances__h")[0]["n"] > 0
    service.close()
