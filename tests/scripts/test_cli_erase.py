"""``careledger erase`` on a SQLite and a PostgreSQL store: the person's reference is gone from
the store, the ledger still verifies, and every refusal is one line with its exit code."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from ledger.personal import ERASED, IN_THE_CLEAR, context
from projections.retention import retained_until
from projections.service import LedgerService
from scripts.cli import app
from tests.support import COUNCIL, START, World

runner = CliRunner()
PERSON = "P-CLI-4242"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> str:
    """A store holding one budget opened for PERSON, with its money moved."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    service = LedgerService(url)
    try:
        world = World(service.app).setup()
        budget_id = world.active_budget()
        service.app.open_budget(COUNCIL, PERSON, "physical", date(2010, 4, 5), world.prov())
        assert budget_id
    finally:
        service.close()
    return url


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_erase_destroys_the_key_and_the_ledger_still_verifies(store: str) -> None:
    code, out, _ = cli("erase", PERSON, "--reason", "art17-request", "--json",
                       "--database-url", store)  # fmt: skip
    verified, report, _ = cli("verify", "--json", "--database-url", store)

    assert code == 0, out
    assert PERSON not in out
    assert verified == 0, report
    service = LedgerService(store)
    try:
        budget_id = service.db.query(
            "SELECT budget_id FROM v_people WHERE person = ?", (json.loads(out)["person"],)
        )[0]["budget_id"]
        stored = service.app.budget(budget_id).person_ref
        assert service.app.personal.reveal(stored, context(budget_id, "person_ref")) == ERASED
    finally:
        service.close()


def test_a_rerun_retries_a_second_erasure_or_an_unknown_person_exits_1_bad_reason_2(
    store: str,
) -> None:
    first = cli("erase", PERSON, "--reason", "art17-request", "--database-url", store)

    rerun = cli("erase", PERSON, "--reason", "art17-request", "--database-url", store)
    again = cli("erase", PERSON, "--reason", "art17-request", "--command-id", "second-try",
                "--database-url", store)  # fmt: skip
    unknown = cli("erase", "P-NOBODY", "--reason", "art17-request", "--database-url", store)
    bad = cli("erase", "P-NOBODY", "--reason", "two\nlines", "--database-url", store)
    missing = cli("erase", PERSON, "--database-url", store)

    assert (rerun[0], rerun[1]) == (0, first[1])  # the same erasure, retried: its first outcome
    assert (again[0], again[2].startswith("error: ")) == (1, True)
    assert "already erased" in again[2]
    assert unknown[0] == 1 and "no personal data" in unknown[2]
    assert bad[0] == 2 and "reason" in bad[2]
    assert missing[0] == 2


def test_retention_runs_from_the_end_of_the_financial_year_the_budget_ended() -> None:
    assert retained_until(date(2011, 3, 31)) == date(2017, 3, 31)  # the last day of 2010/11
    assert retained_until(date(2011, 4, 1)) == date(2018, 3, 31)  # the first day of 2011/12
    assert retained_until(date(2011, 4, 1), years=7) == date(2019, 3, 31)


@pytest.fixture
def ended(sqlite_url: str) -> tuple[str, str, str]:
    """Two people: one whose only budget ended on 2011-06-30, one whose budget is still open;
    returns the store and their pseudonyms."""
    service = LedgerService(sqlite_url)
    try:
        world = World(service.app).setup()
        opened = service.app.open_budget(COUNCIL, "P-GONE", "physical", START, world.prov())
        service.app.end_budget(opened["budget_id"], "death", date(2011, 6, 30), world.prov())
        service.app.open_budget(COUNCIL, "P-STAYS", "physical", START, world.prov())
        gone, stays = (service.keys.pseudonym("person", p) for p in ("P-GONE", "P-STAYS"))
    finally:
        service.close()
    return sqlite_url, gone, stays


def test_retention_lists_only_people_past_it_and_apply_erases_them_once(
    ended: tuple[str, str, str],
) -> None:
    url, gone, stays = ended

    early = cli("retention", "--on", "2018-03-31", "--json", "--database-url", url)
    listed = cli("retention", "--on", "2018-04-01", "--json", "--database-url", url)
    applied = cli("retention", "--on", "2018-04-01", "--apply", "--json", "--database-url", url)
    after = cli("retention", "--on", "2030-01-01", "--json", "--database-url", url)
    verified = cli("verify", "--database-url", url)

    assert json.loads(early[1])["people"] == []
    people = json.loads(listed[1])["people"]
    assert [(p["person"], p["retained_until"], p["erased"]) for p in people] == [
        (gone, "2018-03-31", False)
    ]
    assert [p["erased"] for p in json.loads(applied[1])["people"]] == [True]
    assert json.loads(after[1])["people"] == []  # erased once; the open budget is kept
    assert stays not in listed[1] + after[1]
    assert verified[0] == 0
    again = cli("retention", "--on", "2018-04-01", "--json", "--database-url", url)
    assert json.loads(again[1])["people"] == []  # erased already
    service = LedgerService(url)
    try:
        assert (service.keys.state(gone), service.keys.state(stays)) == ("erased", "active")
    finally:
        service.close()


def test_migrate_personal_data_finds_nothing_plain_in_a_store_sealed_from_the_start(
    store: str,
) -> None:
    code, out, _ = cli("migrate-personal-data", "--apply", "--json", "--database-url", store)

    report = json.loads(out)
    assert code == 0
    assert (report["plain_events"], report["people"], report["keys_made"]) == (0, 0, 0)
    assert report["events"] > 0 and report["rewritable"] is False


def test_a_councils_own_retention_policy_keeps_its_people_longer(
    ended: tuple[str, str, str],
) -> None:
    url, gone, _ = ended

    default = cli("retention", "--on", "2018-04-01", "--json", "--database-url", url)
    set_ = cli("retention-policy", COUNCIL.lower(), "7", "--effective-on", "2012-01-01",
               "--json", "--database-url", url)  # fmt: skip
    longer = cli("retention", "--on", "2018-04-01", "--json", "--database-url", url)
    later = cli("retention", "--on", "2019-04-01", "--json", "--database-url", url)

    assert [p["person"] for p in json.loads(default[1])["people"]] == [gone]
    assert set_[0] == 0, set_
    assert json.loads(longer[1]) == {"on": "2018-04-01", "retention_years": {COUNCIL: 7},
                                     "people": []}  # fmt: skip
    assert [p["retained_until"] for p in json.loads(later[1])["people"]] == ["2019-03-31"]


@pytest.mark.parametrize(
    ("args", "exit_code", "problem"),
    [
        (("E09000033", "5"), 2, "6..30"),  # a refused value
        (("E09000033", "31"), 2, "6..30"),
        (("E99999999", "7"), 1, "council"),  # a record not found
    ],
)
def test_a_retention_policy_out_of_bounds_or_for_no_council_is_one_line_and_writes_nothing(
    ended: tuple[str, str, str], args: tuple[str, str], exit_code: int, problem: str
) -> None:
    url, _, _ = ended
    before = _events(url)

    code, out, err = cli("retention-policy", *args, "--database-url", url)

    assert code == exit_code and problem in err.lower() and "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1
    assert _events(url) == before


def _events(url: str) -> int:
    service = LedgerService(url)
    try:
        return service.runner.head()
    finally:
        service.close()


def test_migrate_and_erase_say_which_events_of_an_older_store_stay_plain(sqlite_url: str) -> None:
    service = LedgerService(sqlite_url)
    try:
        world = World(service.app).setup()
        sealing, service.app.personal = service.app.personal, IN_THE_CLEAR  # before sealing
        opened = service.app.open_budget(COUNCIL, "P-OLD-77", "physical", START, world.prov())
        service.app.personal = sealing
        person = service.keys.pseudonym("person", "P-OLD-77")
    finally:
        service.close()

    report = cli("migrate-personal-data", "--apply", "--json", "--database-url", sqlite_url)
    text = cli("migrate-personal-data", "--database-url", sqlite_url)
    erased = cli("erase", "P-OLD-77", "--reason", "art17-request", "--database-url", sqlite_url)

    found = json.loads(report[1])
    positions = found["plain_positions"][person]
    assert (found["plain_events_by_person"][person], found["keys_made"]) == (1, 1)
    assert f"{person}: 1 event(s) at {positions[0]}" in text[1]
    assert erased[0] == 0, erased
    assert "1 event(s) written before sealing" in erased[2] and str(positions[0]) in erased[2]
    assert "P-OLD-77" not in erased[1] + erased[2] + text[1]
    assert opened["budget_id"]


def test_erase_note_erases_a_note_about_no_person_and_refuses_one_about_a_budget(
    store: str,
) -> None:
    service = LedgerService(store)
    try:
        world = World(service.app)
        auditor = world.prov("auditor", "auditor-1")
        alone = service.app.add_audit_note(
            None, "ctrl-weak", "Month-end reconciliation late", date(2010, 5, 1), auditor,
            council=COUNCIL,
        )["note_id"]  # fmt: skip
        budget_id = service.db.query("SELECT budget_id FROM v_people LIMIT 1")
        subject = f"{budget_id[0]['budget_id']}/1" if budget_id else None
        about = service.app.add_audit_note(
            subject, "ctrl-weak", "Care plan unsigned", date(2010, 5, 1), world.prov("auditor")
        )["note_id"]
    finally:
        service.close()

    code, out, err = cli("erase-note", alone, "--reason", "retention", "--json",
                         "--database-url", store)  # fmt: skip
    rerun = cli("erase-note", alone, "--reason", "retention", "--json", "--database-url", store)
    again = cli("erase-note", alone, "--reason", "retention", "--command-id", "second",
                "--database-url", store)  # fmt: skip
    refused = cli("erase-note", about, "--reason", "retention", "--database-url", store)
    unknown = cli("erase-note", "not-a-note", "--reason", "retention", "--database-url", store)
    verified = cli("verify", "--database-url", store)

    assert (code, json.loads(out)["note_id"]) == (0, alone), err
    retried = json.loads(rerun[1])
    assert (rerun[0], retried.pop("replayed")) == (0, True)  # retried: its first outcome
    assert retried == json.loads(out)
    assert again[0] == 1 and "already erased" in again[2]
    assert refused[0] == 1 and refused[2].startswith("error: ") and "person" in refused[2]
    assert unknown[0] == 1 and len(unknown[2].strip().splitlines()) == 1
    assert verified[0] == 0, verified[1]
    service = LedgerService(store)
    try:
        assert (
            service.app.personal.reveal(service.app.audit_note(alone).note, context(alone, "note"))
            == ERASED
        )
    finally:
        service.close()
