"""The signing key and its signed notes: interoperable with the published signed-note example
(golang.org/x/mod/sumdb/note: its private key gives its verifier key, and Ed25519 being
deterministic, signing its text gives its note byte for byte); the key file made 0600 on first
use, refused when others may read it; rotation keeps the name and lists the retired key."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from projections.signing import KeyFile, SigningKeyError, key_path
from scripts import tlog_verify

GO_PRIVATE = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = GO_TEXT + (
    "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FF"
    "YC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def private_file(folder: Path, text: str, mode: int = 0o600) -> Path:
    path = folder / "signing.key"
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


def test_the_published_signed_note_example_is_reproduced_byte_for_byte(tmp_path: Path) -> None:
    signer = KeyFile(private_file(tmp_path, GO_PRIVATE)).signer()

    assert signer.verifier_key == GO_VERIFIER
    assert signer.sign_note(GO_TEXT) == GO_NOTE
    assert tlog_verify.verify_note(GO_NOTE, [GO_VERIFIER]) == (GO_TEXT, "PeterNeumann")
    assert signer.encoded().strip() == GO_PRIVATE


def test_the_key_is_made_once_mode_0600_in_its_own_folder(tmp_path: Path) -> None:
    keys = KeyFile(tmp_path / "new" / "signing.key", origin="ledger.example/log")

    first = keys.signer()

    assert (tmp_path / "new" / "signing.key").stat().st_mode & 0o777 == 0o600
    assert keys.signer().verifier_key == first.verifier_key
    assert first.verifier_key.startswith("ledger.example/log+")
    assert first.checkpoint(3, bytes(32)).startswith("ledger.example/log\n3\nAAAA")


def first_uses_at_once(keys: KeyFile, count: int) -> tuple[list[str], list[str]]:
    """``count`` threads asking for the key at the same moment: the verifier keys they got,
    and the errors they met."""
    start, found, failed = threading.Barrier(count), [], []

    def first_use() -> None:
        start.wait()
        try:
            found.append(keys.signer().verifier_key)
        except SigningKeyError as error:
            failed.append(str(error))

    threads = [threading.Thread(target=first_use) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found, failed


def test_requests_making_the_key_at_once_all_sign_with_the_one_key_made(tmp_path: Path) -> None:
    """The first checkpoints of a new server come at once (threads of a worker, workers): none
    reads a key file still being written, and all use the one key that won."""
    for round_ in range(20):
        folder = tmp_path / str(round_)
        keys = KeyFile(folder / "signing.key", origin="ledger.example/log")

        found, failed = first_uses_at_once(keys, 8)

        assert failed == [] and len(found) == 8 and len(set(found)) == 1, (round_, failed[:1])
        assert [p.name for p in folder.iterdir()] == ["signing.key"]


@pytest.mark.parametrize(
    "content",
    [b"PRIVATE+KEY+n+00000000+!!!!\n", b"PRIVATE+KEY+n+00000000+AQ==\n", b"\xff\xfe\n", b""],
    ids=["not-base64", "short", "not-ascii", "empty"],
)
def test_a_damaged_key_file_is_a_signing_key_error_naming_only_the_file(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "signing.key"
    path.write_bytes(content)
    path.chmod(0o600)

    with pytest.raises(SigningKeyError, match=r"signing\.key (is not|does not)") as raised:
        KeyFile(path).signer()
    assert str(raised.value).startswith(f"{path} ") and raised.value.__cause__ is None


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = private_file(tmp_path, GO_PRIVATE, mode=0o640)

    with pytest.raises(SigningKeyError, match="chmod 600"):
        KeyFile(path).signer()


def test_rotation_keeps_the_name_and_lists_the_retired_verifier_key(tmp_path: Path) -> None:
    keys = KeyFile(private_file(tmp_path, GO_PRIVATE))

    new = keys.rotate()

    assert new.name == "PeterNeumann" and new.verifier_key != GO_VERIFIER
    assert keys.signer().verifier_key == new.verifier_key
    assert [line.split()[0] for line in keys.retired()] == [GO_VERIFIER]
    assert (tmp_path / "signing.key").stat().st_mode & 0o777 == 0o600


def test_an_origin_with_a_space_or_plus_is_refused(tmp_path: Path) -> None:
    for origin in ("my ledger", "a+b"):
        with pytest.raises(SigningKeyError, match="origin"):
            KeyFile(tmp_path / f"{len(origin)}.key", origin=origin).signer()


def test_the_key_lives_beside_a_sqlite_store_unless_a_file_is_set(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"

    beside = key_path(url, env={})
    chosen = key_path(url, env={"CARELEDGER_SIGNING_KEY_FILE": "/srv/keys/ledger.key"})

    assert beside == tmp_path / "careledger-signing.key"
    assert chosen == Path("/srv/keys/ledger.key")
    assert key_path("memory://", env={"HOME": os.environ.get("HOME", "/")}).name == "signing.key"
