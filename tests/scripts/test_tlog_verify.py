"""The offline verifier is the security-critical part (immudb's GHSA-672p-m5jq-mrh8): it accepts
the honest checkpoint and proofs, and refuses every single-bit change in a proof, a checkpoint,
its signature or a leaf, proofs for another size or index, a checkpoint signed by another key
and a rolled-back log. It runs alone, with nothing but the standard library and cryptography."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import cryptography
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from projections.merkle import leaf_hash
from projections.signing import Signer
from scripts import tlog_verify as tv
from scripts.tlog_verify import CheckFailedError
from tests.integration.test_merkle_tree import mth, path, proof

LOG = [f"event {i}".encode() * (i % 5 + 1) for i in range(45)]
SIGNER = Signer("ledger.example/log", Ed25519PrivateKey.generate())
KEYS = [SIGNER.verifier_key]


def note(size: int, data: list[bytes] = LOG, signer: Signer = SIGNER) -> str:
    return signer.checkpoint(size, mth(data[:size]))


def bits(data: bytes) -> Iterator[bytes]:
    """``data`` with each single bit flipped in turn."""
    for i in range(len(data) * 8):
        flipped = bytearray(data)
        flipped[i // 8] ^= 1 << (i % 8)
        yield bytes(flipped)


def refused(check: Callable[[], object]) -> bool:
    try:
        check()
    except CheckFailedError:
        return True
    return False


def test_the_honest_checkpoint_and_proofs_are_accepted() -> None:
    origin, size, root = tv.parse_checkpoint(note(45), KEYS)
    tv.verify_inclusion(7, 45, leaf_hash(LOG[7]), path(7, LOG), root)
    tv.verify_consistency(13, 45, proof(13, LOG), mth(LOG[:13]), root)
    assert (origin, size, root) == ("ledger.example/log", 45, mth(LOG))


def test_every_single_bit_change_in_a_signed_checkpoint_is_refused() -> None:
    honest = note(45).encode()
    for forged in bits(honest):
        try:
            text = forged.decode()
        except UnicodeDecodeError:
            continue  # not even text: no reader gets as far as a checkpoint
        assert refused(lambda t=text: tv.parse_checkpoint(t, KEYS)), text  # type: ignore[misc]


def test_every_single_bit_change_in_an_inclusion_proof_or_leaf_is_refused() -> None:
    root, hashes, index = mth(LOG), path(29, LOG), 29
    for n, h in enumerate(hashes):
        for forged in bits(h):
            changed = [*hashes[:n], forged, *hashes[n + 1 :]]
            assert refused(
                lambda c=changed: tv.verify_inclusion(index, 45, leaf_hash(LOG[index]), c, root)
            )  # type: ignore[misc]
    for forged in bits(LOG[index]):
        assert refused(lambda f=forged: tv.verify_inclusion(index, 45, leaf_hash(f), hashes, root))  # type: ignore[misc]
    for forged in bits(root):
        assert refused(
            lambda f=forged: tv.verify_inclusion(index, 45, leaf_hash(LOG[index]), hashes, f)
        )  # type: ignore[misc]


def test_a_proof_for_another_index_or_size_is_refused(tmp_path: Path) -> None:
    """The size comes from the signed checkpoint: a proof for any other size or leaf index, or
    the real proof of the same leaf in a smaller tree, is refused."""
    log = write_bundle(tmp_path / "b", 45, [29])
    root, leaf, hashes = mth(log), leaf_hash(log[29]), path(29, log)
    files = [
        str(tmp_path / "b" / name) for name in ("checkpoint", "entry-29.json", "proof-29.json")
    ]
    honest = json.loads(Path(files[2]).read_text())

    def checked(**changes: object) -> int:
        Path(files[2]).write_text(json.dumps({**honest, **changes}))
        argv = ["--key", KEYS[0], "inclusion", "--checkpoint", files[0], "--entry", files[1]]
        return tv.main([*argv, "--proof", files[2]])

    assert checked() == 0
    for i in range(63):
        assert checked(tree_size=45 ^ (1 << i)) == 1
        assert checked(leaf_index=29 ^ (1 << i)) == 1
        assert refused(lambda w=29 ^ (1 << i): tv.verify_inclusion(w, 45, leaf, hashes, root))  # type: ignore[misc]
    for size in range(30, 45):
        assert refused(lambda s=size: tv.verify_inclusion(29, 45, leaf, path(29, log[:s]), root))  # type: ignore[misc]


def test_every_single_bit_change_in_a_consistency_proof_is_refused(tmp_path: Path) -> None:
    old, new = mth(LOG[:13]), mth(LOG)
    hashes = proof(13, LOG)
    (tmp_path / "kept").write_text(note(13))
    (tmp_path / "now").write_text(note(45))
    honest = {"from": 13, "to": 45, "hashes": [base64.b64encode(h).decode() for h in hashes]}

    def checked(**changes: object) -> int:
        (tmp_path / "proof").write_text(json.dumps({**honest, **changes}))
        files = ["--old", str(tmp_path / "kept"), "--new", str(tmp_path / "now")]
        return tv.main(
            ["--key", KEYS[0], "consistency", *files, "--proof", str(tmp_path / "proof")]
        )

    assert checked() == 0
    for n, h in enumerate(hashes):
        for forged in bits(h):
            changed = [*hashes[:n], forged, *hashes[n + 1 :]]
            assert refused(lambda c=changed: tv.verify_consistency(13, 45, c, old, new))  # type: ignore[misc]
    for forged in bits(old):
        assert refused(lambda f=forged: tv.verify_consistency(13, 45, hashes, f, new))  # type: ignore[misc]
    for i in range(63):  # the sizes come with the roots, from the signed checkpoints
        assert checked(**{"from": 13 ^ (1 << i)}) == 1
        assert checked(to=45 ^ (1 << i)) == 1
        assert refused(lambda f=13 ^ (1 << i): tv.verify_consistency(f, 45, hashes, old, new))  # type: ignore[misc]


def test_a_rolled_back_or_rewritten_log_is_not_consistent_with_a_kept_checkpoint() -> None:
    kept = tv.parse_checkpoint(note(40), KEYS)
    rewritten = [*LOG[:20], b"a different event", *LOG[21:]]
    shorter = rewritten[:38]
    _, size, root = tv.parse_checkpoint(note(38, shorter), KEYS)

    assert refused(lambda: tv.verify_consistency(40, size, proof(38, shorter), kept[2], root))
    _, size, root = tv.parse_checkpoint(note(45, rewritten), KEYS)
    assert refused(lambda: tv.verify_consistency(40, 45, proof(40, rewritten), kept[2], root))


def test_a_checkpoint_signed_by_another_key_is_refused_and_a_retired_key_still_verifies() -> None:
    other = Signer("ledger.example/log", Ed25519PrivateKey.generate())
    impostor = Signer("other.example/log", Ed25519PrivateKey.generate())

    assert refused(lambda: tv.parse_checkpoint(note(45, signer=other), KEYS))
    assert refused(lambda: tv.parse_checkpoint(note(45, signer=impostor), KEYS))
    # a note for our origin signed by the impostor's key is refused: the origin is not its name
    forged = impostor.sign_note(f"ledger.example/log\n45\n{base64.b64encode(mth(LOG)).decode()}\n")
    assert refused(lambda: tv.parse_checkpoint(forged, [impostor.verifier_key]))
    assert tv.parse_checkpoint(note(45), [other.verifier_key, *KEYS])[1] == 45  # kept: both


def test_base64_spelled_another_way_is_refused() -> None:
    text = base64.b64encode(bytes(range(32))).decode()  # 44 characters, 2 padding bits
    loose = text[:42] + chr(ord(text[42]) + 1) + "="  # the same bytes in a lax decoder

    assert base64.b64decode(loose) == base64.b64decode(text)
    assert refused(lambda: tv.b64(loose, 32))
    assert tv.b64(text, 32) == bytes(range(32))


def test_unreadable_input_is_one_short_line_and_exit_2_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON nested past Python's recursion limit, bytes that are not UTF-8, a key argument too
    long to be a file name: each is one line naming the problem, exit 2."""
    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' + "[" * 100_000 + "]" * 100_000 + "}")
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe")
    kept = tmp_path / "checkpoint"
    kept.write_text(note(45))
    inclusion = ["inclusion", "--checkpoint", str(kept), "--entry", str(deep), "--proof", str(deep)]
    for argv in (
        ["--key", KEYS[0], "checkpoint", str(deep)],
        ["--key", KEYS[0], "checkpoint", str(binary)],
        ["--key", KEYS[0], *inclusion],
        ["--key", "k" * 5000 + "+x", "checkpoint", str(kept)],
    ):
        assert tv.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("unreadable input: "), err[:80]
        assert err.count("\n") == 1 and len(err) <= 220, err[:80]


def test_a_bundle_in_a_folder_whose_path_holds_entry_finds_its_own_proofs(tmp_path: Path) -> None:
    folder = tmp_path / "entry-2026-12" / "bundle-entry-3"
    folder.parent.mkdir()
    write_bundle(folder, 45, [3, 44])
    assert tv.main(["--key", KEYS[0], "bundle", str(folder)]) == 0


def test_the_verifier_runs_alone_with_only_cryptography_on_its_path(tmp_path: Path) -> None:
    """Copied alone into a folder, run with no site-packages but cryptography's own (and its
    cffi): it checks a bundle, and refuses a tampered one with one line and exit 1."""
    shutil.copy(tv.__file__, tmp_path / "tlog_verify.py")
    deps = tmp_path / "deps"
    deps.mkdir()
    site = Path(cryptography.__file__).parent.parent
    for entry in site.iterdir():
        if entry.name.split(".")[0].split("-")[0] in ("cryptography", "cffi", "_cffi_backend"):
            (deps / entry.name).symlink_to(entry)
    bundle = tmp_path / "bundle"
    log = write_bundle(bundle, 45, [3, 44])
    (tmp_path / "kept").write_text(note(17, log))
    env = {"PYTHONPATH": str(deps), "PATH": os.environ.get("PATH", "")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-S", "-m", "tlog_verify", "--key", KEYS[0], *args]
        return subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )

    honest = run("bundle", "--kept", "kept", "bundle")
    proof_file = bundle / "proof-44.json"
    forged = json.loads(proof_file.read_text())
    forged["hashes"][0] = base64.b64encode(bytes(32)).decode()
    proof_file.write_text(json.dumps(forged))
    tampered = run("bundle", "--kept", "kept", "bundle")
    probe = subprocess.run(
        [sys.executable, "-S", "-c", "import sys, tlog_verify; print(sorted(sys.modules))"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert honest.returncode == 0, honest.stderr
    assert honest.stdout.count("ok:") == 4  # the checkpoint, two entries, the consistency
    assert tampered.returncode == 1
    assert tampered.stderr.startswith("FAILED: leaf 44") and tampered.stderr.count("\n") == 1
    ours = {"ledger", "projections", "api", "scripts", "eventsourcing", "pydantic", "fastapi"}
    assert not ours & {m.split(".")[0] for m in eval(probe.stdout)}  # noqa: S307


def write_bundle(folder: Path, size: int, entries: list[int]) -> list[bytes]:
    """A bundle as ``careledger export bundle`` writes it, built from the RFC's definitions over
    a log whose chosen entries are leaves in CareLedger's format; returns that log."""
    folder.mkdir()
    log = list(LOG[:size])
    for i in entries:
        agg, topic = b"agg-%d" % i, b"ledger.budget:PersonalBudget.Opened"
        log[i] = b"".join((
            b"\x01", (10 * i).to_bytes(8, "big"), len(agg).to_bytes(4, "big"), agg,
            (1).to_bytes(8, "big"), len(topic).to_bytes(4, "big"), topic,
            (2).to_bytes(4, "big"), b"{}",
        ))  # fmt: skip
    (folder / "checkpoint").write_text(note(size, log))
    (folder / "verifier-key").write_text(KEYS[0] + "\n")
    for i in entries:
        entry = {"leaf_index": i, "position": 10 * i, "leaf": base64.b64encode(log[i]).decode()}
        hashes = [base64.b64encode(h).decode() for h in path(i, log)]
        (folder / f"entry-{i}.json").write_text(json.dumps(entry))
        (folder / f"proof-{i}.json").write_text(
            json.dumps({"leaf_index": i, "tree_size": size, "hashes": hashes})
        )
    consistency = [base64.b64encode(h).decode() for h in proof(17, log)]
    (folder / "consistency.json").write_text(
        json.dumps({"from": 17, "to": size, "hashes": consistency})
    )
    return log
