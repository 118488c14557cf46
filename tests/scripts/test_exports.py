"""Exports an auditor can check with independent tools: beancount's bean-check, hledger's check."""

from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.glossary import GLOSSARY
from ledger.application import CareLedger
from scripts.cli import app
from tests.integration.test_backends import EXPECTED_TRIAL_BALANCE, run_scenario
from tests.support import COUNCIL, World

runner = CliRunner()
BEAN_CHECK = shutil.which("bean-check") or str(Path(".venv/bin/bean-check"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def loaded_url(request: pytest.FixtureRequest) -> str:
    """A store holding the standard scenario (the command line opens it afresh)."""
    database_url = str(request.getfixturevalue(f"{request.param}_url"))
    ledger = CareLedger(database_url)
    run_scenario(World(ledger).setup(pool_pence=50_000_00))
    ledger.close()
    return database_url


def export(url: str, fmt: str, path: Path) -> None:
    result = runner.invoke(
        app, ["export", "journal", "--format", fmt, "--output", str(path), "--database-url", url]
    )
    assert result.exit_code == 0, result.output


def test_the_beancount_journal_passes_bean_check_and_balances_like_the_ledger(
    loaded_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "journal.beancount"
    export(loaded_url, "beancount", path)

    checked = subprocess.run([BEAN_CHECK, str(path)], capture_output=True, text=True, check=False)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    totals = _beancount_totals(path.read_text())
    assert totals["Assets:Bank"] == Decimal(EXPECTED_TRIAL_BALANCE["Assets:Bank"]) / 100
    assert sum(totals.values()) == 0


def test_the_hledger_journal_passes_hledger_check(loaded_url: str, tmp_path: Path) -> None:
    hledger = shutil.which("hledger")
    if hledger is None:
        pytest.skip("hledger is not installed here (.ci/run installs it from Debian)")
    path = tmp_path / "journal.hledger"
    export(loaded_url, "hledger", path)

    checked = subprocess.run(
        [hledger, "-f", str(path), "check"], capture_output=True, text=True, check=False
    )

    assert checked.returncode == 0, checked.stderr
    balance = subprocess.run(
        [hledger, "-f", str(path), "balance", "--flat", "--no-total", f"Assets:Bank:{COUNCIL}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "£-2357.00" in balance.stdout.replace(" ", "") or "-£2357.00" in balance.stdout


def test_every_view_exports_as_csv_with_a_header(loaded_url: str, tmp_path: Path) -> None:
    path = tmp_path / "balances.csv"

    result = runner.invoke(
        app,
        ["export", "csv", "v_budget_balances", "--output", str(path), "--database-url", loaded_url],
    )
    refused = runner.invoke(app, ["export", "csv", "stored_events", "--database-url", loaded_url])

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 1 and rows[0]["council"] == COUNCIL
    assert rows[0]["available_pence"] == str(10_000_00 - 2_000_00 - 520_00 + 13_00)
    assert rows[0]["net_drawn_pence"] == str(2_000_00 + 520_00 - 13_00)
    assert set(rows[0]) - {"open_invoices"} <= set(GLOSSARY)  # the API's names
    assert refused.exit_code == 2


def _beancount_totals(text: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and line.startswith("  ") and parts[-1] == "GBP":
            account = ":".join(parts[0].split(":")[:2])
            totals[account] = totals.get(account, Decimal(0)) + Decimal(parts[-2])
    return totals
