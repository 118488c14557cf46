"""A council's gross adult-social-care spend per financial year: the base of the measure
"share of spend through personal budgets". Refusals write nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from ledger.council import MAX_GROSS_SPEND_PENCE, Council
from ledger.errors import CouncilNotFoundError, InvalidCommandError, LedgerError
from ledger.provenance import Provenance
from tests.support import COUNCIL, World

# Westminster's gross adult-social-care spend, 2010-11 (synthetic): £142,345,678.90.
GROSS_2010 = 142_345_678_90


def refused(world: World, error: type[LedgerError], command: Callable[[], object]) -> None:
    """Then: the command raises ``error`` and writes nothing."""
    before = world.event_count()
    with pytest.raises(error):
        command()
    assert world.event_count() == before


def test_records_a_councils_gross_spend_for_a_financial_year(world: World) -> None:
    outcome = world.app.record_gross_spend(
        COUNCIL, "2010-11", GROSS_2010, date(2011, 6, 30), world.admin()
    )

    council = world.app.council(COUNCIL)
    assert outcome == {"council": COUNCIL, "version": council.version}
    assert council.gross_spend == {"2010-11": GROSS_2010}
    last = world.app.recorder.select_notifications(world.event_count() - 1, 1)[0]
    assert last.topic == "careledger.council:GrossSpendRecorded"


def test_the_event_carries_the_year_the_amount_and_its_provenance(world: World) -> None:
    world.app.record_gross_spend(COUNCIL, "2010-11", GROSS_2010, date(2011, 6, 30), world.admin())

    recorded = [e for e in world.events() if isinstance(e, Council.GrossSpendRecorded)]
    assert len(recorded) == 1
    event = recorded[0]
    assert (event.financial_year, event.gross_pence, event.effective_on) == (
        "2010-11",
        GROSS_2010,
        date(2011, 6, 30),
    )
    assert (event.prov.actor_id, event.prov.actor_role) == ("admin-1", "admin")


def test_a_later_record_restates_the_year_and_keeps_other_years(world: World) -> None:
    app = world.app
    app.record_gross_spend(COUNCIL, "2009-10", 130_000_000_00, date(2010, 6, 30), world.admin())
    app.record_gross_spend(COUNCIL, "2010-11", 140_000_000_00, date(2011, 6, 30), world.admin())
    app.record_gross_spend(COUNCIL, "2010-11", GROSS_2010, date(2011, 9, 30), world.admin())

    assert app.council(COUNCIL).gross_spend == {
        "2009-10": 130_000_000_00,
        "2010-11": GROSS_2010,
    }


def test_accepts_the_year_that_crosses_a_century() -> None:
    council = Council.register("E06000001", "Hartlepool", date(1999, 4, 1), _admin("c1"))

    council.record_gross_spend("1999-00", 25_000_000_00, date(2000, 6, 30), _admin("c2"))

    assert council.gross_spend == {"1999-00": 25_000_000_00}


def test_accepts_a_spend_far_above_one_budgets_ceiling(world: World) -> None:
    world.app.record_gross_spend(
        COUNCIL, "2023-24", MAX_GROSS_SPEND_PENCE, date(2024, 6, 30), world.admin()
    )

    assert world.app.council(COUNCIL).gross_spend["2023-24"] == MAX_GROSS_SPEND_PENCE


@pytest.mark.parametrize(
    "year",
    [
        "2010-12",  # not consecutive
        "2010-10",
        "2010/11",
        "10-11",
        "2010-2011",
        "2010-1",
        "2010-11\n",
        " 2010-11",
        "\u0662\u0660\u0661\u0660-\u0661\u0661",  # Arabic-Indic digits
        "1969-70",  # implausibly early
        "",
        2010,
        None,
    ],
)
def test_refuses_a_malformed_financial_year(world: World, year: Any) -> None:
    refused(
        world,
        InvalidCommandError,
        lambda: world.app.record_gross_spend(
            COUNCIL, year, GROSS_2010, date(2011, 6, 30), world.admin()
        ),
    )
    assert world.app.council(COUNCIL).gross_spend == {}


@pytest.mark.parametrize(
    "pence", [0, -1, True, 12.5, "14234567890", MAX_GROSS_SPEND_PENCE + 1, None]
)
def test_refuses_an_amount_that_is_not_whole_positive_and_plausible(
    world: World, pence: Any
) -> None:
    refused(
        world,
        InvalidCommandError,
        lambda: world.app.record_gross_spend(
            COUNCIL, "2010-11", pence, date(2011, 6, 30), world.admin()
        ),
    )
    assert world.app.council(COUNCIL).gross_spend == {}


def test_refuses_an_unknown_council(world: World) -> None:
    refused(
        world,
        CouncilNotFoundError,
        lambda: world.app.record_gross_spend(
            "E99999999", "2010-11", GROSS_2010, date(2011, 6, 30), world.admin()
        ),
    )


def test_a_repeated_command_id_writes_once_and_returns_the_first_outcome(world: World) -> None:
    prov = Provenance("admin-1", "admin", "gross-2010-11")
    first = world.app.record_gross_spend(COUNCIL, "2010-11", GROSS_2010, date(2011, 6, 30), prov)
    count = world.event_count()

    again = world.app.record_gross_spend(COUNCIL, "2010-11", GROSS_2010, date(2011, 6, 30), prov)

    assert again == {**first, "replayed": True}
    assert world.event_count() == count


def test_replaying_the_council_rebuilds_its_gross_spend(world: World) -> None:
    app = world.app
    app.record_gross_spend(COUNCIL, "2010-11", GROSS_2010, date(2011, 6, 30), world.admin())
    app.record_gross_spend(COUNCIL, "2011-12", 150_000_000_00, date(2012, 6, 30), world.admin())

    fresh = app.repository.get(app.council(COUNCIL).id)

    assert fresh.gross_spend == {"2010-11": GROSS_2010, "2011-12": 150_000_000_00}


def _admin(command_id: str) -> Provenance:
    return Provenance("admin-1", "admin", command_id)
