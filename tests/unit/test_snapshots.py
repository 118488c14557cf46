"""Long-lived aggregates load from a snapshot taken every ``SNAPSHOT_INTERVAL`` events, then the
events after it — and come out exactly as a replay of every event would."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ledger.app_core import SNAPSHOT_INTERVAL, replay_events
from ledger.application import CareLedger
from tests.support import World


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
