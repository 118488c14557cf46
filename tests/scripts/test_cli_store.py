"""Every command uses the store ``--database-url`` names, the same way (issue 11).

The environment names another store, which does not exist: a command that read it instead of the
flag would fail, and would leave that file behind.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from api.auth import TokenStore
from ledger.application import CareLedger
from projections.service import LedgerService
from scripts.cli import app
from scripts.cli_common import database_url
from tests.integration.test_backends import run_scenario
from tests.reliability.servers import cli, free_port, kill9, wait_healthy
from tests.support import World

runner = CliRunner()


@dataclass
class Stores:
    given: str  # the store the flag names: the standard scenario, 47 events
    path: Path
    elsewhere: Path  # what the environment names: must never be touched
    budget_id: str
    token_id: str


@pytest.fixture
def stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stores:
    monkeypatch.chdir(tmp_path)  # no ./careledger.db, no .env
    path = tmp_path / "given.db"
    url = f"sqlite:///{path}"
    ledger = CareLedger(url)
    run_scenario(World(ledger).setup(pool_pence=50_000_00))
    budget_id = str(next(n.originator_id for n in ledger.recorder.select_notifications(1, 100)
                         if n.topic.endswith(":Opened")))  # fmt: skip
    ledger.close()
    service = LedgerService(url, inline=False)
    _, who = TokenStore(service.db).create("auditor", "for list and revoke")
    service.close()
    elsewhere = tmp_path / "elsewhere.db"
    monkeypatch.setenv("CARELEDGER_DATABASE_URL", f"sqlite:///{elsewhere}")
    return Stores(url, path, elsewhere, budget_id, who.token_id)


def tokens_in(path: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT role, revoked_at FROM careledger_tokens").fetchall()


def events_in(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


Check = Callable[[Result, Stores], None]
COMMANDS: dict[str, tuple[Callable[[Stores], list[str]], Check]] = {
    "project": (
        lambda s: ["project"],
        lambda r, s: _contains(r.output, "views at position 47"),
    ),
    "rebuild": (
        lambda s: ["rebuild", "audit"],
        lambda r, s: _contains(r.output, "rebuilt audit to position 47"),
    ),
    "verify": (
        lambda s: ["verify", "--json"],
        lambda r, s: _equal(json.loads(r.stdout)["ok"], True),
    ),
    "checkpoint": (
        lambda s: ["checkpoint"],
        lambda r, s: _equal(json.loads(r.stdout)["size"], 47),
    ),
    "balance": (
        lambda s: ["balance", s.budget_id, "--json"],
        lambda r, s: _equal(isinstance(json.loads(r.stdout), dict), True),
    ),
    "export journal": (
        lambda s: ["export", "journal", "--format", "hledger"],
        lambda r, s: _contains(r.stdout, "Assets:Bank:E09000033"),
    ),
    "export csv": (
        lambda s: ["export", "csv", "v_budget_balances"],
        lambda r, s: _contains(r.stdout, s.budget_id),
    ),
    "tokens create": (
        lambda s: ["tokens", "create", "--role", "regulator"],
        lambda r, s: _equal(
            sorted(role for role, _ in tokens_in(s.path)), ["auditor", "regulator"]
        ),
    ),
    "tokens list": (
        lambda s: ["tokens", "list"],
        lambda r, s: _contains(r.stdout, s.token_id),
    ),
    "tokens revoke": (
        lambda s: ["tokens", "revoke", s.token_id],
        lambda r, s: _equal(tokens_in(s.path)[0][1] is not None, True),
    ),
}


def _contains(text: str, part: str) -> None:
    assert part in text, text


def _equal(got: object, want: object) -> None:
    assert got == want


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_command_uses_the_store_the_flag_names(command: str, stores: Stores) -> None:
    args, check = COMMANDS[command]

    result = runner.invoke(app, [*args(stores), "--database-url", stores.given])

    assert result.exit_code == 0, result.output
    check(result, stores)
    assert not stores.elsewhere.exists()


def test_demo_loads_into_the_store_the_flag_names(stores: Stores, tmp_path: Path) -> None:
    target = tmp_path / "demo.db"
    args = ["demo", "--councils", "1", "--people", "1", "--weeks", "1", "--json"]

    result = runner.invoke(app, [*args, "--database-url", f"sqlite:///{target}"])

    assert result.exit_code == 0, result.output
    assert events_in(target) == json.loads(result.stdout)["events"] > 0
    assert not stores.elsewhere.exists()


def test_serve_serves_the_store_the_flag_names(stores: Stores, tmp_path: Path) -> None:
    made = runner.invoke(
        app, ["tokens", "create", "--role", "auditor", "--json", "--database-url", stores.given]
    )
    token = json.loads(made.stdout)["token"]
    port = free_port()
    args = ["serve", "--port", str(port), "--database-url", stores.given]
    process = cli(args, f"sqlite:///{stores.elsewhere}", log=tmp_path / "serve.log")
    try:
        wait_healthy(port, process)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        audit = httpx.get(
            f"http://127.0.0.1:{port}/v1/audit",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
    finally:
        kill9(process)

    assert health == {"status": "ok", "events": 47, "standbys": None}
    assert audit.status_code == 200
    assert not stores.elsewhere.exists()


def test_the_flag_beats_the_environment_which_beats_dotenv_which_beats_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CARELEDGER_DATABASE_URL", raising=False)
    default = database_url(None)
    (tmp_path / ".env").write_text("CARELEDGER_DATABASE_URL=sqlite:///from-dotenv.db\n")
    dotenv = database_url(None)
    monkeypatch.setenv("CARELEDGER_DATABASE_URL", "sqlite:///from-env.db")

    assert (default, dotenv) == ("sqlite:///careledger.db", "sqlite:///from-dotenv.db")
    assert database_url(None) == "sqlite:///from-env.db"
    assert database_url("sqlite:///from-flag.db") == "sqlite:///from-flag.db"
