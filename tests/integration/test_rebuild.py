"""A rebuild's shortcuts keep every view exactly as projecting event by event would, on SQLite
and PostgreSQL: readers' indexes built at the end, bulk writes, a bounded refs cache, pages read
before the lock, a balance fold that changes a private copy, and views split over processes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import date

import pytest
from typer.testing import CliRunner

from ledger.budget import PersonalBudget
from projections import refs as refs_module
from projections.balance import apply, fold
from projections.bulk import FEW, insert_rows
from projections.db import SqlCursor, ViewDb
from projections.parallel import RebuildFailedError, groups, rebuild_in_processes
from projections.refs import RefsView
from projections.runner import Item, Runner
from projections.service import LedgerService, all_views
from projections.verify import table_rows
from scripts.cli import app as cli
from tests.integration.test_backends import run_scenario
from tests.support import FOUR_WEEKS, PROVIDER, World

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def service(url: str) -> Iterator[LedgerService]:
    """Inline: every command's events are projected when it returns, a page at a time."""
    svc = LedgerService(url)
    yield svc
    svc.close()


def busy_ledger(service: LedgerService) -> World:
    """The backends' scenario, then a batch of invoices: pages of more than ``FEW`` rows per
    table, so PostgreSQL's bulk path (COPY into a staging table) is taken in a rebuild."""
    world = World(service.app).setup(pool_pence=50_000_00)
    run_scenario(world)
    budget_id = world.active_budget()
    drafts = [world.draft(budget_id, f"BULK-{n}", hours_hundredths=100) for n in range(FEW + 10)]
    service.app.post_invoices(PROVIDER, drafts, world.as_provider())
    service.app.issue_cash_payment(budget_id, 100_00, FOUR_WEEKS, date(2010, 4, 6), world.prov())
    return world


def snapshot(service: LedgerService) -> dict[str, list[tuple[str, ...]]]:
    return {t: table_rows(service.db, t) for v in service.runner.views for t in v.tables}


def index_names(db: ViewDb, cur: SqlCursor | None = None) -> set[str]:
    if db.dialect == "postgres":
        sql = "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    rows = cur.execute(sql).fetchall() if cur is not None else db.query(sql)
    return {r["name"] for r in rows}


def readers_indexes(service: LedgerService) -> set[str]:
    """The index names the views' ``indexes`` statements create ('CREATE INDEX IF NOT EXISTS
    <name> ON ...')."""
    return {s.split()[5] for v in service.runner.views for s in v.indexes}


class Probe:
    """A view that notes which indexes exist while it projects (and can be made to fail)."""

    name = "probe"
    tables: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()

    def __init__(self, db: ViewDb, fail: bool = False) -> None:
        self.db, self.fail, self.seen = db, fail, set[str]()

    def create(self, cur: SqlCursor) -> None:
        pass

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        self.seen |= index_names(self.db, cur)
        if self.fail:
            raise RuntimeError("the probe fails")


def test_a_rebuild_gives_every_view_the_rows_projecting_command_by_command_gave(
    service: LedgerService,
) -> None:
    busy_ledger(service)
    before = snapshot(service)

    read = service.runner.rebuild([v.name for v in service.runner.views])

    assert read == len(service.app.recorder.select_notifications(1, 100_000))
    assert snapshot(service) == before
    assert sum(len(rows) for rows in before.values()) > 4 * FEW  # the bulk paths had work


def test_a_rebuild_builds_the_readers_indexes_after_the_views_have_caught_up(
    service: LedgerService,
) -> None:
    busy_ledger(service)
    wanted = readers_indexes(service)
    assert wanted <= index_names(service.db)  # set up with them
    probe = Probe(service.db)
    runner = Runner(service.app, service.db, [*all_views(), probe])

    runner.rebuild([v.name for v in runner.views])

    assert not wanted & probe.seen  # none existed while the views were projected
    assert wanted <= index_names(service.db)


def test_a_failed_rebuild_still_builds_the_readers_indexes(service: LedgerService) -> None:
    busy_ledger(service)
    runner = Runner(service.app, service.db, [*all_views(), Probe(service.db, fail=True)])

    with pytest.raises(RuntimeError, match="the probe fails"):
        runner.rebuild(["audit", "probe"])

    assert readers_indexes(service) <= index_names(service.db)


def test_views_match_with_a_refs_cache_far_smaller_than_the_ledger(
    service: LedgerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refs evicted from the cache are read back, a page's at once, so memory stays bounded."""
    busy_ledger(service)
    before = snapshot(service)
    monkeypatch.setattr(refs_module, "CACHE_SIZE", 3)
    runner = Runner(service.app, service.db, all_views(), page_size=7)

    runner.rebuild([v.name for v in runner.views if v.name != "refs"])

    assert snapshot(service) == before
    assert len(runner.refs._cache) <= 3


def test_a_page_read_before_a_view_went_back_is_read_again(service: LedgerService) -> None:
    """Pages are read and decoded before the lock is taken; if a view has meanwhile gone back
    (a rebuild elsewhere), the page is not applied to it."""
    world = busy_ledger(service)
    runner = Runner(service.app, service.db, all_views())  # a second worker
    start = runner.head()
    budget_id = world.active_budget()  # projected inline by the service's own runner
    before = snapshot(service)
    service.runner.reset(["journal"])  # ... and the journal goes back to position 0
    items = runner._read(start, 1000, None)

    assert items and not runner._apply(items, start)
    assert table_rows(service.db, "v_postings") == []

    runner.catch_up()

    assert table_rows(service.db, "v_postings") == before["v_postings"]
    assert service.db.query("SELECT 1 FROM v_refs WHERE aggregate_id = ?", (budget_id,))


@pytest.mark.parametrize("conflict", ["DO NOTHING", "DO UPDATE SET amount = excluded.amount"])
def test_bulk_rows_meet_existing_keys_as_the_conflict_clause_says(url: str, conflict: str) -> None:
    service = LedgerService(url, views=[])
    try:
        with service.db.transaction() as cur:
            cur.execute("CREATE TABLE t_bulk (k TEXT PRIMARY KEY, amount BIGINT, note TEXT)")
            insert_rows(
                cur, "t_bulk", ("k", "amount", "note"), [(f"k{i:03}", i, None) for i in range(FEW)]
            )
            # twice in one transaction, each batch large enough for the bulk path; the second
            # meets keys the first wrote
            for batch, factor in ((range(FEW // 2, 2 * FEW), 1), (range(FEW, 3 * FEW), 10)):
                rows = [(f"k{i:03}", -i * factor, "new") for i in batch]
                insert_rows(
                    cur, "t_bulk", ("k", "amount", "note"), rows, f"ON CONFLICT (k) {conflict}"
                )
        got = {r["k"]: (r["amount"], r["note"]) for r in service.db.query("SELECT * FROM t_bulk")}
    finally:
        service.close()

    kept = conflict == "DO NOTHING"
    assert len(got) == 3 * FEW
    assert got["k000"] == (0, None)
    assert got[f"k{FEW - 1:03}"] == ((FEW - 1, None) if kept else (1 - FEW, None))
    assert got[f"k{FEW:03}"] == ((-FEW, "new") if kept else (-10 * FEW, "new"))
    assert got[f"k{3 * FEW - 1:03}"] == (-10 * (3 * FEW - 1), "new")


def test_a_fold_equals_applying_each_event_and_leaves_its_input_as_it_was(
    service: LedgerService,
) -> None:
    world = busy_ledger(service)
    budgets = [e.originator_id for e in world.events() if isinstance(e, PersonalBudget.Opened)]
    for budget_id in budgets:
        events = list(service.app.events.get(budget_id))
        for split in range(1, len(events)):
            start = None
            for event in events[:split]:
                start = apply(start, event)
            assert start is not None
            kept = dataclasses.asdict(start)
            expected = start
            for event in events[split:]:
                expected = apply(expected, event)

            assert fold(start, events[split:]) == expected
            assert dataclasses.asdict(start) == kept
        assert fold(None, events) == expected


class Unbuildable:
    """A view no rebuild process can construct (it needs an argument)."""

    name = "unbuildable"
    tables: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()

    def __init__(self, needed: object) -> None:
        self.needed = needed

    def create(self, cur: SqlCursor) -> None:
        pass

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        pass


def test_views_split_into_groups_of_about_equal_work() -> None:
    views = all_views()
    split = groups([RefsView(), *views], 2)

    assert sorted(v.name for g in split for v in g) == sorted(["refs", *(v.name for v in views)])
    assert [len({v.name for v in g} & {"balances", "invoices"}) for g in split] == [1, 1]
    assert len(groups(views[:1], 4)) == 1


def test_a_rebuild_in_two_processes_gives_every_view_the_same_rows(
    service: LedgerService,
) -> None:
    """Refs is in one process; the other follows it."""
    busy_ledger(service)
    before = snapshot(service)
    names = [v.name for v in service.runner.views]

    read = rebuild_in_processes(service.runner, names, 2)

    assert read == len(service.app.recorder.select_notifications(1, 100_000))
    assert snapshot(service) == before
    assert readers_indexes(service) <= index_names(service.db)


def test_a_failed_rebuild_process_fails_the_rebuild_and_leaves_the_indexes(
    service: LedgerService,
) -> None:
    busy_ledger(service)
    runner = Runner(service.app, service.db, [*all_views(), Unbuildable(None)])

    with pytest.raises(RebuildFailedError, match="unbuildable"):
        rebuild_in_processes(runner, [v.name for v in runner.views], 2)

    assert readers_indexes(service) <= index_names(service.db)


def test_the_command_line_rebuilds_in_two_processes_and_verifies(url: str) -> None:
    service = LedgerService(url)
    busy_ledger(service)
    service.close()

    rebuilt = CliRunner().invoke(cli, ["rebuild", "--jobs", "2", "--database-url", url])
    verified = CliRunner().invoke(cli, ["verify", "--json", "--database-url", url])

    assert rebuilt.exit_code == 0, rebuilt.output
    assert verified.exit_code == 0, verified.output


def test_the_command_line_refuses_processes_for_a_store_in_memory() -> None:
    result = CliRunner().invoke(cli, ["rebuild", "--jobs", "2", "--database-url", "memory://"])

    assert result.exit_code == 2
    assert "--jobs needs a database file or PostgreSQL" in result.output
