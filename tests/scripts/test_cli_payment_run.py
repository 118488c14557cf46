"""``careledger payment-run``: the API's payment run from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ledger.application import CareLedger
from ledger.values import Deployment
from scripts.cli import app
from tests.support import COUNCIL, START, World, allocation

runner = CliRunner()


def store_with_a_direct_payment(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    ledger = CareLedger(url)
    world = World(ledger).setup()
    budget_id = world.active_budget(allocation(), Deployment("direct-payment"))
    ledger.close()
    return url, budget_id


def test_a_run_pays_what_is_due_once_and_says_so(tmp_path: Path) -> None:
    url, budget_id = store_with_a_direct_payment(tmp_path)
    args = ["payment-run", COUNCIL, "--run-date", "2010-05-03", "--database-url", url]

    first = runner.invoke(app, [*args, "--json"])
    again = runner.invoke(app, args)

    assert first.exit_code == 0, first.output
    body = json.loads(first.stdout)
    (line,) = body["results"]
    assert (line["budget_id"], line["periods_paid"], body["replayed"]) == (budget_id, 2, False)
    assert again.exit_code == 0
    assert again.stdout.strip().endswith("skipped (a repeat: nothing paid again)")
    assert START.isoformat() < line["paid_through"]


def test_an_unknown_council_or_a_bad_date_is_one_line(tmp_path: Path) -> None:
    url, _ = store_with_a_direct_payment(tmp_path)
    unknown = runner.invoke(
        app, ["payment-run", "E99", "--run-date", "2010-05-03", "--database-url", url]
    )
    bad = runner.invoke(
        app, ["payment-run", COUNCIL, "--run-date", "2010-02-30", "--database-url", url]
    )

    assert unknown.exit_code == 1
    assert unknown.output.strip() == "error: no council E99 is registered in this store"
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output
