"""Rule 8: a representative acts only while appointed, only for that budget."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.budget import PersonalBudget
from ledger.errors import (
    BudgetEndedError,
    InvalidCommandError,
    InvalidTransitionError,
    RepresentativeNotAppointedError,
    RepresentativeNotFoundError,
)
from ledger.provenance import Provenance
from tests.support import PROVIDER, START, World

APPOINTED = START + timedelta(days=10)
REVOKED = START + timedelta(days=40)
REP = "rep-1"


def as_rep(world: World, rep: str = REP) -> Provenance:
    return world.prov("representative", rep)


def decisions(world: World) -> list[PersonalBudget.DecisionRecorded]:
    return [e for e in world.events() if isinstance(e, PersonalBudget.DecisionRecorded)]


def with_rep(world: World, kind: str = "nominated", basis: str = "person-nominated") -> str:
    budget_id = world.active_budget()
    world.app.appoint_representative(budget_id, REP, kind, basis, APPOINTED, world.prov())
    return budget_id


@pytest.mark.parametrize(
    ("kind", "basis"),
    [
        ("nominated", "person-nominated"),
        ("authorised", "attorney"),
        ("authorised", "deputy"),
        ("authorised", "council-approved"),
        ("carer", "none"),
    ],
)
def test_records_an_appointment_on_its_basis(world: World, kind: str, basis: str) -> None:
    # given an active budget; when a representative is appointed
    budget_id = with_rep(world, kind, basis)
    # then the budget knows them from the appointment date
    rep = world.app.budget(budget_id).representatives[REP]
    assert (rep.kind, rep.basis, rep.appointed_on, rep.revoked_on) == (kind, basis, APPOINTED, None)


@pytest.mark.parametrize(
    ("kind", "basis"),
    [
        ("nominated", "attorney"),  # s31: nominated by the person themselves
        ("nominated", "none"),
        ("authorised", "none"),  # s32 needs an attorney, deputy or council approval
        ("authorised", "person-nominated"),
        ("friend", "none"),
        ("carer", "power-of-attorney"),
        ("Nominated", "person-nominated"),
    ],
)
def test_refuses_an_appointment_without_a_valid_basis(world: World, kind: str, basis: str) -> None:
    budget_id = world.active_budget()
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.appoint_representative(budget_id, REP, kind, basis, APPOINTED, world.prov())
    assert world.event_count() == before
    assert world.app.budget(budget_id).representatives == {}


@pytest.mark.parametrize("rep_id", ["rep\x001", "rep\u200b1", "", "r" * 65])
def test_refuses_a_malformed_representative_id(world: World, rep_id: str) -> None:
    budget_id = world.active_budget()
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.appoint_representative(
            budget_id, rep_id, "carer", "none", APPOINTED, world.prov()
        )
    assert world.event_count() == before


def test_refuses_to_appoint_a_representative_twice(world: World) -> None:
    budget_id = with_rep(world)
    before = world.event_count()
    with pytest.raises(InvalidTransitionError):
        world.app.appoint_representative(budget_id, REP, "carer", "none", REVOKED, world.prov())
    assert world.event_count() == before


def test_refuses_an_appointment_on_an_ended_budget(world: World) -> None:
    budget_id = world.active_budget()
    world.app.end_budget(budget_id, "death", APPOINTED, world.prov())
    before = world.event_count()
    with pytest.raises(BudgetEndedError):
        world.app.appoint_representative(budget_id, REP, "carer", "none", APPOINTED, world.prov())
    assert world.event_count() == before


def test_records_a_decision_on_behalf_of_the_person(world: World) -> None:
    # given a nominated person on a budget
    budget_id = with_rep(world)
    person_ref = world.app.budget(budget_id).person_ref
    # when they choose a provider on the day of their appointment
    prov = as_rep(world)
    world.app.record_decision(budget_id, REP, "choose-provider", PROVIDER, APPOINTED, prov)
    # then the decision names the person it was made for and who made it
    [decision] = decisions(world)
    assert str(decision.originator_id) == budget_id
    assert (decision.representative_id, decision.decision, decision.subject_ref) == (
        REP,
        "choose-provider",
        PROVIDER,
    )
    assert decision.prov.on_behalf_of == person_ref
    assert (decision.prov.actor_id, decision.prov.actor_role) == (REP, "representative")
    assert decision.prov.command_id == prov.command_id
    assert decision.effective_on == APPOINTED


def test_records_a_decision_on_the_last_day_before_revocation(world: World) -> None:
    budget_id = with_rep(world)
    world.app.revoke_representative(budget_id, REP, REVOKED, world.prov())
    world.app.record_decision(
        budget_id, REP, "approve-timesheet", None, REVOKED - timedelta(days=1), as_rep(world)
    )
    assert [d.decision for d in decisions(world)] == ["approve-timesheet"]


def test_refuses_a_decision_once_revoked(world: World) -> None:
    # given a representative revoked from day 40
    budget_id = with_rep(world)
    world.app.revoke_representative(budget_id, REP, REVOKED, world.prov())
    before = world.event_count()
    # when they decide on day 40 or later: then rule 8 refuses and nothing is written
    for day in (REVOKED, REVOKED + timedelta(days=30)):
        with pytest.raises(RepresentativeNotAppointedError):
            world.app.record_decision(budget_id, REP, "agree-plan", None, day, as_rep(world))
    assert world.event_count() == before
    assert decisions(world) == []


def test_refuses_a_decision_dated_before_the_appointment(world: World) -> None:
    budget_id = with_rep(world)
    before = world.event_count()
    with pytest.raises(RepresentativeNotAppointedError):
        world.app.record_decision(
            budget_id, REP, "opt-for-cash", None, APPOINTED - timedelta(days=1), as_rep(world)
        )
    assert world.event_count() == before


def test_refuses_a_decision_for_another_budget(world: World) -> None:
    # given a representative appointed on one budget only
    with_rep(world)
    other_budget = world.active_budget()
    before = world.event_count()
    # when they try to decide for someone else's budget
    with pytest.raises(RepresentativeNotAppointedError):
        world.app.record_decision(
            other_budget, REP, "choose-provider", PROVIDER, REVOKED, as_rep(world)
        )
    assert world.event_count() == before


def test_refuses_a_decision_after_the_budget_ended(world: World) -> None:
    budget_id = with_rep(world)
    world.app.end_budget(budget_id, "moved-away", REVOKED, world.prov())
    before = world.event_count()
    with pytest.raises(RepresentativeNotAppointedError):
        world.app.record_decision(
            budget_id, REP, "decline-service", None, REVOKED + timedelta(days=1), as_rep(world)
        )
    assert world.event_count() == before


def test_refuses_an_unknown_decision_or_malformed_subject(world: World) -> None:
    budget_id = with_rep(world)
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.record_decision(budget_id, REP, "sell-the-house", None, APPOINTED, as_rep(world))
    with pytest.raises(InvalidCommandError):
        world.app.record_decision(
            budget_id, REP, "choose-provider", "prov\x1bider", APPOINTED, as_rep(world)
        )
    assert world.event_count() == before


def test_refuses_to_revoke_twice(world: World) -> None:
    budget_id = with_rep(world)
    world.app.revoke_representative(budget_id, REP, REVOKED, world.prov())
    before = world.event_count()
    with pytest.raises(InvalidTransitionError):
        world.app.revoke_representative(budget_id, REP, REVOKED + timedelta(days=1), world.prov())
    assert world.event_count() == before
    assert world.app.budget(budget_id).representatives[REP].revoked_on == REVOKED


def test_refuses_to_revoke_an_unknown_representative(world: World) -> None:
    budget_id = with_rep(world)
    before = world.event_count()
    with pytest.raises(RepresentativeNotFoundError):
        world.app.revoke_representative(budget_id, "rep-2", REVOKED, world.prov())
    assert world.event_count() == before


def test_refuses_a_revocation_dated_before_the_appointment(world: World) -> None:
    budget_id = with_rep(world)
    before = world.event_count()
    with pytest.raises(InvalidCommandError):
        world.app.revoke_representative(budget_id, REP, APPOINTED - timedelta(days=1), world.prov())
    assert world.event_count() == before


def test_a_revoked_representative_can_be_appointed_again(world: World) -> None:
    # given a representative revoked on day 40
    budget_id = with_rep(world)
    world.app.revoke_representative(budget_id, REP, REVOKED, world.prov())
    # when they are appointed again from day 50 as an attorney
    again = REVOKED + timedelta(days=10)
    world.app.appoint_representative(budget_id, REP, "authorised", "attorney", again, world.prov())
    # then they may decide from day 50 but not in the gap
    world.app.record_decision(budget_id, REP, "approve-invoice", "INV-0001", again, as_rep(world))
    before = world.event_count()
    with pytest.raises(RepresentativeNotAppointedError):
        world.app.record_decision(
            budget_id, REP, "approve-invoice", None, again - timedelta(days=1), as_rep(world)
        )
    assert world.event_count() == before
    assert [(d.decision, d.subject_ref) for d in decisions(world)] == [
        ("approve-invoice", "INV-0001")
    ]


def test_refuses_a_representative_recording_another_representatives_decision(world: World) -> None:
    # given two representatives appointed on one budget
    budget_id = with_rep(world)
    world.app.appoint_representative(budget_id, "rep-2", "carer", "none", APPOINTED, world.prov())
    before = world.event_count()
    # when rep-2 records a decision in rep-1's name: then it is refused and nothing is written
    with pytest.raises(RepresentativeNotAppointedError):
        world.app.record_decision(
            budget_id, REP, "approve-timesheet", None, APPOINTED, as_rep(world, "rep-2")
        )
    assert world.event_count() == before
    # and a council officer may still record one on the representative's behalf
    world.app.record_decision(budget_id, REP, "approve-timesheet", None, APPOINTED, world.prov())
    assert [d.prov.actor_role for d in decisions(world)] == ["council"]
