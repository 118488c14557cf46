"""A wrong, damaged or missing key is a clear answer, never a crash: sealed fields read as
erased, a command that would seal under a damaged key is refused by name and writes nothing,
and a damaged pseudonym secret file is one line from the command line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.personal import ERASED
from projections.service import LedgerService
from scripts.cli import app as cli_app
from tests.api.conftest import Api
from tests.api.test_personal_data_api import PERSON, REASON, trail_note, trail_reasons
from tests.api.test_personal_data_api import with_personal_data as personal_data

SET_KEY = "UPDATE careledger_person_keys SET data_key = ? WHERE pseudonym = ?"


def damage(api: Api, key: bytes | None) -> None:
    """Replace the person's data key in the key store (None: delete the row)."""
    keys = api.service.keys
    person = keys.pseudonym("person", PERSON)
    with keys.db.transaction() as cur:
        if key is None:
            cur.execute("DELETE FROM careledger_person_keys WHERE pseudonym = ?", (person,))
        else:
            cur.execute(SET_KEY, (key, person))


@pytest.mark.parametrize(
    "key", [os.urandom(32), b"\x00" * 5, None], ids=["wrong-key", "damaged-key", "missing-key"]
)
def test_a_wrong_damaged_or_missing_key_reads_as_erased(api: Api, key: bytes | None) -> None:
    budget_id = personal_data(api)

    damage(api, key)
    shown = api.get("council", f"/v1/budgets/{budget_id}")

    assert shown.status_code == 200
    assert (shown.json()["person_ref"], list(shown.json()["representatives"])) == (
        ERASED,
        [ERASED],
    )
    assert (trail_note(api), trail_reasons(api)) == (ERASED, [ERASED])
    assert api.get("auditor", "/v1/audit/verify").json()["ok"] is True


def test_a_command_that_would_seal_under_a_damaged_key_is_refused_and_writes_nothing(
    api: Api,
) -> None:
    budget_id = personal_data(api)
    damage(api, b"\x00" * 5)
    before = api.event_count()

    refused = api.post(
        "council",
        f"/v1/budgets/{budget_id}/suspension",
        {"effective_on": "2010-06-01", "reason": REASON},
    )

    assert (refused.status_code, refused.json()["type"]) == (409, "/problems/person-key-damaged")
    assert PERSON not in str(refused.json())
    assert api.event_count() == before


@pytest.mark.parametrize(
    ("content", "mode", "said"),
    [("zz\n", 0o600, "32-byte hex secret"), (os.urandom(32).hex(), 0o644, "chmod 600")],
)
def test_a_damaged_pseudonym_secret_file_is_one_line_from_the_cli(
    sqlite_url: str, content: str, mode: int, said: str
) -> None:
    runner = CliRunner()
    LedgerService(sqlite_url).close()  # a store, and its secret made on first use
    secret = Path(os.environ["CARELEDGER_PSEUDONYM_KEY_FILE"])

    fine = runner.invoke(cli_app, ["retention", "--database-url", sqlite_url])
    secret.write_text(content, encoding="ascii")
    secret.chmod(mode)
    result = runner.invoke(cli_app, ["retention", "--database-url", sqlite_url])

    assert fine.exit_code == 0, fine.stderr
    assert result.exit_code == 2
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr
