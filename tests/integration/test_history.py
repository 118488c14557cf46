"""Every view keeps its own history (``projections.history``): each table read as at any past
instant equals the same view replayed from the log up to the position the instant resolves to,
whatever the pages."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from projections.asat import build_as_at
from projections.history import AsAtDb, as_at_sql, history_tables, mirrored_index
from projections.service import LedgerService
from tests.integration.test_projections import scenario


def _rows(db: object, table: str, columns: str) -> list[str]:
    query = db.query  # type: ignore[attr-defined]
    return sorted(repr(tuple(r.values())) for r in query(f"SELECT {columns} FROM {table}"))


def _instants(service: LedgerService) -> list[int]:
    """Every position an instant can resolve to: the last one recorded at each instant (the
    events of one command share it)."""
    stamps = service.db.query("SELECT position, known_by FROM v_audit ORDER BY position")
    return [
        int(row["position"])
        for row, after in zip(stamps, [*stamps[1:], None], strict=True)
        if after is None or after["known_by"] != row["known_by"]
    ]


def _compare_every_position(service: LedgerService) -> int:
    tables = history_tables(service.db)
    views = [v for v in service.runner.views if getattr(v, "history", True) and v.name != "refs"]
    checked = 0
    for position in _instants(service):
        scratch = build_as_at(service.app, views, position)
        past = AsAtDb(service.db, position)
        try:
            for view in views:
                for table in [t for t in view.tables if t in tables]:  # not the write-once
                    columns = tables[table][0]
                    assert _rows(past, table, columns) == _rows(scratch, table, columns), (
                        position,
                        table,
                    )
                    checked += 1
        finally:
            scratch.close()
    return checked


def test_every_view_as_at_every_instant_equals_a_replay(database_url: str) -> None:
    service = LedgerService(database_url)  # inline: a page per command
    scenario(service)

    assert _compare_every_position(service) > 0


def test_a_commands_events_are_recorded_at_one_instant(tmp_path: Path) -> None:
    service = LedgerService(f"sqlite:///{tmp_path / 'a.db'}")
    scenario(service)

    rows = service.db.query("SELECT command_id, recorded_at FROM v_audit")
    stamps: dict[str, set[str]] = {}
    for row in rows:
        stamps.setdefault(row["command_id"], set()).add(row["recorded_at"])
    assert all(len(s) == 1 for s in stamps.values())
    assert len(set().union(*stamps.values())) == len(stamps) < len(rows)


def test_a_rebuild_in_big_pages_keeps_the_same_history(database_url: str) -> None:
    # One page of many instants: each view writes a version for each instant it changes.
    service = LedgerService(database_url, inline=False)
    scenario(service)
    service.runner.catch_up(page_size=10_000)

    assert _compare_every_position(service) > 0


def test_a_view_rebuilt_forgets_its_old_versions(tmp_path: Path) -> None:
    service = LedgerService(f"sqlite:///{tmp_path / 'a.db'}")
    scenario(service)
    before = service.db.query("SELECT COUNT(*) AS n FROM v_budget_balances__h")[0]["n"]

    service.runner.rebuild(["balances"])

    after = service.db.query("SELECT COUNT(*) AS n FROM v_budget_balances__h")[0]["n"]
    assert before == after > 0
    assert _compare_every_position(service) > 0


def test_a_read_as_at_a_position_is_read_only(tmp_path: Path) -> None:
    service = LedgerService(f"sqlite:///{tmp_path / 'a.db'}")
    scenario(service)

    with pytest.raises(PermissionError), AsAtDb(service.db, 1).transaction(write=True):
        pass


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM v_x WHERE a = 1", "SELECT * FROM (P) AS v_x WHERE a = 1"),
        ("SELECT * FROM v_x x JOIN v_y AS y ON", "SELECT * FROM (P) AS x JOIN (Q) AS y ON"),
        ("SELECT 1 FROM v_x GROUP BY a", "SELECT 1 FROM (P) AS v_x GROUP BY a"),
        ("SELECT 1 FROM v_other", "SELECT 1 FROM v_other"),
        ("SELECT 1 FROM careledger_tokens f", "SELECT 1 FROM careledger_tokens f"),
    ],
)
def test_every_view_table_named_after_from_or_join_is_read_as_at(sql: str, expected: str) -> None:
    rewritten, params = as_at_sql(sql, {"v_x": ("a", None), "v_y": ("b", None)}, 7)

    bounds = "valid_from <= CAST(? AS BIGINT) AND valid_to > CAST(? AS BIGINT)"
    past_x, past_y = f"SELECT a FROM v_x__h WHERE {bounds}", f"SELECT b FROM v_y__h WHERE {bounds}"
    assert rewritten == expected.replace("(P)", f"({past_x})").replace("(Q)", f"({past_y})")
    assert params == (7,) * rewritten.count("?")


def test_the_position_is_bound_in_its_place_among_the_reads_own_parameters() -> None:
    sql = "SELECT * FROM v_x x JOIN v_y y ON x.a = ? WHERE x.b = ? AND y.c = ?"
    rewritten, params = as_at_sql(sql, {"v_x": ("a, b", None), "v_y": ("c", None)}, 7, "pqr")

    # One statement for every instant (parsed once), the position where the text asks for it.
    assert rewritten == as_at_sql(sql, {"v_x": ("a, b", None), "v_y": ("c", None)}, 9, "pqr")[0]
    assert "7" not in rewritten
    assert params == (7, 7, 7, 7, "p", "q", "r")


def test_an_append_only_table_is_read_as_at_by_its_position_column() -> None:
    rewritten, params = as_at_sql(
        "SELECT * FROM v_p WHERE a = ?", {"v_p": ("*", "position")}, 7, [1]
    )

    assert rewritten == (
        "SELECT * FROM (SELECT * FROM v_p WHERE position <= CAST(? AS BIGINT)) AS v_p WHERE a = ?"
    )
    assert params == (7, 1)


def test_the_refusal_log_is_read_as_at_the_instant_asked_for_else_the_positions_own() -> None:
    sql = "SELECT * FROM careledger_refusals f WHERE f.error = ?"
    at_instant = as_at_sql(sql, {}, 7, ["dup"], "2011-05-01T00:00:00.000000+00:00")
    at_position = as_at_sql(sql, {}, 7, ["dup"])

    assert at_instant == (
        "SELECT * FROM (SELECT * FROM careledger_refusals WHERE recorded_at <= ?) AS f"
        " WHERE f.error = ?",
        ("2011-05-01T00:00:00.000000+00:00", "dup"),
    )
    assert at_position == (
        "SELECT * FROM (SELECT * FROM careledger_refusals WHERE recorded_at <="
        " (SELECT known_by FROM v_audit WHERE position = CAST(? AS BIGINT))) AS f"
        " WHERE f.error = ?",
        (7, "dup"),
    )


def test_a_readers_index_is_mirrored_on_the_versions_of_a_versioned_table() -> None:
    statement = "CREATE INDEX IF NOT EXISTS v_x_council ON v_x (council, position)"

    assert mirrored_index(statement, ["v_x"]) == [
        "DROP INDEX IF EXISTS v_x_council__h",
        "CREATE INDEX IF NOT EXISTS v_x_council__hv ON v_x__h"
        " (council, position, valid_to, valid_from)",
    ]
    assert mirrored_index(statement, ["v_y"]) == []


def test_the_tables_that_keep_history_are_read_once_until_the_views_change(
    tmp_path: Path,
) -> None:
    service = _sqlite_scenario(tmp_path)
    tables = history_tables(service.db)
    _forget_registry(service)

    assert history_tables(service.db) == tables  # kept: no query per read
    service.runner.setup()  # the views set up again: the registry is read afresh
    assert history_tables(service.db) == tables
    _forget_registry(service)
    service.runner.rebuild(["balances"])
    assert set(history_tables(service.db)) == {"v_budget_balances"}


def _sqlite_scenario(tmp_path: Path) -> LedgerService:
    service = LedgerService(f"sqlite:///{tmp_path / 'a.db'}")
    scenario(service)
    return service


def _plan(service: LedgerService, sql: str, params: Sequence[object]) -> list[str]:
    return [r["detail"] for r in service.db.query(f"EXPLAIN QUERY PLAN {sql}", params)]


def _forget_registry(service: LedgerService) -> None:
    with service.db.transaction() as cur:
        cur.execute("DELETE FROM careledger_history_tables")


@pytest.mark.postgres
def test_on_postgresql_the_open_version_is_found_by_its_primary_key(postgres_url: str) -> None:
    # ``IS NOT DISTINCT FROM`` cannot use a btree index: every write scanned the whole history.
    service = LedgerService(postgres_url)
    scenario(service)

    [row] = service.db.query("SELECT pg_get_functiondef(CAST('v_councils__hf' AS regproc)) AS body")
    sql = "UPDATE v_councils__h SET valid_to = 1 WHERE code = ?"
    plan = " ".join(r["QUERY PLAN"] for r in service.db.query(f"EXPLAIN {sql}", ("x",)))
    assert "code = OLD.code" in row["body"]
    assert "DISTINCT" not in row["body"]
    assert "v_councils__h_key" in plan  # the index the trigger's lookup uses
    service.close()


def test_a_budgets_audit_trail_as_at_a_position_is_one_range_of_one_index(
    tmp_path: Path,
) -> None:
    service = _sqlite_scenario(tmp_path)
    sql, params = as_at_sql(
        "SELECT * FROM v_audit WHERE budget_id = ? ORDER BY position LIMIT 100",
        history_tables(service.db),
        3,
        ["b"],
    )

    assert _plan(service, sql, params) == [
        "SEARCH v_audit USING INDEX v_audit_budget_id_at (budget_id=? AND position<?)"
    ]


def test_a_budgets_statement_now_and_as_at_a_position_reads_its_own_postings_by_index(
    tmp_path: Path,
) -> None:
    service = _sqlite_scenario(tmp_path)
    sql = (
        "SELECT position, amount_pence FROM v_postings WHERE budget_id = ?"
        " AND account = 'Budgets:Available' ORDER BY position, seq"
    )
    past, params = as_at_sql(sql, history_tables(service.db), 3, ["b"])

    for text, bound in ((sql, ("b",)), (past, params)):
        plan = _plan(service, text, bound)
        assert plan[0].startswith("SEARCH v_postings USING INDEX v_postings_budget (budget_id=?")
        assert not any("TEMP B-TREE" in step for step in plan)  # already in log order


def test_a_read_given_the_wrong_number_of_parameters_is_refused_by_the_database(
    tmp_path: Path,
) -> None:
    service = _sqlite_scenario(tmp_path)
    past = AsAtDb(service.db, 3)

    with pytest.raises(sqlite3.ProgrammingError):
        past.query("SELECT * FROM v_budget_balances WHERE budget_id = ? AND council = ?", ["b"])


def test_a_councils_spend_for_progress_is_read_from_its_own_budgets(tmp_path: Path) -> None:
    from projections.db import written_out
    from projections.views.progress_measures import SPEND_SQL

    service = _sqlite_scenario(tmp_path)
    now = written_out(SPEND_SQL, ("2010-11", "E1", "E1"))
    past = written_out(
        *as_at_sql(SPEND_SQL, history_tables(service.db), 3, ("2010-11", "E1", "E1"))
    )

    for sql, params in (now, past):
        plan = _plan(service, sql, params)
        # never every council's spend rows for the year, then the budgets joined to them
        assert "v_budget_status" in plan[0] and "council=?" in plan[0], plan
