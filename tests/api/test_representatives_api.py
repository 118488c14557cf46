"""Representatives, decisions, corrections, direct-payment returns and reviews through a real
client: who may call them, rule 8 enforced on the token, rule 10 on corrections, nothing
written on any refusal."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from ledger.app_invoices import InvoiceDraft
from ledger.personal import context, representative_shown, reveal_reasons
from ledger.provenance import Provenance
from ledger.values import InvoiceLine, Period
from tests.api.conftest import Api, active_budget, budget_body
from tests.support import PROVIDER

REP = "REP-0001"
APPOINT = dict(representative_id=REP, kind="authorised", basis="deputy", effective_on="2010-04-05")
DECISION = {"decision": "choose-provider", "subject_ref": PROVIDER, "effective_on": "2010-04-10"}
PERIOD = {"start": "2010-04-05", "end": "2010-05-02"}
RETURN = {"amount_pence": 100, "period": PERIOD, "effective_on": "2010-05-03"}
CORRECTION = {"amount_pence": 100, "effective_on": "2010-04-06", "reason": "paid-twice"}
REVIEW = {"effective_on": "2010-10-01"}
NOT_COUNCILS = ("admin", "provider", "auditor", "regulator", "representative")
OTHERS = (*NOT_COUNCILS, "other_council")
NOT_APPOINTED = "representative-not-appointed"


def problem(response: Any) -> tuple[int, str]:
    """The status and the problem's type, without its /problems/ prefix."""
    return response.status_code, response.json()["type"].removeprefix("/problems/")


def appointed(api: Api, budget_id: str | None = None) -> str:
    """An active budget with REP appointed, and a representative token for it."""
    budget_id = budget_id or active_budget(api)
    created = api.post("council", f"/v1/budgets/{budget_id}/representatives", APPOINT)
    assert created.status_code == 201
    api.tokens["representative"] = api.token(
        "representative", budget_id=budget_id, representative_id=REP
    )
    return budget_id


def decide(api: Api, who: str, budget_id: str, **changes: Any) -> Any:
    return api.post(who, f"/v1/budgets/{budget_id}/decisions", {**DECISION, **changes})


def correct(api: Api, who: str, entry_id: str, **changes: Any) -> Any:
    return api.post(who, "/v1/corrections", {**CORRECTION, "entry_id": entry_id, **changes})


def revoke(api: Api, budget_id: str, rid: str = REP, key: str = "rv-1", **params: str) -> Any:
    who = params.pop("who", "council")
    return api.client.delete(
        f"/v1/budgets/{budget_id}/representatives/{rid}",
        params={"effective_on": "2010-06-01", **params},
        headers=api.headers(who, **{"Idempotency-Key": key}),
    )


def cash_payment(api: Api, budget_id: str, amount: int = 1_000_00) -> str:
    """Issue a cash payment and return its entry id ('<budget>/<version after it>')."""
    paid = api.post(
        "council",
        f"/v1/budgets/{budget_id}/cash-payments",
        {"amount_pence": amount, "period": PERIOD, "effective_on": "2010-04-05"},
    )
    assert paid.status_code == 200
    return f"{budget_id}/{paid.json()['version']}"


def last_budget_event(api: Api, budget_id: str) -> Any:
    return list(api.service.app.events.get(UUID(budget_id)))[-1]


def decision_recorded(api: Api, budget_id: str) -> tuple[str, ...]:
    """The last event on the budget: its type, whose decision (opened from its sealed form),
    what, in what role, for whom (the person, by pseudonym)."""
    e = last_budget_event(api, budget_id)
    personal = api.service.app.personal
    assert REP not in e.representative_id  # stored sealed
    where = context(e.originator_id, "representative_id")
    rep = representative_shown(personal, e.representative_id, where)  # sealed twice
    for_whom = "P-000123" if e.prov.on_behalf_of == person(api) else e.prov.on_behalf_of
    return type(e).__name__, rep, e.decision, e.prov.actor_role, for_whom


def person(api: Api, ref: str = "P-000123") -> str:
    return api.service.app.personal.pseudonym("person", ref)


def test_a_council_appoints_a_representative_and_cannot_appoint_them_twice(api: Api) -> None:
    budget_id = active_budget(api)

    created = api.post("council", f"/v1/budgets/{budget_id}/representatives", APPOINT)
    before = api.event_count()
    twice = api.post("council", f"/v1/budgets/{budget_id}/representatives", APPOINT)

    assert (created.status_code, created.json()["id"]) == (201, budget_id)
    assert created.headers["ETag"] == f'"{created.json()["version"]}"'
    shown = api.get("council", f"/v1/budgets/{budget_id}").json()["representatives"][REP]
    assert (shown["kind"], shown["basis"], shown["revoked_on"]) == ("authorised", "deputy", None)
    assert problem(twice) == (409, "invalid-transition")
    assert api.event_count() == before


def test_a_representative_records_a_decision_as_themselves_for_the_person(api: Api) -> None:
    budget_id = appointed(api)

    decided = decide(api, "representative", budget_id)

    assert (decided.status_code, decided.json()["id"]) == (200, budget_id)
    recorded = ("DecisionRecorded", REP, "choose-provider", "representative", "P-000123")
    assert decision_recorded(api, budget_id) == recorded
    # The representative is named by their pseudonym (never their id, nor the token's id).
    rep = api.service.app.personal.pseudonym("representative", REP)
    assert last_budget_event(api, budget_id).prov.actor_id == rep != REP


def test_after_revocation_the_same_token_is_refused_and_nothing_is_written(api: Api) -> None:
    budget_id = appointed(api)
    assert decide(api, "representative", budget_id).status_code == 200

    revoked = revoke(api, budget_id, reason="court-order")
    before = api.event_count()
    refused = decide(api, "representative", budget_id)
    for_them = decide(api, "council", budget_id, representative_id=REP, effective_on="2010-06-02")

    assert (revoked.status_code, revoked.json()["id"]) == (200, budget_id)
    stored = last_budget_event(api, budget_id).prov.reason  # sealed under the person's key
    assert reveal_reasons(api.service.app.personal, stored) == "court-order" != stored
    assert problem(refused) == (403, NOT_APPOINTED)
    assert problem(for_them) == (422, NOT_APPOINTED)
    assert api.event_count() == before


def test_a_representative_token_cannot_act_on_another_budget(api: Api) -> None:
    budget_a = appointed(api)
    budget_b = appointed(api, active_budget(api))
    token_b = api.tokens["representative"]
    api.tokens["representative"] = api.token(
        "representative", budget_id=budget_a, representative_id=REP
    )
    before = api.event_count()

    on_b = decide(api, "representative", budget_b)
    read_b = api.get("representative", f"/v1/budgets/{budget_b}")

    assert (problem(on_b), read_b.status_code) == ((404, "budget-not-found"), 404)
    assert api.event_count() == before
    api.tokens["representative"] = token_b
    assert decide(api, "representative", budget_b).status_code == 200


def test_who_decides_comes_from_the_token_never_the_body(api: Api) -> None:
    budget_id = appointed(api)
    before = api.event_count()

    naming_someone = decide(api, "representative", budget_id, representative_id="REP-9999")
    naming_themselves = decide(api, "representative", budget_id, representative_id=REP)
    council_naming_nobody = decide(api, "council", budget_id)
    before_appointment = decide(api, "representative", budget_id, effective_on="2010-04-01")

    for refused in (naming_someone, naming_themselves, council_naming_nobody):
        assert (refused.status_code, refused.json()["field"]) == (422, "representative_id")
    assert problem(before_appointment) == (422, NOT_APPOINTED)
    assert api.event_count() == before


def test_a_council_officer_records_a_decision_for_a_named_representative(api: Api) -> None:
    budget_id = appointed(api)

    decided = decide(api, "council", budget_id, representative_id=REP, decision="agree-plan")
    before = api.event_count()
    stranger = decide(api, "council", budget_id, representative_id="REP-9")

    assert decided.status_code == 200
    recorded = ("DecisionRecorded", REP, "agree-plan", "council", "P-000123")
    assert decision_recorded(api, budget_id) == recorded
    assert problem(stranger) == (422, NOT_APPOINTED)
    assert api.event_count() == before


def test_council_routes_refuse_every_other_role_and_other_councils(api: Api) -> None:
    budget_id = appointed(api)
    writes = [
        (f"/v1/budgets/{budget_id}/representatives", {**APPOINT, "representative_id": "REP-2"}),
        ("/v1/corrections", {**CORRECTION, "entry_id": cash_payment(api, budget_id)}),
        (f"/v1/budgets/{budget_id}/direct-payment-returns", RETURN),
        (f"/v1/budgets/{budget_id}/reviews", REVIEW),
    ]
    before = api.event_count()

    for path, body in writes:
        refusals = [problem(api.post(who, path, body)) for who in NOT_COUNCILS]
        elsewhere = api.post("other_council", path, body)
        anonymous = api.client.post(path, json=body, headers={"Idempotency-Key": "anon"})
        assert refusals == [(403, "forbidden-role")] * len(NOT_COUNCILS), path
        assert (elsewhere.status_code, anonymous.status_code) == (404, 401), path
    deletions = {who: revoke(api, budget_id, who=who).status_code for who in OTHERS}
    decisions = {
        who: decide(api, who, budget_id, representative_id=REP).status_code
        for who in ("admin", "provider", "auditor", "regulator", "other_council")
    }

    assert deletions == {**dict.fromkeys(NOT_COUNCILS, 403), "other_council": 404}
    assert decisions == {**dict.fromkeys(NOT_COUNCILS[:4], 403), "other_council": 404}
    assert api.event_count() == before
    for path, body in writes:
        assert api.post("council", path, body).status_code in (200, 201), path


def test_revocation_needs_a_key_a_date_and_an_appointed_representative(api: Api) -> None:
    budget_id = appointed(api)
    path = f"/v1/budgets/{budget_id}/representatives/{REP}"
    before = api.event_count()

    no_key = api.client.delete(
        path, params={"effective_on": "2010-06-01"}, headers=api.headers("council")
    )
    no_date = api.client.delete(path, headers=api.headers("council", **{"Idempotency-Key": "k"}))
    stranger = revoke(api, budget_id, rid="REP-9999")
    too_early = revoke(api, budget_id, effective_on="2010-04-01", key="rv-early")

    assert problem(no_key) == (400, "idempotency-key-required")
    assert (no_date.status_code, no_date.json()["field"]) == (422, "query.effective_on")
    assert problem(stranger) == (404, "representative-not-found")
    assert (too_early.status_code, too_early.json()["field"]) == (422, "effective_on")
    assert api.event_count() == before
    first = revoke(api, budget_id, key="rv-2")
    after = api.event_count()
    retried = revoke(api, budget_id, key="rv-2")
    again = revoke(api, budget_id, key="rv-3")
    assert (first.status_code, retried.status_code, retried.json()["replayed"]) == (200, 200, True)
    assert problem(again) == (409, "invalid-transition")
    assert api.event_count() == after


def test_a_correction_reverses_part_of_a_cash_payment_and_never_more_than_remains(
    api: Api,
) -> None:
    budget_id = active_budget(api)
    entry = cash_payment(api, budget_id, 1_000_00)

    corrected = correct(api, "council", entry, amount_pence=400_00)
    before = api.event_count()
    too_much = correct(api, "council", entry, amount_pence=600_01)

    assert (corrected.status_code, corrected.json()["id"]) == (200, budget_id)
    assert api.get("council", f"/v1/budgets/{budget_id}").json()["available_pence"] == 9_400_00
    assert problem(too_much) == (422, "correction-exceeds-original")
    facts = too_much.json()
    assert (facts["original_pence"], facts["remaining_pence"]) == (1_000_00, 600_00)
    assert api.event_count() == before
    assert correct(api, "council", entry, amount_pence=600_00).status_code == 200


def test_corrections_reach_only_the_callers_correctable_entries(api: Api) -> None:
    budget_id = active_budget(api)
    entry = cash_payment(api, budget_id)
    lines = (InvoiceLine("home-care", 1000, 13_00),)
    period = Period(date(2010, 4, 5), date(2010, 4, 11))
    draft = InvoiceDraft("INV-1", budget_id, period, lines, date(2010, 4, 12))
    invoice = api.service.app.post_invoice(
        PROVIDER, draft, Provenance(PROVIDER, "provider", "inv-1")
    )
    invoice_entry = f"{invoice['invoice_id']}/1"
    before = api.event_count()

    hidden = [
        correct(api, "other_council", entry),
        correct(api, "council", f"{UUID(int=7)}/2"),
        correct(api, "other_council", invoice_entry),
    ]
    approval = correct(api, "council", f"{budget_id}/3")
    an_invoice = correct(api, "council", invoice_entry)
    no_reason = correct(api, "council", entry, reason=None)

    assert [problem(r) for r in hidden] == [(404, "entry-not-found")] * 3
    assert [problem(r) for r in (approval, an_invoice)] == [(422, "entry-not-correctable")] * 2
    assert (no_reason.status_code, no_reason.json()["field"]) == (422, "reason")
    assert api.event_count() == before


def test_direct_payment_returns_and_reviews_are_recorded_for_the_council(api: Api) -> None:
    budget_id = active_budget(api)
    cash_payment(api, budget_id, 1_000_00)
    opened = api.post("council", "/v1/budgets", budget_body(person_ref="P-9")).json()["id"]
    returns = f"/v1/budgets/{budget_id}/direct-payment-returns"

    spent = api.post("council", returns, {**RETURN, "amount_pence": 300_00})
    reviewed = api.post("council", f"/v1/budgets/{budget_id}/reviews", REVIEW)
    before = api.event_count()
    overspent = api.post("council", returns, {**RETURN, "amount_pence": 700_01})
    unapproved = api.post("council", f"/v1/budgets/{opened}/reviews", REVIEW)

    assert (spent.status_code, reviewed.status_code) == (200, 200)
    assert spent.headers["ETag"] == f'"{int(reviewed.json()["version"]) - 1}"'
    assert api.service.app.budget(budget_id).last_review_on == date(2010, 10, 1)
    assert problem(overspent) == (422, "insufficient-funds")
    assert problem(unapproved) == (422, "budget-not-active")
    assert api.event_count() == before


BASES: dict[str, dict[str, Any]] = {
    "representatives": APPOINT,
    "decisions": DECISION,
    "direct-payment-returns": RETURN,
    "reviews": REVIEW,
    "corrections": {**CORRECTION, "entry_id": f"{UUID(int=1)}/1"},
}
ENTRY = f"{UUID(int=1)}/"


@pytest.mark.parametrize(
    ("route", "changes"),
    [
        pytest.param("representatives", {"representative_id": "R\x00"}, id="nul-rep"),
        pytest.param("representatives", {"representative_id": "R\u200b"}, id="zwsp-rep"),
        pytest.param("representatives", {"representative_id": "R" * 65}, id="long-rep"),
        pytest.param("representatives", {"kind": "friend"}, id="unknown-kind"),
        pytest.param("representatives", {"name": "Jane Smith"}, id="unknown-field"),
        pytest.param("representatives", {"kind": "nominated"}, id="nominated-as-deputy"),
        pytest.param("decisions", {"decision": "sell-house"}, id="unknown-decision"),
        pytest.param("decisions", {"subject_ref": "a\nb"}, id="newline-subject"),
        pytest.param("decisions", {"note": "x"}, id="unknown-decision-field"),
        pytest.param("direct-payment-returns", {"amount_pence": 10**30}, id="huge-return"),
        pytest.param("direct-payment-returns", {"amount_pence": -1}, id="negative-return"),
        pytest.param("direct-payment-returns", {"amount_pence": 0}, id="zero-return"),
        pytest.param("direct-payment-returns", {"amount_pence": "1"}, id="pence-as-string"),
        pytest.param(
            "direct-payment-returns",
            {"period": {"start": "2010-05-02", "end": "2010-04-05"}},
            id="backwards-period",
        ),
        pytest.param("reviews", {"effective_on": "2010-02-30"}, id="impossible-date"),
        pytest.param("reviews", {"reason": "x" * 65}, id="long-reason"),
        pytest.param("corrections", {"entry_id": "not-an-entry"}, id="malformed-entry"),
        pytest.param("corrections", {"entry_id": f"{ENTRY}-1"}, id="negative-entry-version"),
        pytest.param("corrections", {"entry_id": f"{ENTRY}1\n"}, id="newline-in-entry"),
        pytest.param("corrections", {"entry_id": ENTRY + "9" * 20}, id="huge-entry-version"),
        pytest.param("corrections", {"reason": "\u202eevil"}, id="bidi-in-reason"),
    ],
)
def test_bad_input_is_a_4xx_problem_and_writes_nothing(
    api: Api, route: str, changes: dict[str, Any]
) -> None:
    budget_id = appointed(api)
    who = "representative" if route == "decisions" else "council"
    before = api.event_count()
    path = "/v1/corrections" if route == "corrections" else f"/v1/budgets/{budget_id}/{route}"

    refused = api.post(who, path, {**BASES[route], **changes})

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert problem(refused)[1] in ("invalid-request", "invalid-command")
    assert api.event_count() == before
