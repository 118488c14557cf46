"""The demo writes personal data as the commands do: people's references, representatives' ids
and every reason sealed under the person's key, so a demo person can be erased like any other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.personal import ERASED, context, is_sealed
from projections.service import LedgerService
from scripts.cli import app
from scripts.demo import load_demo

SEED = 2011
runner = CliRunner()
BALANCES = (
    "SELECT council, account, CAST(SUM(amount_pence) AS BIGINT) AS total"
    " FROM v_postings GROUP BY council, account ORDER BY council, account"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A small demo store, loaded with the test's own pseudonym secret (as the CLI reads it)."""
    path = tmp_path / "careledger.db"
    url = f"sqlite:///{path}"
    service = LedgerService(url, inline=False)
    try:
        load_demo(service.app, SEED, councils=12, people=40, weeks=52, runner=service.runner)
    finally:
        service.close()
    yield url, path


def _states(url: str) -> list[tuple[str, dict[str, Any]]]:
    service = LedgerService(url)
    try:
        return [
            (n.topic, json.loads(n.state))
            for n in service.app.recorder.select_notifications(1, 10_000_000)
        ]
    finally:
        service.close()


def _represented_person(url: str) -> tuple[str, str]:
    """(person reference, budget id) of a demo person whose representative recorded a
    decision, opened with the application's key store."""
    service = LedgerService(url)
    try:
        for n in service.app.recorder.select_notifications(1, 10_000_000):
            if n.topic == "careledger.budget:DecisionRecorded":
                budget = service.app.budget(n.originator_id)
                where = context(str(budget.id), "person_ref")
                person = service.app.personal.reveal(budget.person_ref, where)
                return person, str(budget.id)
        raise AssertionError("the demo recorded no representative's decision")
    finally:
        service.close()


def _balances(url: str) -> list[dict[str, Any]]:
    service = LedgerService(url)
    try:
        service.runner.catch_up()
        return service.db.query(BALANCES)
    finally:
        service.close()


def test_the_demo_stores_people_representatives_and_reasons_sealed(
    store: tuple[str, Path],
) -> None:
    url, path = store
    states = _states(url)
    opened = [s for t, s in states if t == "careledger.budget:Opened"]
    decisions = [s for t, s in states if t == "careledger.budget:DecisionRecorded"]
    provs = [s["prov"]["_data_"] for _, s in states if "prov" in s]
    reasons = [p["reason"] for p in provs if p["reason"] is not None]
    person, budget_id = _represented_person(url)
    stored = path.read_bytes()

    assert len(provs) == len(states)
    assert opened and all(is_sealed(s["person_ref"]) for s in opened)
    assert decisions and all(is_sealed(s["representative_id"]) for s in decisions)
    assert len(reasons) > 10 and all(is_sealed(r) for r in reasons), reasons[:3]
    assert person.startswith("PB-") and budget_id
    assert person.encode() not in stored
    assert b"rep-" not in stored  # the demo's representatives are rep-<council>-<person>
    assert b"hospital-admission" not in stored and b"dp-regs-2009" not in stored


def test_a_demo_person_is_erased_and_the_ledger_verifies_with_the_same_balances(
    store: tuple[str, Path],
) -> None:
    url, _ = store
    person, budget_id = _represented_person(url)
    before = _balances(url)

    code = runner.invoke(app, ["erase", person, "--reason", "art17-request", "--json",
                               "--database-url", url])  # fmt: skip
    verified = runner.invoke(app, ["verify", "--json", "--database-url", url])
    after = _balances(url)

    assert code.exit_code == 0, code.stdout + code.stderr
    assert json.loads(code.stdout)["plain_events"] == 0
    assert verified.exit_code == 0, verified.stdout
    assert after == before and len(before) > 12
    service = LedgerService(url)
    try:
        stored = service.app.budget(budget_id).person_ref
        assert service.app.personal.reveal(stored, context(budget_id, "person_ref")) == ERASED
    finally:
        service.close()
