"""Backends for the suite: memory, SQLite and PostgreSQL (required in CI).

PostgreSQL runs whenever CARELEDGER_TEST_POSTGRES_URL is set; with CARELEDGER_REQUIRE_POSTGRES=1
its absence is an error, never a skip. Each PostgreSQL test gets its own schema, dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.application import CareLedger
from tests.support import World

POSTGRES_URL = os.environ.get("CARELEDGER_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("CARELEDGER_REQUIRE_POSTGRES") == "1"


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_POSTGRES and not POSTGRES_URL:
        raise pytest.UsageError(
            "CARELEDGER_REQUIRE_POSTGRES=1 but CARELEDGER_TEST_POSTGRES_URL is not set"
        )


@pytest.fixture(autouse=True)
def signing_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's ledger signs with its own key, in its own folder (never the user's own)."""
    path = tmp_path / "keys" / "signing.key"
    monkeypatch.setenv("CARELEDGER_SIGNING_KEY_FILE", str(path))
    monkeypatch.setenv("CARELEDGER_PSEUDONYM_KEY_FILE", str(tmp_path / "keys" / "pseudonym.key"))
    return path


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test database, as a CareLedger database URL."""
    if not POSTGRES_URL:
        pytest.skip("set CARELEDGER_TEST_POSTGRES_URL to run PostgreSQL tests")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as error:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f"PostgreSQL unreachable: {error}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}schema={schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'careledger.db'}"


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def app(database_url: str) -> Iterator[CareLedger]:
    """The application on each backend: every domain test runs on memory, SQLite and PostgreSQL."""
    ledger = CareLedger(database_url)
    yield ledger
    ledger.close()


@pytest.fixture
def world(app: CareLedger) -> World:
    return World(app).setup(pool_pence=50_000_00)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many PostgreSQL tests ran, so CI output shows they were not skipped."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if "postgres" in getattr(report, "keywords", {}) and report.when in ("call", "setup"):
                if outcome == "passed" and report.when != "call":
                    continue
                counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none ran"
    terminalreporter.write_line(f"PostgreSQL tests: {summary}")
