"""The application's own ``save`` collection and replay (ledger/app_core.py) skip the library's
runtime-Protocol checks for speed: they must store and rebuild exactly what the library's would."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from eventsourcing.application import Application, ProcessingEvent, project_aggregate
from eventsourcing.persistence import IntegrityError

from ledger.app_core import CollectedEvents, replay_events
from ledger.budget import PersonalBudget
from tests.support import FOUR_WEEKS, PROVIDER, START, World


def _changed_budget(world: World) -> PersonalBudget:
    """A budget with pending events of several kinds (a payment and an invoice)."""
    budget_id = world.active_budget()
    world.app.issue_cash_payment(budget_id, 150_00, FOUR_WEEKS, START, world.prov())
    world.app.post_invoice(PROVIDER, world.draft(budget_id, "INV-SR-1"), world.as_provider())
    budget = world.app.budget(budget_id)
    budget.suspend(START, world.prov())
    return budget


def test_collects_the_same_events_and_aggregates_as_the_library(world: World) -> None:
    budget = _changed_budget(world)
    twin = copy.deepcopy(budget)  # collecting takes the pending events away
    mine, library = CollectedEvents(), ProcessingEvent[Any]()
    mine.collect_events(budget, None, flag=1)
    library.collect_events(twin, None, flag=1)
    assert len(mine.events) == 1
    assert mine.events == library.events
    assert not budget.pending_events and not twin.pending_events
    assert mine.aggregates == {budget.id: budget} and library.aggregates == {budget.id: twin}
    assert mine.saved_kwargs == library.saved_kwargs == {"flag": 1}


def test_hands_anything_but_an_aggregate_to_the_library(world: World) -> None:
    budget = _changed_budget(world)
    (event,) = budget.collect_events()
    collected = CollectedEvents()
    collected.collect_events(event)
    assert collected.events == [event]
    assert collected.aggregates == {}


def test_saves_what_the_library_saves(world: World) -> None:
    budget = _changed_budget(world)
    (pending,) = budget.pending_events
    recordings = world.app.save(budget)
    assert [r.domain_event for r in recordings] == [pending]
    assert not budget.pending_events
    reloaded = world.app.budget(str(budget.id))
    assert reloaded.version == budget.version and reloaded.status == budget.status


def test_a_concurrent_writer_still_loses_the_race(world: World) -> None:
    budget = _changed_budget(world)
    stale = world.app.budget(str(budget.id))
    world.app.save(budget)
    stale.suspend(START, world.prov())
    with pytest.raises(IntegrityError):
        world.app.save(stale)


def test_replays_to_the_same_state_as_the_library(world: World) -> None:
    budget = _changed_budget(world)
    world.app.save(budget)
    events = list(world.app.events.get(budget.id))
    mine = replay_events(None, events)
    library = project_aggregate(None, events)
    assert isinstance(mine, PersonalBudget) and isinstance(library, PersonalBudget)
    assert vars(mine) == vars(library)
    assert mine.version == len(events) >= 8
    # and through the application's loading path
    assert vars(world.app.budget(str(budget.id))) == vars(library)
    assert Application.save is not type(world.app).save  # the override is the one in use
