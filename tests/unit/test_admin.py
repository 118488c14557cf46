"""Administration: councils and their eligible population and policy, providers and their
registration history, Section 75 pooled funds (rule 11)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from ledger.council import Council
from ledger.errors import (
    AlreadyExistsError,
    CouncilNotFoundError,
    InvalidCommandError,
    InvalidTransitionError,
    LedgerError,
    PoolOverdrawnError,
)
from ledger.values import Period, ProviderStatus
from tests.support import COUNCIL, OTHER_COUNCIL, POOL, PROVIDER, START, World, allocation

REGISTERED, SUSPENDED = ProviderStatus.REGISTERED, ProviderStatus.SUSPENDED


def refused(world: World, error: type[LedgerError], command: Callable[[], object]) -> None:
    """Then: the command raises ``error`` and writes nothing."""
    before = world.event_count()
    with pytest.raises(error):
        command()
    assert world.event_count() == before


# --- councils ------------------------------------------------------------------------------


def test_registers_a_council_with_the_default_policy(world: World) -> None:
    outcome = world.app.register_council(OTHER_COUNCIL, "Leeds", date(2010, 4, 1), world.admin())

    council = world.app.council(OTHER_COUNCIL)
    assert outcome == {"council": OTHER_COUNCIL, "version": 1}
    assert (council.name, council.surplus_weeks, council.invoice_tolerance_bp) == ("Leeds", 8, 500)


def test_refuses_a_second_council_with_the_same_code(world: World) -> None:
    refused(
        world,
        AlreadyExistsError,
        lambda: world.app.register_council(
            COUNCIL, "Westminster again", date(2011, 1, 1), world.admin()
        ),
    )
    assert world.app.council(COUNCIL).name == "Westminster"


def test_reads_the_latest_eligible_population_recorded_on_or_before_a_date(world: World) -> None:
    first = {"physical": 1_200, "mental-health": 300}
    second = {"physical": 1_250, "learning-disability": 410}
    world.app.record_eligible_population(COUNCIL, first, date(2010, 4, 1), world.admin())
    world.app.record_eligible_population(COUNCIL, second, date(2011, 4, 1), world.admin())

    council = world.app.council(COUNCIL)

    assert council.eligible_population_on(date(2010, 3, 31)) == {}
    assert council.eligible_population_on(date(2010, 4, 1)) == first
    assert council.eligible_population_on(date(2011, 3, 31)) == first
    assert council.eligible_population_on(date(2011, 4, 1)) == second
    assert council.eligible_population_on(date(2020, 1, 1)) == second


@pytest.mark.parametrize(
    "counts",
    [
        {"astrology": 10},
        {"physical": -1},
        {"physical": 10_000_001},
        {"physical": True},
        {"physical": 12.5},
        {},
    ],
)
def test_refuses_an_unknown_support_reason_or_implausible_count(
    world: World, counts: dict[str, Any]
) -> None:
    refused(
        world,
        InvalidCommandError,
        lambda: world.app.record_eligible_population(
            COUNCIL, counts, date(2010, 4, 1), world.admin()
        ),
    )
    assert world.app.council(COUNCIL).populations == {}


@pytest.mark.parametrize(("weeks", "tolerance_bp"), [(0, 500), (53, 500), (8, -1), (8, 5001)])
def test_refuses_a_policy_out_of_bounds(world: World, weeks: int, tolerance_bp: int) -> None:
    refused(
        world,
        InvalidCommandError,
        lambda: world.app.change_council_policy(
            COUNCIL, weeks, tolerance_bp, date(2011, 4, 1), world.admin()
        ),
    )
    council: Council = world.app.council(COUNCIL)
    assert (council.surplus_weeks, council.invoice_tolerance_bp) == (8, 500)


@pytest.mark.parametrize(("weeks", "tolerance_bp"), [(1, 0), (52, 5000)])
def test_accepts_a_policy_at_its_bounds(world: World, weeks: int, tolerance_bp: int) -> None:
    world.app.change_council_policy(COUNCIL, weeks, tolerance_bp, date(2011, 4, 1), world.admin())

    council = world.app.council(COUNCIL)
    assert (council.surplus_weeks, council.invoice_tolerance_bp) == (weeks, tolerance_bp)


def test_a_zero_tolerance_flags_an_invoice_one_penny_over_plan(world: World) -> None:
    budget_id = world.active_budget()
    world.app.change_council_policy(COUNCIL, 8, 0, START, world.admin())
    draft = world.draft(budget_id, hours_hundredths=4000)  # exactly the plan's 52,000p
    over = world.draft(budget_id, "INV-0002", 4001, Period(date(2010, 5, 3), date(2010, 5, 30)))

    exact = world.app.post_invoice(PROVIDER, draft, world.as_provider())
    flagged = world.app.post_invoice(PROVIDER, over, world.as_provider())  # 52,013p

    assert (exact["flags"], flagged["flags"]) == ([], ["over-plan"])


# --- providers -----------------------------------------------------------------------------


def test_registers_a_provider_from_its_effective_date(world: World) -> None:
    world.app.register_provider("1-202345678", "Beta Care Ltd", date(2010, 6, 1), world.admin())

    provider = world.app.provider("1-202345678")
    assert provider.status_on(date(2010, 5, 31)) is None
    assert provider.status_on(date(2010, 6, 1)) is REGISTERED
    assert not provider.is_registered_throughout(Period(date(2010, 5, 31), date(2010, 6, 30)))


def test_refuses_a_second_provider_with_the_same_reference(world: World) -> None:
    refused(
        world,
        AlreadyExistsError,
        lambda: world.app.register_provider(
            PROVIDER, "Impostor Ltd", date(2010, 1, 1), world.admin()
        ),
    )
    assert world.app.provider(PROVIDER).name == "Acme Home Care Ltd"


def test_keeps_a_status_history_with_effective_dates(world: World) -> None:
    world.app.change_provider_status(PROVIDER, "suspended", date(2010, 6, 1), world.admin())
    world.app.change_provider_status(PROVIDER, "registered", date(2010, 7, 1), world.admin())

    provider = world.app.provider(PROVIDER)

    assert [provider.status_on(date(2010, m, 15)) for m in (5, 6, 7)] == [
        REGISTERED,
        SUSPENDED,
        REGISTERED,
    ]
    assert provider.is_registered_throughout(Period(date(2010, 4, 1), date(2010, 5, 31)))
    assert not provider.is_registered_throughout(Period(date(2010, 5, 15), date(2010, 6, 15)))
    assert not provider.is_registered_throughout(Period(date(2010, 6, 30), date(2010, 7, 10)))
    assert provider.is_registered_throughout(Period(date(2010, 7, 1), date(2010, 8, 1)))


def test_records_a_back_dated_suspension_in_date_order(world: World) -> None:
    world.app.change_provider_status(PROVIDER, "suspended", date(2010, 9, 1), world.admin())
    world.app.change_provider_status(PROVIDER, "suspended", date(2010, 3, 1), world.admin())
    world.app.change_provider_status(PROVIDER, "registered", date(2010, 4, 1), world.admin())

    provider = world.app.provider(PROVIDER)

    assert [d for d, _ in provider.history] == [
        date(2009, 1, 1),
        date(2010, 3, 1),
        date(2010, 4, 1),
        date(2010, 9, 1),
    ]
    assert provider.status_on(date(2010, 3, 15)) is SUSPENDED
    assert provider.status_on(date(2010, 9, 15)) is SUSPENDED


def test_refuses_a_status_the_provider_already_has(world: World) -> None:
    refused(
        world,
        InvalidTransitionError,
        lambda: world.app.change_provider_status(
            PROVIDER, "registered", date(2010, 6, 1), world.admin()
        ),
    )


def test_refuses_an_unknown_provider_status(world: World) -> None:
    refused(
        world,
        InvalidCommandError,
        lambda: world.app.change_provider_status(
            PROVIDER, "closed", date(2010, 6, 1), world.admin()
        ),
    )


@pytest.mark.parametrize("status", ["registered", "suspended"])
def test_refuses_any_status_change_after_deregistration(world: World, status: str) -> None:
    world.app.change_provider_status(PROVIDER, "deregistered", date(2011, 1, 1), world.admin())

    refused(
        world,
        InvalidTransitionError,
        lambda: world.app.change_provider_status(PROVIDER, status, date(2011, 2, 1), world.admin()),
    )
    assert world.app.provider(PROVIDER).status_on(date(2011, 2, 1)) is ProviderStatus.DEREGISTERED


def test_a_back_dated_deregistration_outranks_later_status_changes(world: World) -> None:
    world.app.change_provider_status(PROVIDER, "suspended", date(2011, 3, 1), world.admin())
    world.app.change_provider_status(PROVIDER, "deregistered", date(2011, 1, 1), world.admin())

    refused(
        world,
        InvalidTransitionError,
        lambda: world.app.change_provider_status(
            PROVIDER, "registered", date(2011, 5, 1), world.admin()
        ),
    )
    provider = world.app.provider(PROVIDER)
    assert provider.status_on(date(2011, 4, 1)) is ProviderStatus.DEREGISTERED
    assert not provider.is_registered_throughout(Period(date(2011, 4, 1), date(2011, 4, 28)))


# --- pooled funds --------------------------------------------------------------------------


def test_establishes_a_pooled_fund_with_its_partners(world: World) -> None:
    partners = ("NHS-RV3", "NHS-RRP")
    world.app.establish_pooled_fund(COUNCIL, "LD-POOL", partners, date(2010, 4, 1), world.admin())

    pool = world.app.pooled_fund(COUNCIL, "LD-POOL")
    assert (pool.partners, pool.contributed_pence, pool.undrawn_pence) == (partners, 0, 0)


@pytest.mark.parametrize(
    ("council", "fund", "partners", "error"),
    [
        (COUNCIL, POOL, ("NHS-RV3",), AlreadyExistsError),
        (OTHER_COUNCIL, "LD-POOL", ("NHS-RV3",), CouncilNotFoundError),
        (COUNCIL, "LD-POOL", ("NHS-RV3", "NHS-RV3"), InvalidCommandError),
        (COUNCIL, "LD-POOL", (), InvalidCommandError),
    ],
)
def test_refuses_a_pooled_fund_that_exists_or_is_malformed(
    world: World, council: str, fund: str, partners: tuple[str, ...], error: type[LedgerError]
) -> None:
    refused(
        world,
        error,
        lambda: world.app.establish_pooled_fund(council, fund, partners, START, world.admin()),
    )


def test_receives_contributions_only_from_partners(world: World) -> None:
    refused(
        world,
        InvalidCommandError,
        lambda: world.app.receive_pool_contribution(
            COUNCIL, POOL, "NHS-XYZ", 1_00, START, world.admin()
        ),
    )
    world.app.receive_pool_contribution(COUNCIL, POOL, "NHS-RV3", 2_500_00, START, world.admin())

    assert world.app.pooled_fund(COUNCIL, POOL).contributed_pence == 50_000_00 + 2_500_00


def test_refuses_a_drawdown_beyond_the_partners_contributions(world: World) -> None:
    budget_id = world.opened_budget("mental-health")
    too_much = allocation(total=60_000_00, pooled=50_000_01)

    refused(
        world,
        PoolOverdrawnError,
        lambda: world.app.approve_budget(budget_id, too_much, START, world.prov()),
    )

    assert world.app.budget(budget_id).approved_on is None
    assert world.app.pooled_fund(COUNCIL, POOL).drawn_pence == 0


def test_draws_down_exactly_what_the_partners_contributed_and_no_more(world: World) -> None:
    first, second = world.opened_budget("mental-health"), world.opened_budget("mental-health")
    world.app.approve_budget(
        first, allocation(total=60_000_00, pooled=50_000_00), START, world.prov()
    )

    refused(
        world,
        PoolOverdrawnError,
        lambda: world.app.approve_budget(second, allocation(pooled=1), START, world.prov()),
    )

    pool = world.app.pooled_fund(COUNCIL, POOL)
    assert (pool.drawn_pence, pool.undrawn_pence, pool.drawn_by_budget) == (
        50_000_00,
        0,
        {first: 50_000_00},
    )


# --- identities in one form ------------------------------------------------------------------

REGISTER: dict[str, tuple[str, Callable[[World, str], object]]] = {
    "council code": (
        COUNCIL,
        lambda w, code: w.app.register_council(code, "Look-alike", date(2010, 4, 1), w.admin()),
    ),
    "provider_ref": (
        "1-ACME00001",  # refused for its form, registered or not
        lambda w, ref: w.app.register_provider(ref, "Look-alike Ltd", date(2010, 4, 1), w.admin()),
    ),
    "fund_ref": (
        POOL,
        lambda w, ref: w.app.establish_pooled_fund(
            COUNCIL, ref, ("NHS-RV3",), date(2010, 4, 1), w.admin()
        ),
    ),
}
LOOK_ALIKES: dict[str, Callable[[str], str]] = {
    "trailing space": lambda v: v + " ",
    "leading space": lambda v: " " + v,
    "one letter lower": lambda v: re.sub("[A-Z]", lambda m: m.group().lower(), v, count=1),
    "inner space": lambda v: v[:3] + " " + v[3:],
    "lower case": str.lower,
}


@pytest.mark.parametrize("field", list(REGISTER))
@pytest.mark.parametrize("spelling", list(LOOK_ALIKES))
def test_refuses_an_identity_that_is_a_look_alike_of_its_plain_form(
    world: World, field: str, spelling: str
) -> None:
    plain, register = REGISTER[field]

    refused(world, InvalidCommandError, lambda: register(world, LOOK_ALIKES[spelling](plain)))

    with pytest.raises(InvalidCommandError) as refusal:
        register(world, LOOK_ALIKES[spelling](plain))
    assert refusal.value.facts == {"field": field, "plain": plain}
