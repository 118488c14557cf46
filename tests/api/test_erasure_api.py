"""Erasure: an administrator destroys a person's key; their reference, representatives' ids and
notes about them read as erased and are nowhere in the database's bytes, while the money, the
chain and the Merkle tree are unchanged and verify."""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from ledger.persistence import persistence_env
from ledger.personal import ERASED, IN_THE_CLEAR
from projections.migrate import scan
from tests.api.conftest import Api, budget_body
from tests.api.test_personal_data_api import (
    NOTE,
    PERSON,
    REASON,
    REP,
    exception_details,
    stored_bytes,
    trail_note,
    trail_reasons,
    with_personal_data,
)
from tests.support import COUNCIL, World

ERASE = {"reason": "art17-request", "effective_on": "2011-01-10"}


def erase(api: Api, who: str = "admin", person: str = PERSON, key: str | None = None) -> Any:
    return api.post(who, f"/v1/people/{person}/erasure", ERASE, key=key)


def figures(api: Api, budget_id: str) -> dict[str, Any]:
    """Every money figure a reader sees: the budget's, the trial balance, spend, progress."""
    budget = api.get("council", f"/v1/budgets/{budget_id}").json()
    return {
        "budget": {k: v for k, v in budget.items() if k not in ("person_ref", "representatives")},
        "trial": api.get("auditor", "/v1/ledger/trial-balance").json(),
        "spend": api.get("council", "/v1/spend-by-provider").json(),
        "progress": api.get("council", f"/v1/councils/{budget['council']}/progress").json(),
    }


def database_bytes(api: Api, url: str) -> bytes:
    """The whole store as bytes: the SQLite file and its WAL; on PostgreSQL a pg_dump of the
    schema (the live rows) and every data file of its relations on disk after a CHECKPOINT
    (dead row versions too, which a dump never shows)."""
    if url.startswith("sqlite"):
        path = Path(persistence_env(url)["SQLITE_DBNAME"])
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    if url.startswith("postgres"):
        schema = parse_qs(urlsplit(url).query)["schema"][0]
        server = os.environ["CARELEDGER_TEST_POSTGRES_URL"]
        return pg_dump(url) + relation_files(server, schema)
    return stored_bytes(api)  # memory: the events are all there is


def pg_dump(url: str) -> bytes:
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    server = os.environ["CARELEDGER_TEST_POSTGRES_URL"]
    dump = ["pg_dump", "--no-owner", "--schema", schema, server]
    return subprocess.run(dump, check=True, capture_output=True).stdout


RELATIONS = """
SELECT pg_relation_filepath(c.oid) AS path FROM pg_class c
WHERE c.relnamespace = %(schema)s::regnamespace
   OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE relnamespace = %(schema)s::regnamespace)
   OR c.oid IN (SELECT i.indexrelid FROM pg_index i JOIN pg_class t ON t.reltoastrelid = i.indrelid
                WHERE t.relnamespace = %(schema)s::regnamespace)
"""


def relation_files(server: str, schema: str) -> bytes:
    """The bytes on disk of every table, index and TOAST table of ``schema`` (each segment),
    once a CHECKPOINT has written the shared buffers out. The tests run as root beside the
    cluster, so its data directory is readable."""
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        root = Path(str(conn.execute("SHOW data_directory").fetchone()[0]))  # type: ignore[index]
        paths = [r[0] for r in conn.execute(RELATIONS, {"schema": schema}) if r[0]]
    data = [f for p in paths for f in segments(root / p)]
    assert data, f"no data files found for schema {schema}"
    return b"".join(f.read_bytes() for f in data)


def segments(path: Path) -> list[Path]:
    """A relation's data file and its further 1 GB segments (``path.1``, ``path.2`` …)."""
    found, n = [], 1
    while path.exists():
        found.append(path)
        path, n = path.with_name(f"{path.name.split('.')[0]}.{n}"), n + 1
    return found


def found(secret: bytes, everything: bytes) -> bool:
    """Raw bytes, or as pg_dump writes a bytea (hex)."""
    return secret in everything or secret.hex().encode() in everything


def test_only_an_administrator_erases_and_a_refusal_writes_nothing(api: Api) -> None:
    budget_id = with_personal_data(api)
    before = api.event_count()

    refused = [erase(api, who).status_code for who in ("council", "auditor", "regulator", "rep")]

    assert refused == [403, 403, 403, 403]
    assert api.event_count() == before
    assert api.get("council", f"/v1/budgets/{budget_id}").json()["person_ref"] == PERSON


def test_after_erasure_every_read_shows_erased_and_the_money_is_unchanged(api: Api) -> None:
    budget_id = with_personal_data(api)
    before = figures(api, budget_id)

    erased = erase(api)
    shown = api.get("council", f"/v1/budgets/{budget_id}").json()

    assert erased.status_code == 200, erased.json()
    assert erased.json()["person"] == api.service.app.personal.pseudonym("person", PERSON)
    assert (shown["person_ref"], list(shown["representatives"])) == (ERASED, [ERASED])
    assert trail_note(api) == ERASED
    assert trail_reasons(api) == [ERASED]
    assert exception_details(api) == [f"CashPaymentIssued v7: {ERASED}"]
    assert figures(api, budget_id) == before
    assert api.get("auditor", "/v1/audit/verify").json()["ok"] is True


def test_the_erasure_is_on_the_audit_trail_with_no_personal_data(api: Api) -> None:
    with_personal_data(api)

    erase(api)
    rows = api.get("auditor", "/v1/audit", type="PersonErasure.Recorded").json()["items"]

    assert len(rows) == 1
    row = rows[0]
    assert (row["aggregate_kind"], row["actor_role"], row["reason"]) == (
        "erasure",
        "admin",
        "art17-request",
    )
    assert PERSON not in str(row)


def test_a_representative_of_an_erased_person_loses_access(api: Api) -> None:
    budget_id = with_personal_data(api)

    erase(api)

    assert api.get("rep", f"/v1/budgets/{budget_id}").status_code == 401


def test_erasing_again_is_a_conflict_a_retry_is_the_first_outcome_an_unknown_person_404(
    api: Api,
) -> None:
    with_personal_data(api)
    first = erase(api, key="erase-1")

    retried = erase(api, key="erase-1")
    again = erase(api, key="erase-2")
    unknown = erase(api, person="P-NEVER-SEEN")

    assert retried.json() == first.json()
    assert (again.status_code, again.json()["type"]) == (409, "/problems/person-erased")
    assert (unknown.status_code, unknown.json()["type"]) == (404, "/problems/person-not-found")


def test_nothing_new_is_recorded_under_an_erased_persons_reference(api: Api) -> None:
    with_personal_data(api)
    erase(api)
    before = api.event_count()

    reopened = api.post("council", "/v1/budgets", budget_body())

    assert (reopened.status_code, reopened.json()["type"]) == (409, "/problems/person-erased")
    assert api.event_count() == before


def test_after_erasure_the_personal_data_and_key_are_nowhere_in_the_database(
    api: Api, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with_personal_data(api)
    keys = api.service.keys
    key = keys.key(keys.pseudonym("person", PERSON))
    assert key is not None and PERSON.encode() not in database_bytes(api, database_url)
    if database_url.startswith(("sqlite", "postgres")):
        assert found(key, database_bytes(api, database_url))  # the search finds what is there

    erase(api)
    everything = database_bytes(api, database_url)
    logs = capsys.readouterr()

    for secret in (PERSON.encode(), REP.encode(), NOTE.encode(), REASON.encode(), key):
        assert not found(secret, everything)
        assert secret.decode(errors="replace") not in logs.out + logs.err
    assert b"pii1:" in stored_bytes(api)  # the sealed values stay: the proofs cover them
    assert api.get("auditor", "/v1/audit/verify").json()["ok"] is True


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_the_byte_search_finds_the_destroyed_key_when_nothing_cleans_up_after_it(
    api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search above is honest: without the cleanup (SQLite's WAL checkpoint and truncate,
    PostgreSQL's VACUUM FULL) the destroyed key's old copy is still on disk — in the WAL, or
    as a dead row version that a pg_dump never shows but the relation's data file holds — and
    the same search finds it."""
    with_personal_data(api)
    keys = api.service.keys
    key = keys.key(keys.pseudonym("person", PERSON))
    assert key is not None
    monkeypatch.setattr(type(keys.db), "compact", lambda self, table: None)

    erase(api)

    assert keys.key(keys.pseudonym("person", PERSON)) is None  # destroyed as far as SQL sees
    assert found(key, database_bytes(api, database_url))
    if database_url.startswith("postgres"):
        assert not found(key, pg_dump(database_url))  # why a dump alone proves nothing


def test_a_person_opened_before_sealing_is_reported_keyed_and_then_erasable(api: Api) -> None:
    app = api.service.app
    sealing, app.personal = app.personal, IN_THE_CLEAR  # a ledger from before this change
    opened = app.open_budget(COUNCIL, "P-LEGACY-1", "physical", date(2010, 4, 5), World(app).prov())
    app.personal = sealing
    not_yet = erase(api, person="P-LEGACY-1")

    found = scan(app, api.service.keys)
    keyed = scan(app, api.service.keys, apply=True)
    erased = erase(api, person="P-LEGACY-1")
    shown = api.get("council", f"/v1/budgets/{opened['budget_id']}").json()

    assert (not_yet.status_code, found.keyed) == (404, 0)
    assert (found.plain_events, dict(found.fields), len(found.people)) == (
        1,
        {"person_ref": 1},
        1,
    )
    assert found.as_dict()["rewritable"] is False
    assert (keyed.keyed, erased.status_code, shown["person_ref"]) == (1, 200, ERASED)
    assert b"P-LEGACY-1" in stored_bytes(api)  # honestly: the log keeps what it was given
    verified = api.get("auditor", "/v1/audit/verify").json()
    assert verified["ok"] is True, [c for c in verified["checks"] if not c["ok"]]
