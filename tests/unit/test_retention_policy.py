"""A council's retention policy: an event on its record, six years until set, bounded, and
replayed as it was set."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.council import DEFAULT_RETENTION_YEARS, Council
from ledger.errors import CouncilNotFoundError, RetentionOutOfBoundsError
from ledger.ids import council_id
from tests.support import COUNCIL, World

ON = date(2012, 1, 1)


def test_a_council_keeps_records_six_years_until_it_sets_another_period(world: World) -> None:
    before = world.app.council(COUNCIL).retention_years

    world.app.set_retention_policy(COUNCIL, 8, ON, world.admin())
    council = world.app.council(COUNCIL)

    assert before == DEFAULT_RETENTION_YEARS == 6
    assert council.retention_years == 8


def test_the_policy_is_replayed_from_its_event(world: World) -> None:
    world.app.set_retention_policy(COUNCIL, 10, ON, world.admin())
    world.app.set_retention_policy(COUNCIL, 7, date(2013, 1, 1), world.admin())

    stored = world.app.recorder.select_events(council_id(COUNCIL))
    events = [world.app.mapper.to_domain_event(e) for e in stored]

    assert [e.years for e in events if isinstance(e, Council.RetentionPolicySet)] == [10, 7]
    assert world.app.council(COUNCIL).retention_years == 7


@pytest.mark.parametrize("years", [0, 5, 31, 100, -6, True, 6.5])
def test_a_period_out_of_bounds_is_refused_by_name_and_writes_nothing(
    world: World, years: object
) -> None:
    before = world.event_count()

    with pytest.raises(RetentionOutOfBoundsError) as refused:
        world.app.set_retention_policy(COUNCIL, years, ON, world.admin())  # type: ignore[arg-type]

    assert refused.value.facts == {"field": "years", "min_years": 6, "max_years": 30}
    assert world.event_count() == before
    assert world.app.council(COUNCIL).retention_years == 6


def test_the_bounds_are_inclusive(world: World) -> None:
    world.app.set_retention_policy(COUNCIL, 6, ON, world.admin())
    world.app.set_retention_policy(COUNCIL, 30, ON, world.admin())

    assert world.app.council(COUNCIL).retention_years == 30


def test_an_unknown_council_has_no_policy_to_set(world: World) -> None:
    with pytest.raises(CouncilNotFoundError):
        world.app.set_retention_policy("E99999999", 7, ON, world.admin())
