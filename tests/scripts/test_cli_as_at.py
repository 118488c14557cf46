"""``--as-at`` on the command line: the API's resolver, one clear line outside the ledger's
life, and a CSV view as it stood then."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from scripts.cli import app
from tests.scripts.test_cli import loaded_url  # noqa: F401 - the fixture

runner = CliRunner()


def _instant(url: str, position: int) -> str:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT known_by FROM v_audit WHERE position = ?", (position,)).fetchone()
    return str(row[0])


def test_a_future_instant_is_one_clear_line(loaded_url: str) -> None:  # noqa: F811
    runner.invoke(app, ["project", "--database-url", loaded_url])
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()

    result = runner.invoke(
        app, ["export", "journal", "--as-at", future, "--database-url", loaded_url]
    )

    assert result.exit_code == 2
    assert "in the future" in result.output
    assert "Traceback" not in result.output


def test_a_view_as_csv_as_at_an_instant_holds_what_was_known_then(
    loaded_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    runner.invoke(app, ["project", "--database-url", loaded_url])
    then = _instant(loaded_url, 10)
    out_then, out_now = tmp_path / "then.csv", tmp_path / "now.csv"

    early = runner.invoke(
        app,
        ["export", "csv", "v_budget_balances", "--as-at", then, "--output", str(out_then),
         "--database-url", loaded_url],
    )  # fmt: skip
    now = runner.invoke(
        app,
        ["export", "csv", "v_budget_balances", "--output", str(out_now),
         "--database-url", loaded_url],
    )  # fmt: skip

    assert early.exit_code == now.exit_code == 0, early.output
    assert out_then.read_text().splitlines()[0] == out_now.read_text().splitlines()[0]
    assert out_then.read_text() != out_now.read_text()
