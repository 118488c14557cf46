"""A representative is a data subject of their own: their id is sealed under their own key
inside the person's, so an administrator can erase them alone — their id reads as erased on
the budgets they represent, their tokens go, the person and the money stay."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ledger.personal import ERASED
from scripts.cli import app as cli_app
from tests.api.conftest import Api
from tests.api.test_erasure_api import ERASE, database_bytes, erase, figures, found
from tests.api.test_personal_data_api import PERSON, REP, with_personal_data

PATH = f"/v1/representatives/{REP}/erasure"


def test_an_administrator_erases_a_representative_alone(
    api: Api, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    budget_id = with_personal_data(api)
    before = figures(api, budget_id)
    refused = api.post("council", PATH, ERASE)

    erased = api.post("admin", PATH, ERASE)
    shown = api.get("council", f"/v1/budgets/{budget_id}").json()

    assert refused.status_code == 403
    assert erased.status_code == 200, erased.json()
    assert erased.json()["person"] == api.service.app.personal.pseudonym("representative", REP)
    assert (shown["person_ref"], list(shown["representatives"])) == (PERSON, [ERASED])
    assert api.get("rep", f"/v1/budgets/{budget_id}").status_code == 401  # token deleted
    assert not found(REP.encode(), database_bytes(api, database_url))
    assert figures(api, budget_id) == before
    assert api.get("auditor", "/v1/audit/verify").json()["ok"] is True
    logs = capsys.readouterr()
    assert "/v1/representatives/{representative_id}/erasure" in logs.out  # the route, logged
    assert REP not in logs.out + logs.err


def test_an_erased_representative_is_not_appointed_again_nor_erased_twice(api: Api) -> None:
    budget_id = with_personal_data(api)
    api.post("admin", PATH, ERASE)
    before = api.event_count()

    again = api.post("admin", PATH, ERASE)
    unknown = api.post("admin", "/v1/representatives/REP-NEVER-SEEN/erasure", ERASE)
    appoint = {"representative_id": REP, "kind": "carer", "basis": "none",
               "effective_on": "2010-06-01"}  # fmt: skip
    reappointed = api.post("council", f"/v1/budgets/{budget_id}/representatives", appoint)

    assert (again.status_code, again.json()["type"]) == (409, "/problems/person-erased")
    assert (unknown.status_code, unknown.json()["type"]) == (
        404,
        "/problems/representative-not-found",
    )
    assert reappointed.status_code == 409
    assert api.event_count() == before


def test_erasing_the_person_erases_their_representatives_ids_too(api: Api) -> None:
    budget_id = with_personal_data(api)

    erase(api)
    shown = api.get("council", f"/v1/budgets/{budget_id}").json()

    assert list(shown["representatives"]) == [ERASED]
    assert api.service.keys.state(api.service.keys.pseudonym("representative", REP)) == "active"


def test_the_cli_erases_a_representative_in_one_line(api: Api, database_url: str) -> None:
    if database_url == "memory://":
        return  # the CLI works on a database
    with_personal_data(api)
    runner = CliRunner()

    args = [
        "erase-representative",
        REP,
        "--reason",
        "art17-request",
        "--database-url",
        database_url,
    ]

    done = runner.invoke(cli_app, args)
    again = runner.invoke(cli_app, [*args, "--command-id", "another"])

    assert done.exit_code == 0, done.stdout + done.stderr
    assert REP not in done.stdout + done.stderr
    assert "1 representative token(s) deleted" in done.stdout + done.stderr
    assert again.exit_code == 1 and len(again.stderr.strip().splitlines()) == 1
