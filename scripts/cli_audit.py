"""``careledger keys show|rotate`` and ``careledger export bundle``: the signing key's public
half, and what a regulator needs to check the log offline with ``scripts/tlog_verify.py``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.errors import LedgerError
from projections import tlog
from projections.signing import SigningKeyError
from scripts import tlog_verify
from scripts.cli_common import DatabaseUrl, Typer, open_service

keys = Typer(help="The checkpoint signing key: show its verifier key, rotate it.")


@contextmanager
def _refusals() -> Iterator[None]:
    """A refusal (no such leaf, a size the log does not hold, a bad key file) as one line."""
    try:
        yield
    except (LedgerError, SigningKeyError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@keys.command("show")
def keys_show(
    show_all: Annotated[
        bool, typer.Option("--all", help="Also the retired keys, with when each was retired.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Print the verifier key (signed-note format) that checks the signed checkpoints; the key
    is made on first use. Never prints the private key."""
    with open_service(database_url) as service, _refusals():
        key_file = tlog.key_file(service)
        typer.echo(key_file.signer().verifier_key)
        if show_all:
            for line in key_file.retired():
                typer.echo(line)


@keys.command("rotate")
def keys_rotate(database_url: DatabaseUrl = None) -> None:
    """Make a new signing key under the same name; the old verifier key is kept in the retired
    list (`keys show --all`), so checkpoints it signed stay checkable."""
    with open_service(database_url) as service, _refusals():
        key_file = tlog.key_file(service)
        old = key_file.signer().verifier_key
        typer.echo(key_file.rotate().verifier_key)
    typer.echo(f"retired {old}", err=True)


def export_bundle(
    output: Annotated[Path, typer.Option(help="The folder to write (created; must be empty).")],
    entries: Annotated[
        str | None, typer.Option(help="Leaf indices to prove, e.g. '3,17' (default: none).")
    ] = None,
    since: Annotated[
        Path | None, typer.Option(help="A checkpoint you kept: prove the log extends it.")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Write a signed checkpoint, the verifier keys, chosen entries with their inclusion proofs
    and the consistency proof from a kept checkpoint, for `python -m tlog_verify bundle`."""
    indices = _indices(entries)
    kept = _kept_size(since) if since is not None else None
    # the store is checked (and the tree caught up) before the folder is made
    with open_service(database_url, inline=True) as service, _refusals():
        output.mkdir(parents=True, exist_ok=True)
        if any(output.iterdir()):
            raise typer.BadParameter(f"{output} is not empty", param_hint="--output")
        point = tlog.signed_checkpoint(service)
        size = point["tree_size"]
        key = tlog.public_key(service)
        files: dict[str, Any] = {"checkpoint": point["signed_note"]}
        files["verifier-key"] = "".join(f"{k}\n" for k in [key["verifier_key"], *key["retired"]])
        for i in indices:
            files[f"entry-{i}.json"] = tlog.entry(service, i)
            files[f"proof-{i}.json"] = tlog.inclusion(service, i, size)
        if kept is not None and since is not None:
            files["kept-checkpoint"] = since.read_text(encoding="utf-8")
            files["consistency.json"] = tlog.consistency(service, kept, size)
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content, indent=2) + "\n"
        (output / name).write_text(text, encoding="utf-8")
    shutil.copy(tlog_verify.__file__, output / "tlog_verify.py")
    typer.echo(f"wrote a bundle at tree size {size} with {len(indices)} entries to {output}")


def _indices(entries: str | None) -> list[int]:
    if not entries:
        return []
    try:
        values = [int(part) for part in entries.split(",")]
    except ValueError:
        raise typer.BadParameter(
            "leaf indices separated by commas", param_hint="--entries"
        ) from None
    if any(v < 0 for v in values):
        raise typer.BadParameter("leaf indices are ≥ 0", param_hint="--entries")
    return sorted(set(values))


def _kept_size(path: Path) -> int:
    """The tree size of a kept checkpoint (its signature is the regulator's to check)."""
    try:
        lines = tlog_verify.read_note(str(path)).split("\n")
        return int(lines[1])
    except (OSError, ValueError, IndexError, tlog_verify.CheckFailedError) as error:
        raise typer.BadParameter(f"not a checkpoint: {error}", param_hint="--since") from None
