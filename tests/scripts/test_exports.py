"""Exports an auditor can check with independent tools: beancount's bean-check, hledger's check."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from api.app import create_app
from api.auth import TokenStore
from api.figure_models import BudgetBalanceOut
from api.glossary import GLOSSARY
from api.responses import ExceptionItem
from api.responses_audit import AuditRow
from api.settings import Settings
from ledger.application import CareLedger
from ledger.values import Deployment, Period
from scripts.cli import app
from tests.conftest import REQUIRE_POSTGRES
from tests.integration.test_backends import EXPECTED_TRIAL_BALANCE, run_scenario
from tests.support import COUNCIL, World

runner = CliRunner()
YEAR_TWO = Period(date(2011, 4, 11), date(2011, 5, 8))  # after the approval year
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


def hledger_or_skip() -> str:
    """hledger's path; skipped where it is absent, except in CI (CARELEDGER_REQUIRE_POSTGRES=1),
    where its absence fails the test."""
    hledger = shutil.which("hledger")
    if hledger is None:
        if REQUIRE_POSTGRES:
            pytest.fail("hledger is not installed (.ci/run installs it from Debian)")
        pytest.skip("hledger is not installed here (.ci/run installs it from Debian)")
    return hledger


def test_the_hledger_journal_passes_hledger_check(loaded_url: str, tmp_path: Path) -> None:
    hledger = hledger_or_skip()
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
    assert refused.exit_code == 2


def test_the_budget_years_export_has_the_apis_per_year_figures(
    loaded_url: str, tmp_path: Path
) -> None:
    ledger = CareLedger(loaded_url)
    world = World(ledger, counter=count(1000))  # command ids the scenario has not used
    rolled = world.active_budget(deployment=Deployment("direct-payment"))
    ledger.allocate_year(rolled, date(2011, 4, 1), "rolled-over", date(2011, 3, 20), world.prov())
    ledger.issue_cash_payment(rolled, 700_00, YEAR_TWO, YEAR_TWO.start, world.prov())
    ledger.close()
    path = tmp_path / "years.csv"

    result = runner.invoke(
        app, ["export", "csv", "budget-years", "--output", str(path), "--database-url", loaded_url]
    )

    assert result.exit_code == 0, result.output
    header = next(csv.reader(path.open()))
    assert set(header) <= set(GLOSSARY)
    rows = list(csv.DictReader(path.open()))
    by_budget: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_budget.setdefault(row["budget_id"], []).append(row)
    assert len(by_budget) == 2 and len(by_budget[rolled]) == 2  # the approval year, 2011-12
    with TestClient(create_app(Settings(database_url=loaded_url))) as client:
        token, _ = TokenStore(client.app.state.service.db).create("council", council=COUNCIL)  # type: ignore[attr-defined]
        for budget_id, exported in by_budget.items():
            answer = client.get(
                f"/v1/budgets/{budget_id}", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200, answer.text
            years = answer.json()["years"]
            assert [_shown(r, header) for r in exported] == [_shown(y, header) for y in years]
    assert by_budget[rolled][1]["year_drawn_pence"] == str(700_00), by_budget[rolled]


def _shown(figures: dict[str, Any], header: list[str]) -> dict[str, str]:
    """A year's figures as the CSV writes them (null: empty), less the budget's columns."""
    skip = {"budget_id", "council"}
    return {c: "" if figures[c] is None else str(figures[c]) for c in header if c not in skip}


# The CSV of a view the API serves has the API's names: the glossary's, and the response model's
# fields (less what only the API adds, plus what only the CSV carries).
API_TABLES = {
    "v_budget_balances": (  # the years: one row each in the budget-years export
        BudgetBalanceOut,
        {"as_at_position", "effective_on", "years"},
        {"open_invoices"},
    ),
    "v_exceptions": (ExceptionItem, set(), set()),
    "v_audit": (AuditRow, {"audit_note"}, set()),
}


@pytest.mark.parametrize("table", sorted(API_TABLES))
def test_a_view_the_api_serves_exports_as_csv_under_the_glossary_names(
    loaded_url: str, tmp_path: Path, table: str
) -> None:
    path = tmp_path / f"{table}.csv"
    model, api_only, csv_only = API_TABLES[table]

    result = runner.invoke(
        app, ["export", "csv", table, "--output", str(path), "--database-url", loaded_url]
    )

    assert result.exit_code == 0, result.output
    header = next(csv.reader(path.open()))
    assert set(header) <= set(GLOSSARY)
    assert set(header) == set(model.model_fields) - api_only | csv_only


def _beancount_totals(text: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and line.startswith("  ") and parts[-1] == "GBP":
            account = ":".join(parts[0].split(":")[:2])
            totals[account] = totals.get(account, Decimal(0)) + Decimal(parts[-2])
    return totals


# --- the balance sheet and income statement hledger draws from the export ----------------------


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small England with money in every kind of account: 3 councils, 8 weeks."""
    url = f"sqlite:///{tmp_path_factory.mktemp('statements') / 'careledger.db'}"
    args = ["demo", "--councils", "3", "--people", "12", "--weeks", "8", "--json"]
    loaded = runner.invoke(app, [*args, "--database-url", url])
    assert loaded.exit_code == 0, loaded.output
    return url


def hledger_sections(hledger: str, path: Path, report: str) -> dict[str, Decimal]:
    """The totals of an hledger report (``bse`` or ``is``) by section, and its Net."""
    done = subprocess.run(
        [hledger, "-f", str(path), report, "-O", "csv"], capture_output=True, text=True, check=True
    )
    totals: dict[str, Decimal] = {}
    section = ""
    for row in csv.reader(done.stdout.splitlines()):
        if len(row) == 2 and row[1] == "":
            section = row[0]
        elif row and row[0] in ("total", "Net:"):  # an empty section's total has no amount
            amount = row[1].replace("£", "") if len(row) > 1 and row[1] else "0"
            totals[section if row[0] == "total" else "Net"] = Decimal(amount)
    return totals


def tb_sum(trial_balance: dict[str, Decimal], *prefixes: str) -> Decimal:
    return sum((v for a, v in trial_balance.items() if a.startswith(prefixes)), Decimal(0))


def test_every_account_of_the_chart_exports_under_a_typed_root() -> None:
    from ledger.postings import CHART
    from projections.export import account_name, account_type

    types = {account: account_type(account_name(account, COUNCIL)) for account in CHART}

    assert types == {
        "Funding:CouncilFund": "E", "Funding:PooledFund": "E", "Funding:ClientContribution": "E",
        "Budgets:Available": "E", "Budgets:Drawn": "E", "Budgets:Recovered": "E",
        "Assets:Bank": "A", "Assets:DirectPaymentAccounts": "A", "Pool:Held": "A",
        "Liabilities:ProviderPayable": "L", "Pool:PartnerContributions": "L",
        "Pool:Disentangled": "L", "Income:ClientContributions": "R",
        "Expenses:CommissionedCare": "X", "Expenses:DirectPaymentSpend": "X",
        "Assets:ContributionsReceivable": "A",
    }  # fmt: skip


def test_hledger_bs_and_is_per_council_agree_with_the_trial_balance(
    demo_url: str, tmp_path: Path
) -> None:
    from projections.service import LedgerService

    hledger = hledger_or_skip()
    service = LedgerService(demo_url, inline=False)
    try:
        councils = [r["code"] for r in service.db.query("SELECT code FROM v_councils")]
        trial = service.db.query(
            "SELECT council, account, SUM(amount_pence) AS pence FROM v_postings"
            " GROUP BY council, account"
        )
    finally:
        service.close()
    assert len(councils) == 3
    for council in councils:
        tb = {r["account"]: Decimal(r["pence"]) / 100 for r in trial if r["council"] == council}
        assert {"Pool:Held", "Liabilities:ProviderPayable", "Expenses:CommissionedCare"} <= set(tb)
        path = tmp_path / f"{council}.journal"
        result = runner.invoke(
            app,
            ["export", "journal", "--council", council, "--output", str(path),
             "--database-url", demo_url],
        )  # fmt: skip
        assert result.exit_code == 0, result.output

        bse, income = hledger_sections(hledger, path, "bse"), hledger_sections(hledger, path, "is")
        assets = tb_sum(tb, "Assets:", "Pool:Held")
        liabilities = -tb_sum(tb, "Liabilities:", "Pool:PartnerContributions", "Pool:Disentangled")
        revenues, expenses = -tb_sum(tb, "Income:"), tb_sum(tb, "Expenses:")
        assert (bse["Assets"], bse["Liabilities"]) == (assets, liabilities), council
        assert bse["Equity"] == -tb_sum(tb, "Funding:", "Budgets:") == 0  # the memorandum book
        assert (income["Revenues"], income["Expenses"]) == (revenues, expenses), council
        assert income["Net"] == revenues - expenses
        # assets - liabilities = equity + net income (the memorandum equity is nil)
        assert bse["Net"] == assets - liabilities == bse["Equity"] + income["Net"]


def test_one_councils_journal_by_any_spelling_and_never_an_empty_one_for_a_typo(
    loaded_url: str,
) -> None:
    def journal(council: str) -> Result:
        args = ["export", "journal", "--council", council, "--database-url", loaded_url]
        return runner.invoke(app, args)

    exact, spelt = journal(COUNCIL), journal(f" {COUNCIL.lower()}")
    typo = journal("E99999999")

    assert exact.exit_code == spelt.exit_code == 0, spelt.output
    assert spelt.stdout == exact.stdout and f"Assets:Bank:{COUNCIL}" in exact.stdout
    assert typo.exit_code == 1
    assert typo.stderr.strip() == "error: no council E99999999 is registered in this store"
    assert typo.stdout == ""
