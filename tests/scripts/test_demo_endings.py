"""The demo builds every person's year at the full national scale: an ending back-dated into the
period its last direct-payment return already covered leaves no return to make (found loading
``careledger demo --people 18181``: "period ends before it starts" at council E06000015)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from ledger.personal import IN_THE_CLEAR
from scripts.demo import Loader, load_council, register_providers
from scripts.demo_clock import Timeline
from scripts.demo_england import plan_england
from scripts.demo_people import FY_END

SEED = 2011
PEOPLE = 18_181  # the national scale of the 1,000,000-event demo
COUNCIL = "E06000015"


def test_a_council_whose_ending_falls_inside_the_last_return_builds_its_year() -> None:
    plans = plan_england(SEED, 152, PEOPLE)
    plan = next(p for p in plans if p.code == COUNCIL)
    # Held in memory on the simulated clock: nothing is saved, so no store is needed.
    loader = Loader(SimpleNamespace(personal=IN_THE_CLEAR), None, Timeline())  # type: ignore[arg-type]
    providers = register_providers(SEED, plans, loader)
    last_day = FY_END + timedelta(days=3)  # a whole year's load (52 weeks)
    books = load_council(SEED, plan, providers, last_day, loader)
    assert books.plan.code == COUNCIL
    assert loader.budgets >= plan.people
    assert loader.events > 10 * loader.budgets
