"""``careledger erase`` on a SQLite and a PostgreSQL store: the person's reference is gone from
the store, the ledger still verifies, and every refusal is one line with its exit code."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from ledger.personal import ERASED, context
from projections.service import LedgerService
from scripts.cli import app
from tests.support import COUNCIL, World

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


def test_erasing_twice_or_an_unknown_person_exits_1_and_a_bad_reason_exits_2(store: str) -> None:
    cli("erase", PERSON, "--reason", "art17-request", "--database-url", store)

    again = cli("erase", PERSON, "--reason", "art17-request", "--database-url", store)
    unknown = cli("erase", "P-NOBODY", "--reason", "art17-request", "--database-url", store)
    bad = cli("erase", "P-NOBODY", "--reason", "two\nlines", "--database-url", store)
    missing = cli("erase", PERSON, "--database-url", store)

    assert (again[0], again[2].startswith("error: ")) == (1, True)
    assert "already erased" in again[2]
    assert unknown[0] == 1 and "no personal data" in unknown[2]
    assert bad[0] == 2 and "reason" in bad[2]
    assert missing[0] == 2
