"""Long-lived aggregates load from a snapshot taken every ``SNAPSHOT_INTERVAL`` events, then the
events after it — and come out exactly as a replay of every event would."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ledger.app_core import SNAPSHOT_INTERVAL, replay_events
from ledger.application import CareLedger
from tests.support import PROVIDER, World


def _full_replay(app: CareLedger, budget_id: UUID, version: int | None = None) -> object:
    return replay_events(None, app.events.get(budget_id, lte=version))


def test_a_budget_past_the_interval_loads_from_its_snapshot_as_a_replay_would(
    app: CareLedger,
) -> None:
    world = World(app).setup(pool_pence=50_000_00)
    budget_id = UUID(world.active_budget())
    while app.budget(budget_id).version < SNAPSHOT_INTERVAL + 5:
        app.receive_contribution(budget_id, 1_00, date(2010, 5, 3), world.prov())

    snapshots = list(app.snapshots.get(budget_id)) if app.snapshots else []
    loaded = app.budget(budget_id)

    assert [s.originator_version for s in snapshots] == [SNAPSHOT_INTERVAL]
    assert vars(loaded) == vars(_full_replay(app, budget_id))


def test_a_budget_as_at_a_version_before_its_snapshot_is_replayed_from_the_start(
    app: CareLedger,
) -> None:
    world = World(app).setup(pool_pence=50_000_00)
    budget_id = UUID(world.active_budget())
    while app.budget(budget_id).version < SNAPSHOT_INTERVAL + 5:
        app.receive_contribution(budget_id, 1_00, date(2010, 5, 3), world.prov())

    early = app.get_aggregate(budget_id, version=SNAPSHOT_INTERVAL - 3)

    assert early.version == SNAPSHOT_INTERVAL - 3
    assert vars(early) == vars(_full_replay(app, budget_id, SNAPSHOT_INTERVAL - 3))


def test_a_budget_with_invoices_and_a_representative_snapshots_and_loads_as_a_replay_would(
    app: CareLedger,
) -> None:
    """Its state holds the budget's own objects (invoices on it, representatives): the snapshot
    stores and restores them (a storm of invoices once failed here with a 500)."""
    world = World(app).setup(pool_pence=50_000_00)
    budget_id = UUID(world.active_budget())
    app.appoint_representative(
        budget_id, "rep-1", "nominated", "person-nominated", date(2010, 5, 3), world.prov()
    )
    posted = app.post_invoice(
        PROVIDER, world.draft(str(budget_id), "INV-1", 100_00), world.as_provider()
    )
    app.approve_invoice(posted["invoice_id"], date(2010, 5, 3), world.prov(reason="checked"))
    while app.budget(budget_id).version < SNAPSHOT_INTERVAL + 5:
        app.receive_contribution(budget_id, 1_00, date(2010, 5, 3), world.prov())

    snapshots = list(app.snapshots.get(budget_id)) if app.snapshots else []
    loaded = app.budget(budget_id)

    assert [s.originator_version for s in snapshots] == [SNAPSHOT_INTERVAL]
    assert loaded.invoices and loaded.representatives
    assert typed(loaded) == typed(_full_replay(app, budget_id))


def typed(aggregate: object) -> dict[str, object]:
    """The state with each value's type: a str enum equals its text, but the ledger checks
    ``status is BudgetStatus.ACTIVE``."""
    return {name: (type(value), value) for name, value in vars(aggregate).items()}
