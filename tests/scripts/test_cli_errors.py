"""Failures a person can act on: one line on stderr naming the cause, a non-zero exit, no
traceback (issue 11). Only ``serve`` and ``demo`` create a store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from typer.testing import CliRunner, Result

from ledger.application import CareLedger
from projections.store_check import connection_failure
from scripts.cli import app
from tests.integration.test_backends import run_scenario
from tests.reliability.servers import ROOT, free_port
from tests.support import World

runner = CliRunner()
HINT = "run `careledger demo` or `careledger serve` to create one"
STORE_COMMANDS = {
    "project": ["project"],
    "rebuild": ["rebuild"],
    "verify": ["verify"],
    "checkpoint": ["checkpoint"],
    "balance": ["balance", "00000000-0000-0000-0000-000000000000"],
    "export journal": ["export", "journal"],
    "export csv": ["export", "csv", "v_budget_balances"],
    "tokens create": ["tokens", "create", "--role", "auditor"],
    "tokens list": ["tokens", "list"],
    "tokens revoke": ["tokens", "revoke", "tok_000000000000"],
    "keys show": ["keys", "show"],
    "keys rotate": ["keys", "rotate"],
    "export bundle": ["export", "bundle", "--output", "bundle-out"],
}


def one_line(result: Result, code: int = 2) -> str:
    """The single line the command printed on stderr (after checking the exit code)."""
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


@pytest.fixture
def loaded_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'careledger.db'}"
    ledger = CareLedger(url)
    run_scenario(World(ledger).setup(pool_pence=50_000_00))
    ledger.close()
    return url


@pytest.mark.parametrize("command", list(STORE_COMMANDS))
def test_a_command_refuses_a_missing_store_by_name_and_creates_nothing(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    typo = tmp_path / "carelegder.db"

    result = run(*STORE_COMMANDS[command], "--database-url", f"sqlite:///{typo}")

    assert one_line(result) == f"error: no CareLedger store at {typo}: {HINT}"
    assert not typo.exists()
    assert not Path("bundle-out").exists()  # nor a bundle folder, nor a key beside the typo
    assert not (tmp_path / "careledger-signing.key").exists()


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("shopping list\n" * 200)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE people (name TEXT)")

    garbage = run("verify", "--database-url", f"sqlite:///{notes}")
    foreign = run("verify", "--database-url", f"sqlite:///{other}")
    served = run("serve", "--database-url", f"sqlite:///{other}")

    assert one_line(garbage).startswith(f"error: {notes} is not a CareLedger store (")
    assert one_line(foreign) == (
        f"error: {other} is not a CareLedger store (an SQLite database without CareLedger's tables)"
    )
    assert one_line(served) == one_line(foreign)


def test_an_unknown_url_scheme_is_named() -> None:
    result = run("tokens", "list", "--database-url", "mysql://root@localhost/care")

    assert one_line(result) == (
        "error: unknown database URL scheme 'mysql': a database URL starts sqlite:///,"
        " postgresql:// or memory://"
    )


@pytest.mark.parametrize("command", list(STORE_COMMANDS))
def test_postgresql_refusing_connections_is_named_at_once(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    port = free_port()  # nothing listens there
    started = time.monotonic()

    result = run(
        *STORE_COMMANDS[command], "--database-url", f"postgresql://postgres@127.0.0.1:{port}/care"
    )

    assert one_line(result) == (
        f"error: connection refused at 127.0.0.1:{port}: is PostgreSQL running there?"
    )
    assert time.monotonic() - started < 5
    assert not Path("bundle-out").exists()


@pytest.mark.postgres
def test_a_missing_postgresql_database_or_store_is_named(postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    missing_db = urlunsplit(parts._replace(path="/no_such_careledger_db"))

    no_db = run("project", "--database-url", missing_db)
    no_tables = run("checkpoint", "--database-url", postgres_url)  # a fresh, empty schema

    where = f"{parts.hostname}:{parts.port or 5432}"
    assert one_line(no_db) == (
        f'error: database "no_such_careledger_db" does not exist (PostgreSQL at {where})'
    )
    schema = postgres_url.rsplit("schema=", 1)[1]
    assert one_line(no_tables) == (
        f'error: no CareLedger store in database "{parts.path.lstrip("/")}" schema "{schema}"'
        f" at {where}: {HINT}"
    )


def test_a_refused_login_is_named_with_its_user() -> None:
    refused = psycopg.OperationalError(
        'connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  '
        'password authentication failed for user "care"'
    )

    assert connection_failure(refused, "10.0.0.5:5432", 3) == (
        'authentication failed for user "care" (PostgreSQL at 10.0.0.5:5432)'
    )


def test_serve_refuses_to_start_with_the_same_one_line() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/care"
    started = time.monotonic()

    done = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "serve", "--workers", "2", "--database-url", url],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines() == [
        one_line(run("tokens", "list", "--database-url", url))
    ]
    assert time.monotonic() - started < 15


def test_verify_on_an_empty_log_says_so_and_fails(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    CareLedger(url).close()

    result = run("verify", "--json", "--database-url", url)

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["checks"][0] == {
        "name": "events",
        "ok": False,
        "detail": "the event log is empty",
        "first_bad_position": None,
    }


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read the checkpoint file {path}: No such file or directory"),
        ("{size: 47", "the checkpoint file {path} is not JSON: "),
        ('{"size": "47", "head_hash": "ab", "taken_at": "x"}', "is not a checkpoint: expected"),
        ("[1, 2]", "is not a checkpoint: expected"),
    ],
    ids=["missing", "not-json", "wrong-type", "wrong-shape"],
)
def test_a_bad_checkpoint_file_is_named(
    loaded_url: str, tmp_path: Path, content: str | None, says: str
) -> None:
    path = tmp_path / "checkpoint.json"
    if content is not None:
        path.write_text(content)

    result = run("verify", "--checkpoint", str(path), "--database-url", loaded_url)

    assert says.format(path=path) in one_line(result)


def test_rebuild_of_an_unknown_view_lists_the_views(loaded_url: str) -> None:
    line = one_line(run("rebuild", "balance", "--database-url", loaded_url))

    assert line.startswith(
        "error: no such view: balance (views: refs, journal, audit, merkle, balances,"
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--scale-only"], "error: --scale-only needs at least one --scale size"),
        (["--scale", "1000", "--scale-store", "postgres"], "error: --scale-store postgres needs"),
    ],
)
def test_a_scale_bench_that_would_measure_nothing_says_why(
    args: list[str], says: str, tmp_path: Path
) -> None:
    result = run("bench", *args, "--output", str(tmp_path / "out"))

    assert one_line(result).startswith(says)
    assert not (tmp_path / "out").exists()  # no empty results written


def test_balance_of_an_unknown_or_malformed_budget_is_one_line(loaded_url: str) -> None:
    unknown = run("balance", "00000000-0000-0000-0000-000000000000", "--database-url", loaded_url)
    malformed = run("balance", "budget-1", "--database-url", loaded_url)

    assert one_line(unknown, code=1) == "error: no such budget"
    assert one_line(malformed, code=1) == "error: budget_id is not a valid id"


def test_a_bad_date_is_named_without_a_traceback(loaded_url: str) -> None:
    result = run("balance", "x", "--as-at", "31/03/2011", "--database-url", loaded_url)

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Invalid value for '--as-at'" in result.stderr


def test_serve_with_workers_on_sqlite_is_refused_in_one_line(tmp_path: Path) -> None:
    store = tmp_path / "careledger.db"

    result = run("serve", "--workers", "2", "--database-url", f"sqlite:///{store}")

    assert one_line(result) == (
        "error: several workers need PostgreSQL; SQLite serves from one process"
    )
    assert not store.exists()


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("sqlite:///standby.db", "sqlite:///standby.db is not a PostgreSQL URL"),
        (
            "postgresql://reader:s3cret@127.0.0.1/care?bogus=1",
            "unknown database URL option 'bogus'",
        ),
    ],
)
def test_serve_names_a_bad_standby_url_in_one_line_without_its_password(
    loaded_url: str, given: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARELEDGER_READ_DATABASE_URL", given)

    line = one_line(run("serve", "--database-url", loaded_url, "--port", str(free_port())))

    assert line.startswith("error: CARELEDGER_READ_DATABASE_URL: ")
    assert said in line
    assert "s3cret" not in line
