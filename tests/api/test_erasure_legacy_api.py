"""Erasing a person whose records were written before sealing: the answer says honestly which
events still hold their personal data in plain text (the log keeps those bytes: the chain and
the proofs cover them), migrate-personal-data reports the same positions, and every read that
can mask it shows it as erased."""

from __future__ import annotations

from typing import Any

from ledger.personal import ERASED, IN_THE_CLEAR
from projections.migrate import scan
from tests.api.conftest import Api, active_budget
from tests.api.test_erasure_api import ERASE, erase
from tests.api.test_invoices_api import posted
from tests.api.test_personal_data_api import PERSON, stored_bytes
from tests.api.test_sealed_free_text_api import csv_export

REP = "REP-LEGACY-31"
REASON = "hours-disputed-by-son-31"
NOTE = "Daughter says the carer never came on Tuesdays"


def written_before_sealing(api: Api) -> tuple[str, str]:
    """A budget, a representative, a disputed invoice and a note, all stored in the clear."""
    app = api.service.app
    sealing, app.personal = app.personal, IN_THE_CLEAR
    try:
        budget_id = active_budget(api)
        appoint = {"representative_id": REP, "kind": "authorised", "basis": "deputy",
                   "effective_on": "2010-04-05"}  # fmt: skip
        path = f"/v1/budgets/{budget_id}/representatives"
        assert api.post("council", path, appoint).status_code == 201
        invoice = posted(api, budget_id)
        dispute = {"effective_on": "2010-05-03", "reason": REASON}
        assert api.post("council", f"/v1/invoices/{invoice}/dispute", dispute).status_code == 200
        note = {"subject_entry_id": f"{budget_id}/1", "code": "ctrl-weak", "note": NOTE,
                "effective_on": "2010-05-01"}  # fmt: skip
        assert api.post("auditor", "/v1/audit/notes", note).status_code == 201
    finally:
        app.personal = sealing
    return budget_id, invoice


def trail(api: Api, budget_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = api.get(
        "auditor", "/v1/audit", budget=budget_id, limit=200
    ).json()["items"]
    return rows


def test_the_erasure_names_the_events_still_plain_and_the_reads_mask_them(api: Api) -> None:
    budget_id, invoice = written_before_sealing(api)
    keys = api.service.keys
    report = scan(api.service.app, keys, apply=True)  # migrate-personal-data --apply
    person = keys.pseudonym("person", PERSON)

    erased = erase(api)
    budget = api.get("council", f"/v1/budgets/{budget_id}").json()
    history = api.get("council", f"/v1/invoices/{invoice}").json()["history"]
    rows = trail(api, budget_id)
    everything = api.get("auditor", "/v1/audit", limit=1000).json()["items"]  # command records
    found = api.get("auditor", "/v1/exceptions", on="2011-01-01", limit=200).json()["items"]
    disputes = [e["detail"] for e in found if e["kind"] == "dispute"]

    assert erased.status_code == 200, erased.json()
    answer = erased.json()
    assert answer["plain_positions"] == report.people[person]
    assert answer["plain_events"] == len(answer["plain_positions"]) >= 5
    # the dispute's reason is in its event and in its command record
    assert dict(report.fields) == {"note": 1, "person_ref": 1, "reason": 2, "representative_id": 1}
    assert (budget["person_ref"], list(budget["representatives"])) == (ERASED, [ERASED])
    assert [h["reason"] for h in history if h["reason"]] == [ERASED]
    assert disputes == [ERASED]
    assert {r["reason"] for r in rows if r["reason"]} == {ERASED}
    assert [r["audit_note"]["note"] for r in rows if r.get("audit_note")] == [ERASED]
    for plain in (PERSON, REP, REASON, NOTE):
        assert plain not in str(budget) + str(history) + str(everything) + str(found)
        assert plain.encode() in stored_bytes(api)  # honestly: the log keeps what it was given
    assert api.get("auditor", "/v1/audit/verify").json()["ok"] is True


def test_a_csv_export_masks_the_erased_persons_plain_values(api: Api, database_url: str) -> None:
    if database_url == "memory://":
        return  # the CLI exports from a database
    written_before_sealing(api)
    scan(api.service.app, api.service.keys, apply=True)
    before = csv_export(database_url, "v_audit") + csv_export(database_url, "v_invoice_history")

    erase(api)
    after = csv_export(database_url, "v_audit") + csv_export(database_url, "v_invoice_history")

    assert REASON in before  # the export showed it while the person was not erased
    assert REASON not in after and REP not in after
    assert ERASED in after


def test_a_person_sealed_from_the_start_has_no_plain_events(api: Api) -> None:
    active_budget(api)

    answer = erase(api).json()

    assert (answer["plain_events"], answer["plain_positions"]) == (0, [])


def test_a_representative_appointed_before_sealing_is_keyed_by_migrate_then_erasable(
    api: Api,
) -> None:
    budget_id, _ = written_before_sealing(api)
    path = f"/v1/representatives/{REP}/erasure"
    not_yet = api.post("admin", path, ERASE)

    scan(api.service.app, api.service.keys, apply=True)
    erased = api.post("admin", path, ERASE)
    budget = api.get("council", f"/v1/budgets/{budget_id}").json()

    assert (not_yet.status_code, not_yet.json()["type"]) == (
        404,
        "/problems/representative-not-found",
    )
    assert erased.status_code == 200, erased.json()
    assert (budget["person_ref"], list(budget["representatives"])) == (PERSON, [ERASED])
