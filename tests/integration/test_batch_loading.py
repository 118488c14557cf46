"""Batches read their budgets in bulk and keep them between commands (issue 6).

What the bulk loader rebuilds must be exactly what the repository rebuilds; a cached budget must
follow every other writer; a lost race must still be retried from a fresh read, leaving nothing
of the losing attempt in the cache; a refused item in a big batch must leave nothing behind.
Races are staged as in test_idempotency_and_concurrency: the rival's read is wrapped so that,
right after it, the first application commits a change to one of the batch's budgets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate

from ledger import app_invoices
from ledger.app_core import MAX_ATTEMPTS
from ledger.app_invoices import BudgetCache, InvoiceDraft, Posting, load_aggregates
from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.errors import ConcurrencyConflictError
from ledger.ids import council_id, invoice_id
from ledger.provenance import Provenance
from ledger.values import Period
from tests.support import FOUR_WEEKS, PROVIDER, START, World

NEXT_FOUR_WEEKS = Period(date(2010, 5, 3), date(2010, 5, 30))
ON = date(2010, 5, 10)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_url(request: pytest.FixtureRequest) -> str:
    """A database two applications can share (not memory://)."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def rivals(shared_url: str) -> Iterator[tuple[World, CareLedger]]:
    first, rival = CareLedger(shared_url), None
    try:
        world = World(first).setup()
        rival = CareLedger(shared_url)
        yield world, rival
    finally:
        first.close()
        if rival is not None:
            rival.close()


def rival_prov(n: int = 0) -> Provenance:
    return Provenance(PROVIDER, "provider", f"rival-batch-{n}")


def cached(app: CareLedger, budget_ids: Sequence[str]) -> dict[UUID, PersonalBudget]:
    """What the application's budget cache holds for these budgets (put back afterwards)."""
    held = app.budget_cache.take([UUID(b) for b in budget_ids])
    app.budget_cache.give_back(held.values())
    return held


def stage_races(
    monkeypatch: pytest.MonkeyPatch, rival: CareLedger, meanwhile: Callable[[], object], times: int
) -> list[dict[str, int]]:
    """Wrap the rival's batch read: for its first ``times`` reads, run ``meanwhile`` after it.
    Returns the budget versions each read saw."""
    read = rival._posting
    seen: list[dict[str, int]] = []

    def read_then_lose(provider_ref: str, drafts: Sequence[InvoiceDraft]) -> Posting:
        ctx = read(provider_ref, drafts)
        seen.append({b: budget.version for b, budget in ctx.budgets.items()})
        if len(seen) <= times:
            meanwhile()
        return ctx

    monkeypatch.setattr(rival, "_posting", read_then_lose)
    return seen


# --- the bulk loader -------------------------------------------------------------------------


def test_the_bulk_loader_rebuilds_exactly_what_the_repository_gives(world: World) -> None:
    app = world.app
    busy, opened, suspended = world.active_budget(), world.opened_budget(), world.active_budget()
    invoice = app.post_invoice(PROVIDER, world.draft(busy, "INV-1"), world.as_provider())
    app.approve_invoice(invoice["invoice_id"], ON, world.prov())
    app.post_invoices(
        PROVIDER, [world.draft(busy, "INV-2", 3000, NEXT_FOUR_WEEKS)], world.as_provider()
    )
    app.issue_cash_payment(busy, 1_000_00, FOUR_WEEKS, START, world.prov())
    app.suspend_budget(suspended, ON, world.prov())
    ids = [UUID(b) for b in (busy, opened, suspended)]
    ids += [council_id("E09000033"), UUID(invoice["invoice_id"]), UUID(int=1)]

    loaded = load_aggregates(app.recorder, app.mapper, ids)

    assert list(loaded) == ids[:-1]  # all but the id nothing was stored under
    for uid, aggregate in loaded.items():
        assert aggregate == app.repository.get(uid)
        assert not aggregate.pending_events
    assert loaded[ids[0]].version > 6  # the busy budget really had a history to replay


def test_the_bulk_loader_brings_older_copies_up_to_date(world: World) -> None:
    app = world.app
    budget_ids = [UUID(world.active_budget()) for _ in range(3)]
    app.post_invoices(
        PROVIDER,
        [world.draft(str(b), f"INV-{n}") for n, b in enumerate(budget_ids)],
        world.as_provider(),
    )
    old: dict[UUID, Aggregate] = {b: app.repository.get(b, version=2) for b in budget_ids[:2]}

    loaded = load_aggregates(app.recorder, app.mapper, budget_ids, dict(old))

    assert all(loaded[b] == app.repository.get(b) for b in budget_ids)
    assert all(loaded[b] is old[b] for b in old)  # advanced in place, not rebuilt


# --- the budget cache ------------------------------------------------------------------------


def test_the_cache_keeps_the_newest_saved_copy_and_the_most_recent_budgets() -> None:
    app = CareLedger("memory://")
    world = World(app).setup()
    a, b, c = (app.budget(world.active_budget()) for _ in range(3))
    older_a: PersonalBudget = app.repository.get(a.id, version=a.version - 1)
    cache = BudgetCache(maxsize=2)

    cache.give_back([a, older_a])
    assert cache.take([a.id, b.id]) == {a.id: a}  # the newer copy; taken out
    assert len(cache) == 0
    a.suspend(ON, world.prov())
    cache.give_back([a])
    assert len(cache) == 0  # unsaved changes are never kept
    a.collect_events()
    cache.give_back([a, b, c])
    assert set(cache.take([a.id, b.id, c.id])) == {b.id, c.id}  # a was least recent
    app.close()


def test_a_batch_keeps_its_budgets_as_saved_and_follows_other_writers(
    rivals: tuple[World, CareLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, rival = rivals
    budgets = [world.active_budget() for _ in range(3)]
    rival.post_invoices(
        PROVIDER, [world.draft(b, f"INV-{n}") for n, b in enumerate(budgets)], rival_prov(1)
    )
    assert all(cached(rival, budgets)[UUID(b)] == rival.repository.get(UUID(b)) for b in budgets)
    # meanwhile the other application suspends one budget and posts an overlapping invoice
    world.app.suspend_budget(budgets[0], ON, world.prov())
    world.app.post_invoice(PROVIDER, world.draft(budgets[1], "INV-X"), world.as_provider())
    reads: list[int] = []
    load = app_invoices.load_aggregates

    def spy(*args: Any) -> dict[UUID, Any]:
        reads.append(len(args[3]))  # how many budgets came from the cache
        return load(*args)

    monkeypatch.setattr(app_invoices, "load_aggregates", spy)

    again = [world.draft(b, f"INV-{n}", period=FOUR_WEEKS) for n, b in enumerate(budgets, 10)]
    result = rival.post_invoices(PROVIDER, again, rival_prov(2))

    assert reads == [3]
    assert [(r["accepted"], r.get("error"), r.get("flags")) for r in result["results"]] == [
        (False, "budget-suspended", None),
        (True, None, ["overlapping-period"]),  # overlaps INV-1 and the other writer's INV-X
        (True, None, ["overlapping-period"]),
    ]
    for b in budgets:
        assert cached(rival, budgets)[UUID(b)] == world.app.repository.get(UUID(b))


# --- races -----------------------------------------------------------------------------------


def test_a_writer_winning_the_race_on_one_budget_makes_the_batch_retry_from_a_fresh_read(
    rivals: tuple[World, CareLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, rival = rivals
    budgets = [world.active_budget() for _ in range(3)]
    rival.post_invoices(PROVIDER, [world.draft(budgets[2], "INV-0")], rival_prov(1))  # cached
    seen = stage_races(
        monkeypatch, rival, lambda: world.app.suspend_budget(budgets[1], ON, world.prov()), 1
    )
    before = world.event_count()

    drafts = [world.draft(b, f"N-{n}", period=NEXT_FOUR_WEEKS) for n, b in enumerate(budgets)]
    result = rival.post_invoices(PROVIDER, drafts, rival_prov(2))

    assert len(seen) == 2 and seen[1][budgets[1]] == seen[0][budgets[1]] + 1
    assert [r.get("error") for r in result["results"]] == [None, "budget-suspended", None]
    # the suspension and its record; two invoices, two receipts and the batch's record
    assert world.event_count() == before + 2 + 5
    assert not world.app.exists(invoice_id(PROVIDER, "N-1"))
    for b in budgets:  # nothing of the losing attempt survives in the cache
        assert cached(rival, budgets)[UUID(b)] == world.app.repository.get(UUID(b))


def test_a_batch_losing_every_race_writes_nothing_and_caches_nothing(
    rivals: tuple[World, CareLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, rival = rivals
    budget = world.active_budget()
    rival.post_invoices(PROVIDER, [world.draft(budget, "INV-0")], rival_prov(1))
    seen = stage_races(
        monkeypatch,
        rival,
        lambda: world.app.issue_cash_payment(budget, 1_00, FOUR_WEEKS, START, world.prov()),
        MAX_ATTEMPTS,
    )
    before = world.event_count()

    with pytest.raises(ConcurrencyConflictError):
        rival.post_invoices(
            PROVIDER, [world.draft(budget, "INV-1", period=NEXT_FOUR_WEEKS)], rival_prov(2)
        )

    assert len(seen) == MAX_ATTEMPTS
    assert world.event_count() == before + 2 * MAX_ATTEMPTS  # only the winner's payments
    assert cached(rival, [budget]) == {}
    assert not world.app.exists(invoice_id(PROVIDER, "INV-1"))


# --- refusals in a big batch -----------------------------------------------------------------


def big_batch_with_refusals(world: World) -> None:
    """300 invoices on 30 budgets, 7 of them refused for 7 reasons: each refusal leaves
    nothing, and the rest are written as one batch."""
    app = world.app
    budgets = [world.active_budget() for _ in range(30)]
    opened, suspended = world.opened_budget(), world.active_budget()
    app.suspend_budget(suspended, ON, world.prov())
    app.post_invoice(PROVIDER, world.draft(budgets[0], "OLD-1"), world.as_provider())
    drafts = [world.draft(budgets[n % 30], f"B-{n}", 100) for n in range(293)]
    bad = {
        17: world.draft(budgets[3], "OLD-1", 100),  # already in the store
        40: world.draft(budgets[4], "B-5", 100),  # repeats item 5 of this batch
        61: world.draft(opened, "R-61", 100),
        99: world.draft(suspended, "R-99", 100),
        150: world.draft(str(UUID(int=7)), "R-150", 100),
        201: world.draft("not-a-budget-id", "R-201", 100),
        250: InvoiceDraft("R-250", budgets[6], FOUR_WEEKS, (), FOUR_WEEKS.end),
    }
    for index, draft in sorted(bad.items()):
        drafts.insert(index, draft)
    before = world.event_count()

    result = app.post_invoices(PROVIDER, drafts, world.as_provider())

    errors = {r["index"]: r["error"] for r in result["results"] if not r["accepted"]}
    assert errors == {
        17: "duplicate-invoice",
        40: "duplicate-invoice",
        61: "budget-not-active",
        99: "budget-suspended",
        150: "budget-not-found",
        201: "budget-not-found",
        250: "invalid-command",
    }
    assert (result["accepted"], result["refused"]) == (293, 7)
    assert world.event_count() == before + 2 * 293 + 1
    for number in ("R-61", "R-99", "R-150", "R-201", "R-250"):
        assert not app.exists(invoice_id(PROVIDER, number))
    assert app.budget(opened).invoices == {} and app.budget(suspended).invoices == {}
    assert app.budget(budgets[6]).outstanding_invoices_pence == 10 * 1_300
    assert len(app.budget(budgets[0]).invoices) == 1 + 10


@pytest.mark.timeout(60)
def test_refused_items_in_a_big_batch_leave_nothing_behind(world: World) -> None:
    big_batch_with_refusals(world)


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_refused_items_leave_nothing_behind_on_the_large_save_path(postgres_url: str) -> None:
    app = CareLedger(postgres_url)
    app.recorder.pipeline_limit = 0  # type: ignore[attr-defined]  # every save takes the large path
    try:
        big_batch_with_refusals(World(app).setup())
    finally:
        app.close()


# --- the PostgreSQL recorder's bulk statements -------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("pipeline_limit", [5_000, 0], ids=["pipelined", "large-save"])
def test_each_saved_event_gets_the_notification_id_the_store_gave_it(
    postgres_url: str, pipeline_limit: int
) -> None:
    app = CareLedger(postgres_url)
    app.recorder.pipeline_limit = pipeline_limit  # type: ignore[attr-defined]
    try:
        world = World(app).setup()
        budgets = [world.active_budget() for _ in range(3)]
        loaded = [app.budget(b) for b in budgets]
        for budget in loaded:
            budget.suspend(ON, world.prov())

        recordings = app.save(*loaded)

        stored = {
            (n.originator_id, n.originator_version): (n.id, n.topic, n.state)
            for n in app.recorder.select_notifications(1, 10_000)
        }
        assert len(recordings) == 3
        for r in recordings:
            n = r.notification
            assert stored[(n.originator_id, n.originator_version)] == (n.id, n.topic, n.state)
    finally:
        app.close()


@pytest.mark.postgres
def test_the_bulk_reads_match_the_recorder_one_aggregate_at_a_time(postgres_url: str) -> None:
    app = CareLedger(postgres_url)
    try:
        world = World(app).setup()
        ids = [UUID(world.active_budget()) for _ in range(4)] + [UUID(int=3)]
        after = [0, 2, 5, 99, 0]

        bulk = app.recorder.select_events_of(ids, after)  # type: ignore[attr-defined]
        existing = app.recorder.existing(ids)  # type: ignore[attr-defined]

        pairs = zip(ids, after, strict=True)
        one_by_one = [e for i, gt in pairs for e in app.recorder.select_events(i, gt=gt)]
        assert bulk == one_by_one
        assert len(bulk) == 5 + 3  # an active budget has five events
        assert existing == set(ids[:4])
    finally:
        app.close()


@pytest.mark.timeout(60)
def test_batches_racing_in_threads_of_one_process_each_land_whole(world: World) -> None:
    """The cache hands a budget to one command at a time: threads posting batches on the same
    budgets lose races to one another and retry (as a client would, with the same command id,
    once the command's own retries run out), and every invoice lands exactly once."""
    budgets = [world.active_budget() for _ in range(10)]

    def post_batches(thread: int) -> int:
        refused = 0
        for run in range(3):
            drafts = [world.draft(b, f"T{thread}-{run}-{n}", 100) for n, b in enumerate(budgets)]
            prov = Provenance(PROVIDER, "provider", f"thread-{thread}-{run}")
            while True:
                try:
                    outcome = world.app.post_invoices(PROVIDER, drafts, prov)
                except ConcurrencyConflictError:
                    continue
                refused += outcome["refused"]
                break
        return refused

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(post_batches, range(4))) == [0, 0, 0, 0]

    for b in budgets:
        assert len(world.app.budget(b).invoices) == 4 * 3
    held = cached(world.app, budgets)
    assert held and all(budget == world.app.repository.get(i) for i, budget in held.items())


def test_a_cache_of_size_zero_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARELEDGER_BUDGET_CACHE_SIZE", "0")
    app = CareLedger("memory://")
    world = World(app).setup()
    budget = world.active_budget()

    app.post_invoices(PROVIDER, [world.draft(budget)], world.as_provider())

    assert len(app.budget_cache) == 0
    app.close()
