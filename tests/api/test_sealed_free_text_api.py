"""Every free-text reason and note is stored only sealed: an invoice's dispute, rejection (its
withdrawal from the budget) and override reasons under the key of the person whose budget it
charges, so erasing that person erases them everywhere; a note about no person (a council's or
a care firm's record) under a key of its own, which an administrator can erase on its own."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from ledger.ids import provider_id
from ledger.personal import ERASED
from scripts.cli import app as cli_app
from tests.api.conftest import Api, active_budget
from tests.api.test_erasure_api import ERASE, database_bytes, erase, found
from tests.api.test_invoices_api import posted
from tests.api.test_personal_data_api import NOTE, PERSON, REP, stored_bytes, with_personal_data
from tests.api.test_personal_data_api import REASON as CORRECTION
from tests.support import PROVIDER

DISPUTED = "hours-not-worked-per-daughter-77"
REJECTED = "carer-was-in-hospital-88"
OVERRIDE = "emergency-cover-after-fall-99"
REASONS = (DISPUTED, REJECTED, OVERRIDE)
COUNCIL_NOTE = "Finance officer J. Smith approves her own claims"
FIRM_NOTE = "Firm's manager Ann Lee signs timesheets for absent staff"


def with_invoice_reasons(api: Api) -> tuple[str, list[str]]:
    """A budget with an invoice disputed then rejected (withdrawn from the budget), and a
    flagged one approved with an override reason."""
    budget_id = active_budget(api)
    first = posted(api, budget_id)
    for step, reason in (("dispute", DISPUTED), ("rejection", REJECTED)):
        body = {"effective_on": "2010-05-03", "reason": reason}
        assert api.post("council", f"/v1/invoices/{first}/{step}", body).status_code == 200
    second = posted(api, budget_id, number="INV-FLAGGED", hours=6000)
    body = {"effective_on": "2010-05-03", "reason": OVERRIDE}
    assert api.post("council", f"/v1/invoices/{second}/approval", body).status_code == 200
    return budget_id, [first, second]


def history_reasons(api: Api, invoices: list[str]) -> list[Any]:
    return [
        h["reason"]
        for i in invoices
        for h in api.get("council", f"/v1/invoices/{i}").json()["history"]
        if h["reason"] is not None
    ]


def trail_reasons(api: Api, budget_id: str) -> set[Any]:
    rows = api.get("auditor", "/v1/audit", budget=budget_id, limit=200).json()["items"]
    return {r["reason"] for r in rows if r["reason"] is not None}


def exception_details(api: Api) -> set[str]:
    items = api.get("auditor", "/v1/exceptions", on="2011-01-01", limit=200).json()["items"]
    return {e["detail"] for e in items}


def csv_export(database_url: str, view: str) -> str:
    result = CliRunner().invoke(cli_app, ["export", "csv", view, "--database-url", database_url])
    assert result.exit_code == 0, result.stdout
    return result.stdout


def test_invoice_reasons_are_stored_only_sealed_and_read_back_in_the_clear(api: Api) -> None:
    budget_id, invoices = with_invoice_reasons(api)

    stored = stored_bytes(api)

    for reason in REASONS:
        assert reason.encode() not in stored
    assert history_reasons(api, invoices) == [DISPUTED, REJECTED, OVERRIDE]
    assert trail_reasons(api, budget_id) == set(REASONS)
    assert any(DISPUTED in d for d in exception_details(api))
    assert any(OVERRIDE in d for d in exception_details(api))


def test_after_erasing_the_person_no_invoice_reason_is_readable_anywhere(
    api: Api, database_url: str
) -> None:
    budget_id, invoices = with_invoice_reasons(api)

    assert erase(api).status_code == 200
    everything = database_bytes(api, database_url)
    exports = "".join(
        csv_export(database_url, v) for v in ("v_invoice_history", "v_audit", "v_invoices")
    ) if database_url != "memory://" else ""  # fmt: skip

    assert history_reasons(api, invoices) == [ERASED, ERASED, ERASED]
    assert trail_reasons(api, budget_id) == {ERASED}
    assert not any(r in d for d in exception_details(api) for r in REASONS)
    for reason in REASONS:
        assert not found(reason.encode(), everything)
        assert reason not in exports
    assert api.get("auditor", "/v1/audit/verify").json()["ok"] is True


def notes_about_no_person(api: Api) -> tuple[str, str]:
    """A note about the council's books (no subject) and one about a care firm's record."""
    council = {"code": "ctrl-weak", "note": COUNCIL_NOTE, "effective_on": "2010-05-01"}
    firm = {"subject_entry_id": f"{provider_id(PROVIDER)}/1", "code": "ctrl-weak",
            "note": FIRM_NOTE, "effective_on": "2010-05-01"}  # fmt: skip
    ids = [api.post("auditor", "/v1/audit/notes", body) for body in (council, firm)]
    assert [r.status_code for r in ids] == [201, 201], [r.json() for r in ids]
    return ids[0].json()["id"], ids[1].json()["id"]


def trail_notes(api: Api) -> dict[str, Any]:
    rows = api.get("auditor", "/v1/audit", limit=200).json()["items"]
    return {r["aggregate_id"]: r["audit_note"]["note"] for r in rows if r.get("audit_note")}


def test_a_note_about_no_person_is_sealed_under_its_own_key_and_erased_alone(
    api: Api, database_url: str
) -> None:
    council_note, firm_note = notes_about_no_person(api)
    stored = stored_bytes(api)
    before = api.event_count()

    refused = api.post("auditor", f"/v1/audit/notes/{firm_note}/erasure", ERASE)
    erased = api.post("admin", f"/v1/audit/notes/{firm_note}/erasure", ERASE)
    again = api.post("admin", f"/v1/audit/notes/{firm_note}/erasure", ERASE)

    assert COUNCIL_NOTE.encode() not in stored and FIRM_NOTE.encode() not in stored
    assert refused.status_code == 403
    assert (erased.status_code, erased.json()["note_id"]) == (200, firm_note)
    assert api.event_count() == before + 2  # the erasure record and its command record
    assert (again.status_code, again.json()["type"]) == (409, "/problems/person-erased")
    assert trail_notes(api) == {council_note: COUNCIL_NOTE, firm_note: ERASED}
    assert not found(FIRM_NOTE.encode(), database_bytes(api, database_url))
    assert api.get("auditor", "/v1/audit/verify").json()["ok"] is True


def test_a_note_about_a_budget_goes_only_with_its_person_and_an_unknown_note_is_404(
    api: Api,
) -> None:
    budget_id = active_budget(api)
    body = {"subject_entry_id": f"{budget_id}/1", "code": "ctrl-weak", "note": COUNCIL_NOTE,
            "effective_on": "2010-05-01"}  # fmt: skip
    note_id = api.post("auditor", "/v1/audit/notes", body).json()["id"]
    before = api.event_count()

    alone = api.post("admin", f"/v1/audit/notes/{note_id}/erasure", ERASE)
    unknown = api.post("admin", "/v1/audit/notes/00000000-0000-0000-0000-000000000000/erasure",
                       ERASE)  # fmt: skip
    erase(api)

    assert (alone.status_code, alone.json()["type"]) == (409, "/problems/note-about-a-person")
    assert unknown.status_code == 404
    assert api.event_count() == before + 2  # only the person's erasure wrote
    assert trail_notes(api) == {note_id: ERASED}


def test_after_erasure_no_export_holds_the_persons_data(api: Api, database_url: str) -> None:
    """The journal (both formats), every view as CSV and a proof bundle of the whole log."""
    if database_url == "memory://":
        return  # the CLI exports from a database
    budget_id = with_personal_data(api)
    with_invoice_reasons_on(api, budget_id)
    erase(api)
    runner = CliRunner()
    tables = sorted(t for v in api.service.runner.views for t in v.tables)
    exports = [csv_export(database_url, t) for t in tables]
    for fmt in ("hledger", "beancount"):
        journal = runner.invoke(
            cli_app, ["export", "journal", "--format", fmt, "--database-url", database_url]
        )
        assert journal.exit_code == 0, journal.stdout
        exports.append(journal.stdout)

    everything = "\n".join(exports)

    assert len(tables) > 10 and budget_id in everything
    for secret in (PERSON, REP, NOTE, CORRECTION, *REASONS):
        assert secret not in everything, secret


def with_invoice_reasons_on(api: Api, budget_id: str) -> None:
    invoice = posted(api, budget_id, number="INV-EXPORT")
    body = {"effective_on": "2010-05-03", "reason": DISPUTED}
    assert api.post("council", f"/v1/invoices/{invoice}/dispute", body).status_code == 200
