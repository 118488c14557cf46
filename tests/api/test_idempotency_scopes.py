"""Idempotency-Keys belong to the caller's account, as Stripe scopes keys to an account: a council
(every officer token, old and new), a care firm, one representative's appointment, the auditors.
The same key in two accounts is two commands, and never tells one account about the other's."""

from __future__ import annotations

from typing import Any

import pytest

from api.auth import TokenStore
from tests.api.conftest import Api, active_budget, approval_body, budget_body
from tests.support import OTHER_COUNCIL, PROVIDER

PERIOD = {"start": "2010-04-05", "end": "2010-05-02"}
CASH = {"amount_pence": 400_00, "period": PERIOD, "effective_on": "2010-04-05"}
REP = "REP-0001"
APPOINT = {
    "representative_id": REP,
    "kind": "authorised",
    "basis": "deputy",
    "effective_on": "2010-04-05",
}
DECISION = {"decision": "choose-provider", "subject_ref": PROVIDER, "effective_on": "2010-04-10"}


def invoice(budget_id: str, number: str = "INV-S1") -> dict[str, Any]:
    return {
        "invoice_number": number,
        "budget_id": budget_id,
        "period": PERIOD,
        "lines": [{"service": "home-care", "units_hundredths": 4000, "rate_pence": 13_00}],
        "invoice_date": "2010-05-03",
    }


def other_council_budget(api: Api) -> str:
    """An active budget in the other council, set up by that council's officer."""
    who = "other_council"
    opened = api.post(who, "/v1/budgets", budget_body(council=OTHER_COUNCIL)).json()["id"]
    line = {"service": "home-care", "units_per_week_hundredths": 1000, "rate_pence": 13_00}
    plan = {"lines": [{**line, "provider_id": PROVIDER}], "effective_on": "2010-04-05"}
    for path, body in (
        ("support-plan", plan),
        ("approval", approval_body()),
        ("deployment", {"kind": "council-managed", "effective_on": "2010-04-05"}),
    ):
        assert api.post(who, f"/v1/budgets/{opened}/{path}", body).status_code == 200
    return str(opened)


def drawn(api: Api, budget_id: str) -> int:
    return api.service.app.budget(budget_id).drawn_pence


def test_the_same_key_from_two_councils_is_two_commands(api: Api) -> None:
    mine = api.post("council", "/v1/budgets", budget_body(), key="open-1")
    theirs = api.post(
        "other_council", "/v1/budgets", budget_body(council=OTHER_COUNCIL), key="open-1"
    )

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert not mine.json()["replayed"] and not theirs.json()["replayed"]


def test_a_council_that_rotates_its_token_and_resends_a_payment_pays_once(api: Api) -> None:
    budget_id = active_budget(api)
    store = TokenStore(api.service.db)
    old_token, old = store.create("council", council="E09000033")
    api.tokens["old"] = old_token
    first = api.post("old", f"/v1/budgets/{budget_id}/cash-payments", CASH, key="pay-april")
    assert first.status_code == 200
    store.revoke(old.token_id)
    api.tokens["new"] = store.create("council", council="E09000033")[0]
    before = api.event_count()

    again = api.post("new", f"/v1/budgets/{budget_id}/cash-payments", CASH, key="pay-april")

    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["version"] == first.json()["version"]
    assert api.event_count() == before
    assert drawn(api, budget_id) == 400_00


def test_representatives_with_one_id_in_two_councils_have_their_own_keys(api: Api) -> None:
    here, there = active_budget(api), other_council_budget(api)
    assert api.post("council", f"/v1/budgets/{here}/representatives", APPOINT).status_code == 201
    appointed = api.post("other_council", f"/v1/budgets/{there}/representatives", APPOINT)
    assert appointed.status_code == 201
    api.tokens["rep_here"] = api.token("representative", budget_id=here, representative_id=REP)
    api.tokens["rep_there"] = api.token("representative", budget_id=there, representative_id=REP)

    mine = api.post("rep_here", f"/v1/budgets/{here}/decisions", DECISION, key="decide-1")
    other = {**DECISION, "decision": "agree-plan"}
    theirs = api.post("rep_there", f"/v1/budgets/{there}/decisions", other, key="decide-1")

    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert not theirs.json()["replayed"]


def test_the_same_key_from_two_care_firms_is_two_invoices(api: Api) -> None:
    budget_id = active_budget(api)

    mine = api.post("provider", "/v1/invoices", invoice(budget_id), key="inv-key")
    theirs = api.post("other_provider", "/v1/invoices", invoice(budget_id), key="inv-key")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


def test_a_key_reused_for_another_command_is_a_conflict_within_the_account(api: Api) -> None:
    budget_id = active_budget(api)
    api.tokens["second_officer"] = api.token("council", council="E09000033")
    api.post("council", f"/v1/budgets/{budget_id}/cash-payments", CASH, key="pay-may")
    before = api.event_count()

    other = {**CASH, "amount_pence": 401_00}
    reused = api.post("second_officer", f"/v1/budgets/{budget_id}/cash-payments", other,
                      key="pay-may")  # fmt: skip

    assert reused.status_code == 409
    assert reused.json()["type"] == "/problems/idempotency-key-reused"
    assert api.event_count() == before


def test_a_key_with_surrounding_whitespace_is_the_same_key(api: Api) -> None:
    budget_id = active_budget(api)
    first = api.post("council", f"/v1/budgets/{budget_id}/cash-payments", CASH, key="pay-june")

    again = api.post("council", f"/v1/budgets/{budget_id}/cash-payments", CASH, key=" pay-june\t")

    assert again.json()["replayed"] is True and again.json()["version"] == first.json()["version"]
    assert drawn(api, budget_id) == 400_00


@pytest.mark.parametrize("key", [b"pay\x01june", "pay\u00e9".encode(), b"k" * 65, b"   "])
def test_refuses_a_key_with_control_or_non_ascii_characters_or_too_long(
    api: Api, key: bytes
) -> None:
    budget_id = active_budget(api)
    before = api.event_count()

    refused = api.client.post(
        f"/v1/budgets/{budget_id}/cash-payments",
        json=CASH,
        headers={**api.headers("council"), "Idempotency-Key": key},  # type: ignore[dict-item]
    )

    assert refused.status_code == 400
    assert refused.json()["type"] == "/problems/invalid-idempotency-key"
    assert api.event_count() == before
