"""Personal data stored sealed under each person's key: the person's reference, representatives'
ids and auditors' notes about a budget never reach the event store in the clear, every read opens
them again, and events written before sealing read as they are."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.personal import IN_THE_CLEAR, context, is_sealed
from tests.api.conftest import Api, active_budget, budget_body
from tests.support import COUNCIL, World

PERSON = "P-000123"
REP = "REP-SEALED-77"
NOTE = "Officer approved the plan without a second signature on file"
REASON = "paid-twice-by-cheque-77"
PERIOD = {"start": "2010-04-05", "end": "2010-05-02"}


def stored_bytes(api: Api) -> bytes:
    """Every stored event's exact bytes (what the chain and the Merkle tree cover)."""
    notifications = api.service.app.recorder.select_notifications(1, 10_000_000)
    return b"\n".join(bytes(n.state) for n in notifications)


def with_personal_data(api: Api) -> str:
    """A budget with a representative who made a decision, and an auditor's note about it."""
    budget_id = active_budget(api)
    appoint = {"representative_id": REP, "kind": "authorised", "basis": "deputy",
               "effective_on": "2010-04-05"}  # fmt: skip
    assert api.post("council", f"/v1/budgets/{budget_id}/representatives", appoint).status_code
    api.tokens["rep"] = api.token("representative", budget_id=budget_id, representative_id=REP)
    decision = {"decision": "agree-plan", "effective_on": "2010-04-10"}
    assert api.post("rep", f"/v1/budgets/{budget_id}/decisions", decision).status_code == 200
    note = {"subject_entry_id": f"{budget_id}/1", "code": "ctrl-weak", "note": NOTE,
            "effective_on": "2010-05-01"}  # fmt: skip
    assert api.post("auditor", "/v1/audit/notes", note).status_code == 201
    cash = {"amount_pence": 100_00, "period": PERIOD, "effective_on": "2010-04-05"}
    paid = api.post("council", f"/v1/budgets/{budget_id}/cash-payments", cash).json()
    correction = {"entry_id": f"{budget_id}/{paid['version']}", "amount_pence": 100_00,
                  "effective_on": "2010-04-06", "reason": REASON}  # fmt: skip
    assert api.post("council", "/v1/corrections", correction).status_code == 200
    return budget_id


def trail_reasons(api: Api) -> list[str]:
    rows = api.get("auditor", "/v1/audit", type="Corrected", limit=100).json()["items"]
    return [r["reason"] for r in rows]


def exception_details(api: Api) -> list[str]:
    found = api.get("auditor", "/v1/exceptions", kind="correction", on="2011-01-01").json()
    return [e["detail"] for e in found["items"]]


def trail_note(api: Api) -> Any:
    rows = api.get("auditor", "/v1/audit", limit=100).json()["items"]
    return next(r["audit_note"]["note"] for r in rows if r.get("audit_note"))


def test_personal_fields_are_stored_only_sealed(api: Api) -> None:
    with_personal_data(api)

    stored = stored_bytes(api)

    for plain in (PERSON, REP, NOTE, "REP-SEALED", REASON):
        assert plain.encode() not in stored
    assert b"pii1:" in stored


def test_reads_open_the_sealed_fields_for_those_allowed_to_see_them(api: Api) -> None:
    budget_id = with_personal_data(api)

    shown = api.get("council", f"/v1/budgets/{budget_id}").json()

    assert shown["person_ref"] == PERSON
    assert list(shown["representatives"]) == [REP]
    assert trail_note(api) == NOTE
    assert trail_reasons(api) == [REASON]
    assert exception_details(api) == [f"CashPaymentIssued v7: {REASON}"]
    assert api.get("rep", f"/v1/budgets/{budget_id}").status_code == 200  # rule 8 by pseudonym


def test_decisions_and_the_trail_name_the_person_and_representative_by_pseudonym(
    api: Api,
) -> None:
    budget_id = with_personal_data(api)
    personal = api.service.app.personal

    rows = api.get("auditor", "/v1/audit", budget=budget_id, limit=100).json()["items"]
    decided = next(r for r in rows if r["event_type"].endswith("DecisionRecorded"))

    assert decided["on_behalf_of"] == personal.pseudonym("person", PERSON) != PERSON
    assert decided["actor_id"] == personal.pseudonym("representative", REP) != REP


def test_a_sealed_value_opens_only_in_its_own_record_and_field(api: Api) -> None:
    budget_id = with_personal_data(api)
    app = api.service.app
    stored = app.budget(budget_id).person_ref

    assert is_sealed(stored)
    assert app.personal.reveal(stored, context(budget_id, "person_ref")) == PERSON
    assert app.personal.reveal(stored, context(budget_id, "representative_id")) == "erased"
    assert app.personal.reveal(stored, context("another-budget", "person_ref")) == "erased"


def test_events_stored_before_sealing_read_as_they_are(api: Api) -> None:
    app = api.service.app
    sealing, app.personal = app.personal, IN_THE_CLEAR  # a ledger from before this change
    world = World(app)
    opened = app.open_budget(
        COUNCIL, "P-OLD-1", "physical", date(2010, 4, 5), world.prov(), carer_budget=False
    )
    app.personal = sealing

    shown = api.get("council", f"/v1/budgets/{opened['budget_id']}").json()

    assert shown["person_ref"] == "P-OLD-1"
    assert b"P-OLD-1" in stored_bytes(api)  # written in the clear then, and still readable


def test_a_new_budget_for_the_same_person_shares_their_pseudonym(api: Api) -> None:
    first = api.post("council", "/v1/budgets", budget_body()).json()["id"]
    second = api.post("council", "/v1/budgets", budget_body()).json()["id"]
    app = api.service.app

    assert app.budget(first).person == app.budget(second).person
    assert app.budget(first).person_ref != app.budget(second).person_ref  # fresh nonce each time


def test_the_trail_filtered_by_a_representatives_id_finds_their_acts(api: Api) -> None:
    budget_id = with_personal_data(api)

    rows = api.get("auditor", "/v1/audit", actor=REP).json()["items"]

    assert [r["event_type"] for r in rows] == [
        "PersonalBudget.DecisionRecorded",
        "CommandRecord.Accepted",  # the decision's idempotency record
    ]
    assert rows[0]["budget_id"] == budget_id
