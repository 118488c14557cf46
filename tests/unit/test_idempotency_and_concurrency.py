"""Idempotency (a command id runs once per account — ``Provenance.idempotency_scope`` — or per
actor when a command names no account) and optimistic concurrency (a lost race is
retried from a fresh load, a bounded number of times), DESIGN.md §3.

Races are staged deterministically: the rival application's budget loader is wrapped so that,
right after it reads the budget, the first application commits a change to that same budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ledger.app_core import MAX_ATTEMPTS
from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.errors import (
    BudgetSuspendedError,
    ConcurrencyConflictError,
    IdempotencyConflictError,
    InsufficientFundsError,
    LedgerError,
    VersionMismatchError,
)
from ledger.provenance import Provenance
from tests.support import FOUR_WEEKS, PROVIDER, START, World


def refused(world: World, error: type[LedgerError], command: Callable[[], object]) -> None:
    """Then: the command raises ``error`` and writes nothing."""
    before = world.event_count()
    with pytest.raises(error):
        command()
    assert world.event_count() == before


def pay(
    app: CareLedger, budget_id: str, pence: int, prov: Provenance, **kwargs: Any
) -> dict[str, Any]:
    return app.issue_cash_payment(budget_id, pence, FOUR_WEEKS, START, prov, **kwargs)


# --- idempotency ---------------------------------------------------------------------------


def test_returns_the_first_outcome_for_a_repeated_command_id_and_writes_nothing(
    world: World,
) -> None:
    budget_id = world.active_budget()
    prov = world.prov()
    first = pay(world.app, budget_id, 400_00, prov)
    before = world.event_count()

    again = pay(world.app, budget_id, 400_00, prov)

    assert again == {**first, "replayed": True}
    assert world.event_count() == before
    assert world.app.budget(budget_id).drawn_pence == 400_00


def test_replays_a_posted_invoice_rather_than_refusing_it_as_a_duplicate(world: World) -> None:
    budget_id = world.active_budget()
    prov = world.as_provider()
    first = world.app.post_invoice(PROVIDER, world.draft(budget_id), prov)
    before = world.event_count()

    again = world.app.post_invoice(PROVIDER, world.draft(budget_id), prov)

    assert again == {**first, "replayed": True}
    assert world.event_count() == before


@pytest.mark.parametrize("different", ["amount", "command"])
def test_refuses_a_command_id_reused_for_a_different_command(world: World, different: str) -> None:
    budget_id = world.active_budget()
    prov = world.prov()
    pay(world.app, budget_id, 400_00, prov)

    def reuse() -> object:
        if different == "amount":
            return pay(world.app, budget_id, 401_00, prov)
        return world.app.review_budget(budget_id, START, prov)

    refused(world, IdempotencyConflictError, reuse)
    assert world.app.budget(budget_id).drawn_pence == 400_00


def test_treats_the_same_command_id_from_two_actors_as_two_commands(world: World) -> None:
    budget_id = world.active_budget()
    before = world.event_count()

    first = pay(world.app, budget_id, 400_00, Provenance("officer-1", "council", "pay-april"))
    second = pay(world.app, budget_id, 400_00, Provenance("officer-2", "council", "pay-april"))

    assert "replayed" not in second and second["version"] == first["version"] + 1
    assert world.event_count() == before + 4  # two payments, two command records
    assert world.app.budget(budget_id).drawn_pence == 800_00


def in_account(actor: str, key: str, scope: str = "council:E09000033") -> Provenance:
    return Provenance(actor, "council", key, idempotency_scope=scope)


def test_replays_a_key_sent_again_by_another_token_of_the_same_account(world: World) -> None:
    """A council rotates its token and resends a payment: it is paid once."""
    budget_id = world.active_budget()
    first = pay(world.app, budget_id, 400_00, in_account("tok_old", "pay-april"))
    before = world.event_count()

    again = pay(world.app, budget_id, 400_00, in_account("tok_new", "pay-april"))

    assert again == {**first, "replayed": True}
    assert world.event_count() == before
    assert world.app.budget(budget_id).drawn_pence == 400_00


def test_treats_the_same_key_in_two_accounts_as_two_commands(world: World) -> None:
    budget_id = world.active_budget()

    pay(world.app, budget_id, 400_00, in_account("tok_a", "pay-april", "council:A"))
    second = pay(world.app, budget_id, 400_00, in_account("tok_a", "pay-april", "council:B"))

    assert "replayed" not in second
    assert world.app.budget(budget_id).drawn_pence == 800_00


def test_refuses_a_key_reused_in_the_account_for_a_different_command(world: World) -> None:
    budget_id = world.active_budget()
    pay(world.app, budget_id, 400_00, in_account("tok_old", "pay-april"))

    refused(
        world,
        IdempotencyConflictError,
        lambda: pay(world.app, budget_id, 401_00, in_account("tok_new", "pay-april")),
    )


def test_replays_a_command_recorded_by_its_actor_before_accounts_scoped_keys(
    world: World,
) -> None:
    """A record made before the upgrade is keyed by the actor alone: the same actor's retry
    after it still finds it (another token of the account does not: see the README)."""
    budget_id = world.active_budget()
    first = pay(world.app, budget_id, 400_00, Provenance("tok_old", "council", "pay-april"))
    before = world.event_count()

    again = pay(world.app, budget_id, 400_00, in_account("tok_old", "pay-april"))

    assert again == {**first, "replayed": True}
    assert world.event_count() == before


def test_keeps_the_actor_in_provenance_and_records_the_account(world: World) -> None:
    budget_id = world.active_budget()

    pay(world.app, budget_id, 400_00, in_account("tok_new", "pay-may"))

    paid = [e for e in world.events() if isinstance(e, PersonalBudget.CashPaymentIssued)][-1]
    assert (paid.prov.actor_id, paid.prov.idempotency_scope) == ("tok_new", "council:E09000033")
    first = world.events()[0]  # written with no account: stored, and read back, without one
    assert first.prov.idempotency_scope is None
    stored = world.app.recorder.select_notifications(1, 1)[0].state
    assert b"idempotency_scope" not in stored


def test_a_refused_command_does_not_use_up_its_id(world: World) -> None:
    budget_id = world.active_budget()
    world.app.suspend_budget(budget_id, START, world.prov())
    prov = world.prov()

    refused(world, BudgetSuspendedError, lambda: pay(world.app, budget_id, 400_00, prov))
    world.app.resume_budget(budget_id, START, world.prov())
    outcome = pay(world.app, budget_id, 400_00, prov)

    assert "replayed" not in outcome
    assert world.app.budget(budget_id).drawn_pence == 400_00


def test_refuses_a_command_made_against_a_stale_version(world: World) -> None:
    budget_id = world.active_budget()
    seen = world.app.budget(budget_id).version
    pay(world.app, budget_id, 100_00, world.prov())

    refused(
        world,
        VersionMismatchError,
        lambda: pay(world.app, budget_id, 200_00, world.prov(), expected_version=seen),
    )
    pay(world.app, budget_id, 200_00, world.prov(), expected_version=seen + 1)

    assert world.app.budget(budget_id).drawn_pence == 300_00


def test_refuses_an_invoice_approval_made_against_a_stale_version(world: World) -> None:
    budget_id = world.active_budget()
    invoice_id = world.app.post_invoice(PROVIDER, world.draft(budget_id), world.as_provider())[
        "invoice_id"
    ]
    world.app.dispute_invoice(invoice_id, START, world.prov(reason="query-hours"))

    refused(
        world,
        VersionMismatchError,
        lambda: world.app.approve_invoice(invoice_id, START, world.prov(), expected_version=1),
    )
    assert (
        world.app.approve_invoice(invoice_id, START, world.prov(), expected_version=2)["status"]
        == "approved"
    )


# --- optimistic concurrency: two applications on one SQLite file ---------------------------


@pytest.fixture
def rivals(sqlite_url: str) -> Iterator[tuple[World, CareLedger]]:
    """Two applications sharing one SQLite database: the set-up one, and a rival."""
    first, rival = CareLedger(sqlite_url), None
    try:
        world = World(first).setup()
        rival = CareLedger(sqlite_url)
        yield world, rival
    finally:
        first.close()
        if rival is not None:
            rival.close()


def stage_races(
    monkeypatch: pytest.MonkeyPatch, rival: CareLedger, meanwhile: Callable[[], object], times: int
) -> list[int]:
    """Wrap the rival's budget loader: for its first ``times`` loads, run ``meanwhile`` (the other
    application's commit) after the read. Returns the versions the rival loaded."""
    load = rival.budget
    loaded: list[int] = []

    def load_then_lose(budget_id: Any, expected_version: int | None = None) -> PersonalBudget:
        budget = load(budget_id, expected_version)
        loaded.append(budget.version)
        if len(loaded) <= times:
            meanwhile()
        return budget

    monkeypatch.setattr(rival, "budget", load_then_lose)
    return loaded


def test_retries_a_lost_race_from_a_fresh_load(
    rivals: tuple[World, CareLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, rival = rivals
    budget_id = world.active_budget()
    loaded = stage_races(
        monkeypatch, rival, lambda: pay(world.app, budget_id, 3_000_00, world.prov()), times=1
    )

    pay(rival, budget_id, 3_000_00, Provenance("officer-2", "council", "pay-2"))

    assert loaded[1] == loaded[0] + 1  # the retry saw the winner's payment
    assert world.app.budget(budget_id).drawn_pence == 6_000_00


def test_refuses_the_loser_of_a_race_that_would_overdraw(
    rivals: tuple[World, CareLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, rival = rivals
    budget_id = (
        world.active_budget()
    )  # £10,000 + £500 contingency: one £6,000 payment fits, two do not
    loaded = stage_races(
        monkeypatch, rival, lambda: pay(world.app, budget_id, 6_000_00, world.prov()), times=1
    )
    before = world.event_count()

    with pytest.raises(InsufficientFundsError):
        pay(rival, budget_id, 6_000_00, Provenance("officer-2", "council", "pay-2"))

    assert loaded[1] == loaded[0] + 1  # refused on the fresh load, not the stale one
    assert world.event_count() == before + 2  # the winner's payment and its command record only
    budget = world.app.budget(budget_id)
    assert (budget.drawn_pence, budget.available_pence) == (6_000_00, 4_000_00)


def test_reports_a_conflict_after_losing_every_attempt(
    rivals: tuple[World, CareLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, rival = rivals
    budget_id = world.active_budget()
    loaded = stage_races(
        monkeypatch,
        rival,
        lambda: pay(world.app, budget_id, 1_00, world.prov()),
        times=MAX_ATTEMPTS,
    )
    before = world.event_count()

    with pytest.raises(ConcurrencyConflictError):
        pay(rival, budget_id, 100_00, Provenance("officer-2", "council", "pay-2"))

    assert len(loaded) == MAX_ATTEMPTS
    assert world.event_count() == before + 2 * MAX_ATTEMPTS  # only the winners' writes
    assert world.app.budget(budget_id).drawn_pence == MAX_ATTEMPTS * 1_00


def test_a_retry_racing_its_first_try_gets_the_first_outcome_not_a_refusal(
    rivals: tuple[World, CareLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's first try commits between the retry's idempotency check and its rule checks;
    the retry must answer with that outcome, not with the refusal the rules now give."""
    world, rival = rivals
    budget_id = world.active_budget()  # £10,000 + £500: a second £6,000 would overdraw
    prov = Provenance("officer-2", "council", "pay-once")
    first: list[dict[str, Any]] = []
    load = rival.budget

    def first_try_commits_then_load(budget_id: Any, expected_version: int | None = None) -> Any:
        if not first:
            first.append(pay(world.app, budget_id, 6_000_00, prov))
        return load(budget_id, expected_version)

    monkeypatch.setattr(rival, "budget", first_try_commits_then_load)
    before = world.event_count()

    again = pay(rival, budget_id, 6_000_00, prov)

    assert again == {**first[0], "replayed": True}
    assert world.event_count() == before + 2  # the first try's payment and command record only
    assert world.app.budget(budget_id).drawn_pence == 6_000_00
