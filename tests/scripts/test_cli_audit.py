"""``careledger keys`` and ``careledger export bundle``: a regulator's whole routine, run
in-process against a real store, checked with the offline verifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.application import CareLedger
from ledger.provenance import Provenance
from scripts import tlog_verify
from scripts.cli import app
from tests.integration.test_backends import run_scenario
from tests.support import World

runner = CliRunner()


@pytest.fixture
def loaded_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'careledger.db'}"
    ledger = CareLedger(url)
    run_scenario(World(ledger).setup(pool_pence=50_000_00))
    ledger.close()
    return url


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def add_a_council(url: str, code: str) -> None:
    ledger = CareLedger(url)
    ledger.register_council(code, "Hartlepool", World(ledger).events()[0].effective_on,
                            Provenance("admin-2", "admin", f"register-{code}"))  # fmt: skip
    ledger.close()


def test_a_regulator_keeps_a_checkpoint_and_later_checks_a_bundle_offline(
    loaded_url: str, tmp_path: Path
) -> None:
    key = cli("keys", "show", "--database-url", loaded_url).strip()
    (tmp_path / "kept.json").write_text(cli("checkpoint", "--database-url", loaded_url))
    add_a_council(loaded_url, "E06000001")
    bundle = tmp_path / "bundle"

    cli("export", "bundle", "--entries", "0,5,40", "--since", str(tmp_path / "kept.json"),
        "--output", str(bundle), "--database-url", loaded_url)  # fmt: skip
    checked = tlog_verify.main(
        ["--key", key, "bundle", str(bundle), "--kept", str(tmp_path / "kept.json")]
    )

    assert checked == 0
    assert (bundle / "verifier-key").read_text().split("\n")[0] == key
    assert sorted(p.name for p in bundle.glob("entry-*")) == [
        "entry-0.json", "entry-40.json", "entry-5.json"
    ]  # fmt: skip
    assert (
        json.loads((bundle / "consistency.json").read_text())["from"]
        < json.loads((bundle / "consistency.json").read_text())["to"]
    )


def test_after_rotation_old_checkpoints_still_verify_with_the_retired_key(
    loaded_url: str, tmp_path: Path
) -> None:
    old_key = cli("keys", "show", "--database-url", loaded_url).strip()
    (tmp_path / "old.json").write_text(cli("checkpoint", "--database-url", loaded_url))
    new_key = cli("keys", "rotate", "--database-url", loaded_url).strip()
    (tmp_path / "new.json").write_text(cli("checkpoint", "--database-url", loaded_url))
    listed = cli("keys", "show", "--all", "--database-url", loaded_url).split("\n")

    def verifies(path: Path, *keys: str) -> int:
        return tlog_verify.main([*(f"--key={k}" for k in keys), "checkpoint", str(path)])

    assert new_key != old_key and listed[0] == new_key
    assert listed[1].startswith(f"{old_key} retired ")
    assert verifies(tmp_path / "old.json", old_key) == 0
    assert verifies(tmp_path / "new.json", new_key) == 0
    assert verifies(tmp_path / "old.json", new_key) == 1
    assert verifies(tmp_path / "new.json", old_key) == 1


def test_verify_checks_a_kept_signed_checkpoint_against_the_tree(
    loaded_url: str, tmp_path: Path
) -> None:
    kept = json.loads(cli("checkpoint", "--database-url", loaded_url))
    (tmp_path / "kept.json").write_text(json.dumps(kept))
    (tmp_path / "forged.json").write_text(json.dumps({**kept, "root_hash": "A" * 43 + "="}))

    honest = runner.invoke(app, ["verify", "--json", "--checkpoint", str(tmp_path / "kept.json"),
                                 "--database-url", loaded_url])  # fmt: skip
    forged = runner.invoke(app, ["verify", "--json", "--checkpoint", str(tmp_path / "forged.json"),
                                 "--database-url", loaded_url])  # fmt: skip

    assert honest.exit_code == 0, honest.output
    assert {c["name"] for c in json.loads(honest.stdout)["checks"]} >= {
        "merkle-tree", "merkle-checkpoint", "checkpoint"
    }  # fmt: skip
    assert forged.exit_code == 1


def test_a_bundle_for_a_leaf_the_log_lacks_is_refused_in_one_line(
    loaded_url: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["export", "bundle", "--entries", "100000", "--output",
                                 str(tmp_path / "b"), "--database-url", loaded_url])  # fmt: skip

    assert result.exit_code == 1
    assert "the log has no leaf 100000" in result.output


@pytest.mark.parametrize(
    "command",
    [["keys", "show"], ["keys", "rotate"], ["export", "bundle", "--output", "bundle"]],
    ids=["keys-show", "keys-rotate", "export-bundle"],
)
def test_keys_and_bundles_refuse_a_store_that_is_not_there_and_create_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """A typo'd store path is refused by name, as by every command but serve and demo: no
    empty store is created, no signing key made beside it, no bundle of an empty log written."""
    monkeypatch.chdir(tmp_path)
    typo = tmp_path / "careledgr.db"

    result = runner.invoke(app, [*command, "--database-url", f"sqlite:///{typo}"])

    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"error: no CareLedger store at {typo}: run `careledger demo` or `careledger serve`"
        " to create one"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_keys_show_names_an_unreachable_database_in_one_line() -> None:
    result = runner.invoke(app, ["keys", "show", "--database-url", "postgresql://u@127.0.0.1:1/x"])

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: connection refused at 127.0.0.1:1: is PostgreSQL running there?"
    ]
