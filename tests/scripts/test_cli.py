"""The command line's projection commands, run in-process against real stores."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.auth import TokenStore
from api.figure_models import BudgetBalanceOut
from api.glossary import GLOSSARY
from ledger.application import CareLedger
from projections.service import LedgerService
from scripts.cli import app
from tests.integration.test_backends import run_scenario
from tests.support import COUNCIL, World

runner = CliRunner()


@pytest.fixture
def loaded_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'careledger.db'}"
    ledger = CareLedger(url)
    run_scenario(World(ledger).setup(pool_pence=50_000_00))
    ledger.close()
    return url


def test_project_catches_every_view_up(loaded_url: str) -> None:
    result = runner.invoke(app, ["project", "--database-url", loaded_url])

    assert result.exit_code == 0, result.output
    assert "views at position 47 (47 events applied)" in result.output


def test_verify_passes_then_exits_1_naming_the_tampered_position(loaded_url: str) -> None:
    clean = runner.invoke(app, ["verify", "--json", "--database-url", loaded_url])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["ok"] is True

    path = loaded_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = 30")
    tampered = runner.invoke(app, ["verify", "--json", "--database-url", loaded_url])

    assert tampered.exit_code == 1
    chain = next(c for c in json.loads(tampered.stdout)["checks"] if c["name"] == "hash-chain")
    assert chain["first_bad_position"] == 30


def test_a_checkpoint_file_is_checked_on_verify(loaded_url: str, tmp_path: Path) -> None:
    taken = runner.invoke(app, ["checkpoint", "--database-url", loaded_url])
    assert taken.exit_code == 0, taken.output
    (tmp_path / "cp.json").write_text(taken.stdout)

    result = runner.invoke(
        app,
        [
            "verify",
            "--json",
            "--checkpoint",
            str(tmp_path / "cp.json"),
            "--database-url",
            loaded_url,
        ],
    )

    checks = {c["name"]: c["ok"] for c in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 0 and checks["checkpoint"] is True


def test_rebuild_refuses_an_unknown_view(loaded_url: str) -> None:
    result = runner.invoke(app, ["rebuild", "nonsense", "--database-url", loaded_url])

    assert result.exit_code == 2
    assert "no such view: nonsense" in result.output


def test_rebuild_of_one_view_keeps_verification_green(loaded_url: str) -> None:
    assert runner.invoke(app, ["rebuild", "audit", "--database-url", loaded_url]).exit_code == 0

    result = runner.invoke(app, ["verify", "--json", "--database-url", loaded_url])

    assert result.exit_code == 0, result.output


def test_balance_for_a_business_date_and_as_known_at_an_instant(loaded_url: str) -> None:
    ledger = CareLedger(loaded_url)
    budget_id = str(next(n.originator_id for n in ledger.recorder.select_notifications(1, 100)
                         if n.topic.endswith(":Opened")))  # fmt: skip
    ledger.close()

    now = runner.invoke(app, ["balance", budget_id, "--json", "--database-url", loaded_url])
    # before the contribution of 3 May 2010 and the cash of 6 April: only the allocation
    early = runner.invoke(
        app,
        [
            "balance",
            budget_id,
            "--json",
            "--effective-on",
            "2010-04-05",
            "--database-url",
            loaded_url,
        ],
    )
    before_it_existed = runner.invoke(
        app, ["balance", budget_id, "--as-at", "2000-01-01T00:00:00", "--database-url", loaded_url]
    )

    assert now.exit_code == 0, now.output
    figures = json.loads(now.stdout)
    assert figures["available_pence"] == 10_000_00 - 2_000_00 - 520_00 + 13_00
    assert figures["net_drawn_pence"] == 2_000_00 + 520_00 - 13_00
    assert (figures["contributions_received_pence"], figures["contributions_reversed_pence"]) == (
        151_00,
        1_00,
    )
    assert set(figures) <= set(GLOSSARY)  # one name, one meaning
    assert set(figures) == set(BudgetBalanceOut.model_fields)  # the API's fields, no more
    assert (figures["as_at_position"], figures["effective_on"]) == (None, None)  # as the API
    then = json.loads(early.stdout)
    assert (then["cash_paid_pence"], then["available_pence"]) == (0, 10_000_00)
    assert then["effective_on"] == "2010-04-05"
    assert before_it_existed.exit_code == 2  # before the first event: one clear line
    assert "before the ledger knew anything" in before_it_existed.output


def test_a_token_is_made_for_a_registered_council_or_firm_in_its_plain_form(
    loaded_url: str,
) -> None:
    def create(*scope: str) -> Any:
        return runner.invoke(
            app, ["tokens", "create", *scope, "--json", "--database-url", loaded_url]
        )

    look_alike = create("--role", "council", "--council", f" {COUNCIL.lower()}")
    unknown = create("--role", "council", "--council", "E99999999")
    no_firm = create("--role", "provider", "--provider", "1-000000000")
    service = LedgerService(loaded_url)
    try:
        councils = [r["council"] for r in TokenStore(service.db).list()]
    finally:
        service.close()

    assert look_alike.exit_code == 0, look_alike.output
    assert councils == [COUNCIL]  # kept as the council's own code; the unknown one not made
    assert unknown.exit_code == no_firm.exit_code == 1
    assert unknown.stderr.strip() == "error: no council E99999999 is registered in this store"
    assert no_firm.stderr.strip() == "error: no care firm 1-000000000 is registered in this store"
