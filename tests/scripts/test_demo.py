"""The national demo: the 2011 picture read back from the progress view, a ledger that verifies,
the same England for the same seed, and a command line that loads only into an empty store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.invoice import Invoice
from ledger.postings import Account, postings_for
from projections.asat import resolve
from projections.balance import balance_of
from projections.service import LedgerService
from projections.verify import verify
from scripts.cli import app
from scripts.cli_serve import demo_scope
from scripts.demo import load_demo
from scripts.demo_summary import DemoSummary
from tests.support import count_events

SEED = 2011
# The smallest England that still shows the picture: 2 holders a council (3 where uptake is 60%),
# through the whole year (about 23,000 events).
PEOPLE = 304
WEEKS = 8  # for the smaller loads below

runner = CliRunner()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LedgerService, DemoSummary]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'careledger.db'}"
    service = LedgerService(url, inline=False)
    summary = load_demo(service.app, SEED, people=PEOPLE, runner=service.runner)
    yield service, summary
    service.close()


def test_the_progress_view_shows_the_2011_picture(
    loaded: tuple[LedgerService, DemoSummary],
) -> None:
    headline = loaded[1].headline

    assert (headline.councils, headline.councils_meeting_target) == (152, 6)
    assert 1200 <= headline.uptake_min_bp <= 1400
    assert 5800 <= headline.uptake_max_bp <= 6200
    assert 500 <= headline.spend_share_bp <= 700
    mental_health = headline.uptake_by_reason_bp.pop("mental-health")
    assert len(headline.uptake_by_reason_bp) == 5
    assert all(mental_health < bp for bp in headline.uptake_by_reason_bp.values())


def test_the_demo_projects_its_empty_views_as_a_rebuild_and_leaves_the_readers_indexes(
    loaded: tuple[LedgerService, DemoSummary],
) -> None:
    """The demo projects its views from nothing as a rebuild does (readers' indexes dropped,
    built once at the end): every view at the head and every reader's index there after it."""
    service, summary = loaded
    names = {r["name"] for r in service.db.query("SELECT name FROM sqlite_master")}
    readers = {
        re.findall(r"INDEX (?:IF NOT EXISTS )?(\w+)", statement)[0]
        for view in service.runner.views
        for statement in view.indexes
    }

    assert len(readers) > 5 and readers <= names
    assert set(service.runner.positions().values()) == {summary.events}


def test_about_a_third_of_holders_take_direct_payments_and_pools_are_partly_drawn(
    loaded: tuple[LedgerService, DemoSummary],
) -> None:
    headline = loaded[1].headline

    assert 2500 <= headline.direct_payment_bp <= 4200
    assert 0 < headline.pool_disentangled_bp < 5000


def test_the_loaded_ledger_verifies_and_balances(
    loaded: tuple[LedgerService, DemoSummary],
) -> None:
    service, summary = loaded

    report = verify(service.app, service.runner)

    assert report.ok, [c for c in report.checks if not c.ok]
    trial = next(c for c in report.checks if c.name == "trial-balance")
    assert trial.detail == "152 councils balance to zero"
    assert summary.events == count_events(service.app)


def test_endings_settle_final_invoices_after_the_end_and_recover_the_balance_left(
    loaded: tuple[LedgerService, DemoSummary],
) -> None:
    """Rule 12 in the demo: invoices for care before an ending are paid after it, and the
    direct-payment balance left is recovered by its own entry; nothing stays payable."""
    service, _ = loaded
    app = service.app
    events = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 10**7)]
    ended = {str(e.originator_id): e.effective_on for e in events
             if isinstance(e, PersonalBudget.Ended)}  # fmt: skip
    budget_of = {e.originator_id: e.budget_id for e in events if isinstance(e, Invoice.Posted)}
    paid_after = [e for e in events if isinstance(e, Invoice.Paid)
                  and budget_of[e.originator_id] in ended
                  and e.effective_on > ended[budget_of[e.originator_id]]]  # fmt: skip
    recovered = [e for e in events if isinstance(e, PersonalBudget.BalanceRecovered)]

    assert paid_after and recovered
    assert all(str(e.originator_id) in ended for e in recovered)
    payable = sum(p.amount_pence for e in events for p in postings_for(e)
                  if p.account == Account.PAYABLE)  # fmt: skip
    approved = sum(app.invoice(i).approved_pence - app.invoice(i).paid_pence for i in budget_of)
    assert -payable == approved


def test_resent_invoice_files_are_refused_and_logged(
    loaded: tuple[LedgerService, DemoSummary],
) -> None:
    service, summary = loaded

    rows = service.db.query("SELECT error, actor_role FROM careledger_refusals")

    assert summary.refused_duplicates > 0
    assert len(rows) == summary.refused_duplicates
    assert {(r["error"], r["actor_role"]) for r in rows} == {("duplicate-invoice", "provider")}


def test_every_event_carries_its_actor_role_command_id_and_effective_date(
    loaded: tuple[LedgerService, DemoSummary],
) -> None:
    rows = loaded[0].db.query(
        "SELECT COUNT(*) AS n FROM v_audit WHERE actor_id = '' OR command_id = ''"
        " OR (effective_on IS NULL AND aggregate_kind <> 'command')"
    )
    roles = loaded[0].db.query("SELECT DISTINCT actor_role FROM v_audit")

    assert rows[0]["n"] == 0
    assert {r["actor_role"] for r in roles} == {"admin", "council", "provider", "representative"}


def _stream(app: CareLedger) -> list[tuple[Any, ...]]:
    """Every stored event without its recorded time: what a seed must reproduce exactly."""
    events = []
    for n in app.recorder.select_notifications(1, 10_000_000):
        state = json.loads(n.state)
        state.pop("timestamp", None)
        events.append((n.originator_id, n.originator_version, n.topic, state))
    return events


def test_the_same_seed_loads_the_same_england() -> None:
    first, second, other = (CareLedger("memory://") for _ in range(3))

    a = load_demo(first, SEED, councils=12, people=40, weeks=WEEKS)
    b = load_demo(second, SEED, councils=12, people=40, weeks=WEEKS)
    load_demo(other, SEED + 1, councils=12, people=40, weeks=WEEKS)

    assert (a.events, a.budgets, a.headline) == (b.events, b.budgets, b.headline)
    assert _stream(first) == _stream(second)
    assert _stream(first) != _stream(other)


def test_the_command_loads_an_empty_store_then_refuses_a_second_load(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'careledger.db'}"
    args = ["demo", "--councils", "12", "--people", "40", "--weeks", "4", "--database-url", url]

    loaded = runner.invoke(app, [*args, "--json"])
    again = runner.invoke(app, args)

    assert loaded.exit_code == 0, loaded.output
    summary = json.loads(loaded.stdout)
    assert summary["councils"] == 12 and summary["events"] > 0
    assert summary["headline"]["councils_meeting_target"] >= 1
    assert again.exit_code == 2
    assert "the store is not empty" in again.output


@pytest.mark.postgres
def test_the_command_loads_into_postgresql(postgres_url: str) -> None:
    args = ["demo", "--councils", "12", "--people", "40", "--weeks", "4", "--json"]

    result = runner.invoke(app, [*args, "--database-url", postgres_url])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    ledger = CareLedger(postgres_url)
    try:
        assert (summary["councils"], summary["events"]) == (12, count_events(ledger))
    finally:
        ledger.close()


def test_make_run_gives_the_care_firm_token_to_a_firm_with_invoices(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'careledger.db'}"
    assert runner.invoke(app, ["demo", "--councils", "3", "--people", "12", "--weeks", "8",
                               "--database-url", url]).exit_code == 0  # fmt: skip
    service = LedgerService(url)
    try:
        council, provider = demo_scope(service)
        theirs = service.db.query(
            "SELECT COUNT(*) AS n FROM v_invoices WHERE council = ? AND provider = ?",
            (council, provider),
        )
        first = service.db.query("SELECT MIN(code) AS c FROM v_councils")[0]["c"]
    finally:
        service.close()

    assert council == first
    assert theirs[0]["n"] > 0  # the printed firm has invoices in the printed council


# --- when the demo's entries were recorded (scripts/demo_clock.py) ------------------------------


def test_the_demo_records_its_entries_on_simulated_days_in_log_order(
    loaded: tuple[LedgerService, DemoSummary],
) -> None:
    rows = loaded[0].db.query("SELECT recorded_at, known_by FROM v_audit ORDER BY position")

    stamps = [r["recorded_at"] for r in rows]
    assert stamps == sorted(stamps)  # the log grew in recorded order
    assert stamps[0][:10] >= "2010-03-01" and stamps[-1][:10] <= "2011-12-31"
    assert all(r["recorded_at"] == r["known_by"] for r in rows)
    assert len(set(stamps)) > 100  # day by day, not all at once


def test_a_late_entry_changes_the_balance_for_31_march_as_known_on_1_may(
    loaded: tuple[LedgerService, DemoSummary],
) -> None:
    service = loaded[0]
    late = service.db.query(
        "SELECT budget_id FROM v_audit WHERE effective_on <= '2011-03-31'"
        " AND recorded_at > '2011-05-01' AND event_type LIKE 'PersonalBudget.%'"
        " ORDER BY position LIMIT 1"
    )
    assert late, "the demo keys in some March entries weeks late"
    budget_id, march = late[0]["budget_id"], date(2011, 3, 31)
    stop = resolve(service.db, datetime(2011, 5, 1, tzinfo=UTC))

    then = balance_of(service.app, budget_id, stop_position=stop, effective_on=march, db=service.db)
    now = balance_of(service.app, budget_id, effective_on=march)

    assert now != then
    assert now.version > then.version


def test_with_the_real_clock_everything_is_recorded_now(tmp_path: Path) -> None:
    ledger = CareLedger(f"sqlite:///{tmp_path / 'real.db'}")
    started = datetime.now(UTC)
    load_demo(ledger, SEED, councils=3, people=9, weeks=WEEKS, real_clock=True)

    stamps = {e.timestamp for n in ledger.recorder.select_notifications(1, 50_000)
              for e in [ledger.mapper.to_domain_event(n)]}  # fmt: skip
    ledger.close()
    assert min(stamps) >= started
