"""The runner, rebuild, time travel, verification and tamper evidence, on every backend."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ledger.application import CareLedger
from ledger.provider import Provider
from projections.asat import build_as_at, position_at, view_db
from projections.chain import GENESIS
from projections.runner import Runner
from projections.service import LedgerService
from projections.verify import (
    check_extends,
    store_chain,
    table_digest,
    table_rows,
    take_checkpoint,
    verify,
)
from projections.views.audit import AuditView
from projections.views.journal import JournalView
from tests.integration.test_backends import run_scenario
from tests.support import FOUR_WEEKS, PROVIDER, World


@pytest.fixture
def service(database_url: str) -> Iterator[LedgerService]:
    svc = LedgerService(database_url)
    yield svc
    svc.close()


def scenario(service: LedgerService) -> dict[str, str]:
    world = World(service.app).setup(pool_pence=50_000_00)
    return {k: str(v) for k, v in run_scenario(world).items()}


def journal_totals(service: LedgerService) -> dict[str, int]:
    rows = service.db.query(
        "SELECT account, CAST(SUM(amount_pence) AS BIGINT) AS total"
        " FROM v_postings GROUP BY account"
    )
    return {r["account"]: int(r["total"]) for r in rows}


def test_inline_mode_shows_a_write_in_the_views_when_the_command_returns(
    service: LedgerService,
) -> None:
    world = World(service.app).setup()
    budget_id = world.active_budget()

    service.app.issue_cash_payment(budget_id, 230_00, FOUR_WEEKS, date(2010, 4, 6), world.prov())

    assert service.runner.positions()["journal"] == world.event_count()
    assert journal_totals(service)["Assets:DirectPaymentAccounts"] == 230_00
    last = service.db.query("SELECT event_type, actor_id FROM v_audit ORDER BY position DESC")
    assert last[1] == {"event_type": "PersonalBudget.CashPaymentIssued", "actor_id": "officer-1"}


def test_the_journal_equals_the_trial_balance_of_the_events(service: LedgerService) -> None:
    world = World(service.app)
    scenario(service)

    assert journal_totals(service) == world.trial_balance()
    assert sum(journal_totals(service).values()) == 0


def test_page_size_does_not_change_any_view(tmp_path: Path) -> None:
    big = LedgerService(f"sqlite:///{tmp_path / 'a.db'}", inline=False)
    scenario(big)
    big.runner.catch_up()
    # a second store with the same stored events, projected one event per page
    small = LedgerService(f"sqlite:///{tmp_path / 'b.db'}", inline=False)
    for n in big.app.recorder.select_notifications(1, 10_000):
        small.app.recorder.insert_events([n])
    Runner(small.app, small.db, [JournalView(), AuditView()], page_size=1).catch_up()

    for table in ("v_postings", "v_audit"):
        assert table_rows(small.db, table) == table_rows(big.db, table)
    big.close()
    small.close()


def test_a_rebuilt_view_equals_the_live_one_row_for_row(service: LedgerService) -> None:
    scenario(service)
    before = {t: table_rows(service.db, t) for t in ("v_postings", "v_audit", "v_refs")}

    service.runner.rebuild(["refs", "journal", "audit"])

    assert {t: table_rows(service.db, t) for t in before} == before


def test_two_workers_at_once_never_double_count(database_url: str) -> None:
    if database_url == "memory://":
        pytest.skip("workers share a database; the in-memory store is one process's")
    writer = LedgerService(database_url, inline=False)
    scenario(writer)
    workers = [LedgerService(database_url, inline=False) for _ in range(2)]
    threads = [threading.Thread(target=w.runner.catch_up) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    head = writer.runner.head()
    assert writer.runner.positions()["journal"] == head
    assert len(table_rows(writer.db, "v_audit")) == head
    assert verify(writer.app, writer.runner).ok
    for svc in (writer, *workers):
        svc.close()


def test_verify_passes_on_an_untouched_ledger(service: LedgerService) -> None:
    scenario(service)

    report = verify(service.app, service.runner)

    assert report.ok, report.as_dict()
    assert {c.name for c in report.checks} >= {"hash-chain", "trial-balance", "view:v_audit"}


def test_the_chain_starts_from_genesis_and_hashes_every_event(service: LedgerService) -> None:
    scenario(service)
    chain = list(store_chain(service.app))

    audit = service.db.query("SELECT position, hash FROM v_audit ORDER BY position")

    assert [(r["position"], r["hash"]) for r in audit] == chain
    assert chain[0][1] != GENESIS and len({h for _, h in chain}) == len(chain)


def test_a_checkpoint_is_extended_by_later_events(service: LedgerService) -> None:
    world = World(service.app).setup()
    checkpoint = take_checkpoint(service.app)
    world.active_budget()

    assert check_extends(service.app, checkpoint).ok
    assert checkpoint.size == 4  # two registrations, each with its command record


def test_as_at_a_past_position_shows_what_was_known_then(service: LedgerService) -> None:
    world = World(service.app).setup()
    budget_id = world.active_budget()
    known = service.runner.head()
    service.app.issue_cash_payment(budget_id, 500_00, FOUR_WEEKS, date(2010, 4, 6), world.prov())

    then = build_as_at(service.app, [JournalView()], stop=known)
    try:
        then_rows = then.query("SELECT COUNT(*) AS n FROM v_postings WHERE account = 'Assets:Bank'")
    finally:
        then.close()

    assert then_rows[0]["n"] == 0
    assert journal_totals(service)["Assets:Bank"] == -500_00


def test_an_instant_maps_to_the_last_position_recorded_by_then(service: LedgerService) -> None:
    World(service.app).setup()
    head = service.runner.head()

    assert position_at(service.db, datetime.now(UTC) + timedelta(seconds=1)) == head
    assert position_at(service.db, datetime(2000, 1, 1, tzinfo=UTC)) == 0


def test_an_instant_counts_a_position_only_once_everything_before_it_was_recorded(
    service: LedgerService,
) -> None:
    """Two writers: the event stamped first commits second. Between the two stamps the log held
    neither (the later-stamped one was not yet recorded; the other comes after it in the log)."""
    world = World(service.app).setup()
    head = service.runner.head()
    early = Provider.register("1-EARLY0001", "Early Care", date(2010, 4, 1), world.admin())
    between = datetime.now(UTC)
    late = Provider.register("1-LATE00001", "Late Care", date(2010, 4, 1), world.admin())
    service.app.save(late)  # position head + 1, stamped after ``between``
    service.app.save(early)  # position head + 2, stamped before ``between``
    service.runner.catch_up()
    stamps = service.db.query(
        "SELECT position, recorded_at, known_by FROM v_audit WHERE position > ? ORDER BY position",
        (head,),
    )

    assert stamps[1]["recorded_at"] < stamps[0]["recorded_at"] == stamps[1]["known_by"]
    assert position_at(service.db, between) == head
    assert position_at(service.db, late.created_on) == head + 2


def test_a_follower_catches_up_with_events_written_elsewhere(database_url: str) -> None:
    if database_url == "memory://":
        pytest.skip("a follower reads a shared database")
    worker = LedgerService(database_url, inline=False)
    writer = LedgerService(database_url, inline=False)
    stop = threading.Event()
    thread = threading.Thread(target=worker.runner.follow, kwargs={"interval": 0.05, "until": stop})
    thread.start()
    try:
        World(writer.app).setup()
        head = writer.runner.head()
        worker.runner.wait_until_caught_up(timeout=10)
        assert worker.runner.positions()["audit"] == head
    finally:
        stop.set()
        thread.join(timeout=10)
        worker.close()
        writer.close()


def test_the_plain_and_the_inline_ledger_share_one_event_store(sqlite_url: str) -> None:
    plain = CareLedger(sqlite_url)
    World(plain).setup()
    plain.close()

    service = LedgerService(sqlite_url)

    assert service.runner.positions()["audit"] == 4
    service.close()


def test_verify_accepts_the_gaps_a_rolled_back_insert_leaves(service: LedgerService) -> None:
    # given a batch whose first save fails on a number stored against another budget: on
    # PostgreSQL the failed insert has used up sequence numbers, leaving a gap in positions
    world = World(service.app).setup()
    budget_a, budget_b = world.active_budget(), world.active_budget()
    service.app.post_invoice(PROVIDER, world.draft(budget_a, "INV-1"), world.as_provider())
    drafts = [world.draft(budget_b, "INV-1"), world.draft(budget_b, "INV-2")]
    service.app.post_invoices(PROVIDER, drafts, world.as_provider())

    report = verify(service.app, service.runner)

    assert report.ok, report.as_dict()


def test_a_replay_into_a_scratch_file_keeps_no_journal_and_builds_no_readers_indexes(
    service: LedgerService, tmp_path: Path
) -> None:
    """``verify``'s replay is only compared with the live views, then removed: no journal, no
    syncs, none of the readers' indexes — and the same rows as the live views."""
    World(service.app).setup().active_budget()
    service.runner.catch_up()
    views = [v for v in service.runner.views if v.name != "refs"]

    scratch = build_as_at(service.app, views, service.runner.head(), str(tmp_path / "r.db"))
    try:
        indexes = {r["name"] for r in scratch.query("SELECT name FROM sqlite_master")}
        journal = scratch.query("PRAGMA journal_mode")[0]["journal_mode"]
        replayed = {t: table_digest(scratch, t) for v in views for t in v.tables}
    finally:
        scratch.close()

    # The views' own indexes for projecting stay (created with their tables); readers' go.
    readers = {
        re.findall(r"INDEX (?:IF NOT EXISTS )?(\w+)", i)[0] for v in views for i in v.indexes
    }
    assert len(readers) > 5 and not readers & indexes and journal == "off"
    assert replayed == {t: table_digest(service.db, t) for t in replayed}
    assert replayed["v_postings"][0] > 0


def test_rows_streamed_as_values_are_the_rows_values_in_column_order(
    service: LedgerService,
) -> None:
    World(service.app).setup().active_budget()
    service.runner.catch_up()
    past = view_db(service.db, service.runner.head() - 3)
    for table in ("v_postings", "v_audit", "v_budget_balances"):
        sql = f"SELECT * FROM {table} ORDER BY 1, 2"
        as_dicts = [tuple(r.values()) for r in service.db.stream(sql)]
        as_values = [tuple(r) for r in service.db.stream_values(sql)]
        past_dicts = [tuple(r.values()) for r in past.stream(sql)]
        past_values = [tuple(r) for r in past.stream_values(sql)]
        assert as_values == as_dicts and len(as_values) > 0
        assert past_values == past_dicts and len(past_values) > 0
