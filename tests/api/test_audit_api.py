"""The audit trail through a real client: filters and cursor paging, verification that names the
first tampered event, checkpoints, and auditors' notes — and who may do each."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.test_reports_api import Scenario, build, pause
from tests.integration.test_tamper import edit_a_byte
from tests.support import COUNCIL, FOUR_WEEKS, OTHER_COUNCIL, PROVIDER, START

READERS = ("auditor", "regulator")
OTHERS = ("council", "provider", "admin")


def trail(api: Api, who: str = "auditor", **filters: Any) -> list[dict[str, Any]]:
    response = api.get(who, "/v1/audit", limit=1000, **filters)
    assert response.status_code == 200, response.text
    assert (response.json()["next_cursor"], response.json()["has_more"]) == (None, False)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def note_body(**overrides: Any) -> dict[str, Any]:
    return {"code": "ctrl-check", "note": "Approval and payment by one officer: check the control.",
            "effective_on": "2010-05-10", **overrides}  # fmt: skip


# --- the trail -----------------------------------------------------------------------------------


def test_the_trail_holds_every_event_in_order_with_its_provenance(api: Api) -> None:
    build(api)

    rows = trail(api)

    assert [r["position"] for r in rows] == list(range(1, api.event_count() + 1))
    paid = [r for r in rows if r["event_type"] == "Invoice.Paid"]
    assert [(r["actor_id"], r["actor_role"], r["council"]) for r in paid] == [
        ("officer-1", "council", COUNCIL)
    ]
    assert all(len(r["hash"]) == 64 for r in rows)


def test_the_trail_filters_by_budget_actor_type_provider_and_council(api: Api) -> None:
    s = build(api)

    by_budget = trail(api, budget=s.budget_id)
    by_budget_upper = trail(api, budget=s.budget_id.upper())
    by_actor = trail(api, actor=PROVIDER)
    paid = trail(api, type="Invoice.Paid")
    paid_short = trail(api, type="Paid")
    by_provider = trail(api, provider=PROVIDER)
    elsewhere = trail(api, "regulator", council=OTHER_COUNCIL)

    assert by_budget and {r["budget_id"] for r in by_budget} == {s.budget_id}
    assert by_budget_upper == by_budget  # one budget, however its UUID is spelt
    assert {r["invoice_id"] for r in by_budget} == {None, s.april_invoice, s.may_invoice}
    assert {r["actor_id"] for r in by_actor} == {PROVIDER}
    assert {r["event_type"] for r in by_actor} == {
        "Invoice.Posted", "PersonalBudget.InvoiceReceived", "CommandRecord.Accepted"
    }  # fmt: skip
    assert [r["invoice_id"] for r in paid] == [s.april_invoice]
    assert paid_short == paid
    assert {r["invoice_id"] or r["event_type"] for r in by_provider} == {
        s.april_invoice, s.may_invoice, "Provider.Registered"
    }  # fmt: skip
    assert [r["event_type"] for r in elsewhere] == ["Council.Registered"]


def test_the_trail_filters_by_recorded_instants(api: Api) -> None:
    s = build(api)

    after = trail(api, **{"from": s.before_payment.isoformat()})
    before = trail(api, to=s.before_payment.isoformat())

    assert after[0]["event_type"] == "Invoice.Paid"
    assert all(r["recorded_at"] >= s.before_payment.isoformat() for r in after)
    assert len(before) + len(after) == api.event_count()


def test_the_trail_pages_by_cursor_without_gaps_or_repeats(api: Api) -> None:
    build(api)
    everything = trail(api)

    pages, cursor = [], None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor is not None else {})}
        body = api.get("regulator", "/v1/audit", **params).json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        assert body["has_more"] is (cursor is not None)
        if cursor is None:
            break

    assert [r for page in pages for r in page] == everything
    assert all(len(page) == 7 for page in pages[:-1]) and len(pages) > 2


def test_the_trail_is_for_auditors_and_regulators_and_a_scoped_auditor_sees_its_council(
    api: Api,
) -> None:
    build(api)
    scoped = {"Authorization": f"Bearer {api.token('auditor', council=OTHER_COUNCIL)}"}

    statuses = {who: api.get(who, "/v1/audit").status_code for who in READERS + OTHERS}
    own = api.client.get("/v1/audit", headers=scoped)
    other = api.client.get("/v1/audit", params={"council": COUNCIL}, headers=scoped)

    assert statuses == {"auditor": 200, "regulator": 200, "council": 403, "provider": 403,
                        "admin": 403}  # fmt: skip
    assert {r["council"] for r in own.json()["items"]} == {OTHER_COUNCIL}
    assert other.status_code == 403
    assert api.client.get("/v1/audit").status_code == 401


def test_the_trail_refuses_malformed_filters(api: Api) -> None:
    statuses = [
        api.get("auditor", "/v1/audit", **params).status_code
        for params in ({"limit": 0}, {"limit": 1001}, {"type": "x%"},
                       {"from": "yesterday"}, {"to": "0001-01-01T00:00:00+05:00"},
                       {"actor": "a" * 65}, {"cursor": -1})
    ]  # fmt: skip

    assert statuses == [422] * 6 + [400]


# --- verification and checkpoints ----------------------------------------------------------------


def test_verify_passes_on_an_untouched_ledger(api: Api) -> None:
    build(api)

    for who in READERS:
        response = api.get(who, "/v1/audit/verify")
        assert response.status_code == 200
        assert response.json()["ok"] is True
        assert {c["name"] for c in response.json()["checks"]} >= {"hash-chain", "trial-balance"}


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_verify_names_the_first_tampered_event_and_the_checkpoint_breaks(api: Api) -> None:
    build(api)
    checkpoint = api.get("regulator", "/v1/audit/checkpoint").json()

    edit_a_byte(api.service)  # event 10, rewritten in the event table behind the ledger's back

    report = api.get("auditor", "/v1/audit/verify")
    check = api.client.post(
        "/v1/audit/checkpoint/check", json=checkpoint, headers=api.headers("regulator")
    )
    assert report.status_code == 200
    assert report.json()["ok"] is False
    failed = [c for c in report.json()["checks"] if not c["ok"]]
    assert (failed[0]["name"], failed[0]["first_bad_position"]) == ("hash-chain", 10)
    assert check.json()["ok"] is False
    assert check.json()["first_bad_position"] == checkpoint["size"]


def test_a_checkpoint_is_still_extended_after_later_writes(api: Api) -> None:
    s = build(api)
    checkpoint = api.get("auditor", "/v1/audit/checkpoint").json()
    api.service.app.issue_cash_payment(s.budget_id, 1, FOUR_WEEKS, START, s.world.prov())

    check = api.client.post(
        "/v1/audit/checkpoint/check", json=checkpoint, headers=api.headers("regulator")
    )
    forged = api.client.post(
        "/v1/audit/checkpoint/check",
        json={**checkpoint, "head_hash": "0" * 64},
        headers=api.headers("auditor"),
    )

    assert checkpoint["size"] == api.event_count() - 2  # the payment and its command record
    assert len(checkpoint["head_hash"]) == 64
    assert (check.status_code, check.json()["ok"]) == (200, True)
    assert (forged.json()["ok"], forged.json()["first_bad_position"]) == (False, checkpoint["size"])


def test_verification_and_checkpoints_are_for_auditors_and_regulators(api: Api) -> None:
    checkpoint = api.get("auditor", "/v1/audit/checkpoint").json()
    for who in OTHERS:
        assert api.get(who, "/v1/audit/verify").status_code == 403
        assert api.get(who, "/v1/audit/checkpoint").status_code == 403
        posted = api.client.post(
            "/v1/audit/checkpoint/check", json=checkpoint, headers=api.headers(who)
        )
        assert posted.status_code == 403
    assert api.client.get("/v1/audit/verify").status_code == 401
    bad = api.client.post(
        "/v1/audit/checkpoint/check",
        json={**checkpoint, "size": -1},
        headers=api.headers("auditor"),
    )
    assert bad.status_code == 422


# --- auditors' notes -----------------------------------------------------------------------------


def paid_entry(api: Api, s: Scenario) -> str:
    (row,) = trail(api, type="Invoice.Paid")
    entry: str = row["entry_id"]
    return entry


def test_an_auditors_note_joins_the_trail_under_its_subjects_council_and_budget(api: Api) -> None:
    s = build(api)
    subject = paid_entry(api, s)

    written = api.post("auditor", "/v1/audit/notes", note_body(subject_entry_id=subject))

    assert written.status_code == 201
    assert (written.json()["version"], written.headers["ETag"]) == (1, '"1"')
    (row,) = trail(api, "regulator", type="AuditNote.NoteAdded")
    assert (row["aggregate_id"], row["aggregate_kind"], row["actor_role"]) == (
        written.json()["id"],
        "audit-note",
        "auditor",
    )
    assert (row["council"], row["budget_id"], row["provider"]) == (
        COUNCIL,
        s.budget_id,
        PROVIDER,
    )
    assert row["audit_note"] == {
        "code": "ctrl-check",
        "note": note_body()["note"],
        "subject_entry_id": subject,
    }
    assert row in trail(api, budget=s.budget_id)
    assert api.get("auditor", "/v1/audit/verify").json()["ok"] is True


def test_a_note_retried_with_the_same_key_is_written_once(api: Api) -> None:
    first = api.post("auditor", "/v1/audit/notes", note_body(), key="note-1")
    before = api.event_count()

    again = api.post("auditor", "/v1/audit/notes", note_body(), key="note-1")
    clash = api.post("auditor", "/v1/audit/notes", note_body(code="other"), key="note-1")

    assert (again.status_code, again.json()["id"], again.json()["replayed"]) == (
        201,
        first.json()["id"],
        True,
    )
    assert clash.status_code == 409
    assert api.event_count() == before


def test_only_auditors_add_notes(api: Api) -> None:
    before = api.event_count()

    statuses = [
        api.post(who, "/v1/audit/notes", note_body()).status_code
        for who in ("council", "regulator", "provider", "admin")
    ]
    anonymous = api.client.post(
        "/v1/audit/notes", json=note_body(), headers={"Idempotency-Key": "k"}
    )

    assert statuses == [403, 403, 403, 403]
    assert anonymous.status_code == 401
    assert api.event_count() == before


def test_bad_notes_are_refused_and_write_nothing(api: Api) -> None:
    s = build(api)
    before = api.event_count()
    unknown = "00000000-0000-0000-0000-000000000000/1"
    beyond = f"{s.budget_id}/999"

    responses = {
        "too long": api.post("auditor", "/v1/audit/notes", note_body(note="x" * 501)),
        "control": api.post("auditor", "/v1/audit/notes", note_body(note="ok\u0007")),
        "bidi": api.post("auditor", "/v1/audit/notes", note_body(note="abc\u202edef")),
        "blank": api.post("auditor", "/v1/audit/notes", note_body(note="   ")),
        "extra field": api.post("auditor", "/v1/audit/notes", note_body(actor="me")),
        "bad entry id": api.post("auditor", "/v1/audit/notes", note_body(subject_entry_id="x/1")),
        "unknown entry": api.post(
            "auditor", "/v1/audit/notes", note_body(subject_entry_id=unknown)
        ),
        "beyond entry": api.post("auditor", "/v1/audit/notes", note_body(subject_entry_id=beyond)),
    }

    assert {k: r.status_code for k, r in responses.items()} == {
        "too long": 422, "control": 422, "bidi": 422, "blank": 422, "extra field": 422,
        "bad entry id": 422, "unknown entry": 404, "beyond entry": 404,
    }  # fmt: skip
    assert all(r.headers["content-type"] == "application/problem+json" for r in responses.values())
    assert api.event_count() == before


def test_a_scoped_auditor_notes_only_its_councils_entries(api: Api) -> None:
    s = build(api)
    api.tokens["scoped"] = api.token("auditor", council=OTHER_COUNCIL)
    before = api.event_count()

    foreign = api.post("scoped", "/v1/audit/notes", note_body(subject_entry_id=paid_entry(api, s)))
    general = api.post("scoped", "/v1/audit/notes", note_body())

    assert foreign.status_code == 404
    assert general.status_code == 201
    assert api.event_count() == before + 2  # the note and its command record
    (row,) = trail(api, "scoped", type="NoteAdded")
    assert row["council"] == OTHER_COUNCIL


def test_a_note_instant_separates_what_was_known(api: Api) -> None:
    build(api)
    instant = pause()

    api.post("auditor", "/v1/audit/notes", note_body())

    assert trail(api, type="NoteAdded", to=instant.isoformat()) == []
    assert len(trail(api, type="NoteAdded", **{"from": instant.isoformat()})) == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"budget": "0b7c6a52-3f1e-5d44-9a51-2f0e7c11aa01"}, (404, "budget-not-found")),
        ({"budget": "budget-1"}, (422, "invalid-request")),
        ({"provider": "1-000000000"}, (404, "provider-not-found")),
    ],
)
def test_a_trail_filter_naming_nothing_in_the_ledger_is_refused_not_an_empty_page(
    api: Api, filters: dict[str, str], expected: tuple[int, str]
) -> None:
    response = api.get("regulator", "/v1/audit", **filters)

    assert (response.status_code, response.json()["type"]) == (
        expected[0],
        f"/problems/{expected[1]}",
    )
