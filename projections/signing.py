"""The ledger's signing key and its signed checkpoints (C2SP signed-note / tlog-checkpoint).

The Ed25519 key lives in a file outside the database (``CARELEDGER_SIGNING_KEY_FILE``; by
default beside a SQLite store, else ``~/.config/careledger/signing.key``), created on first use
with mode 0600, in the signed-note private key format ``PRIVATE+KEY+<name>+<hex id>+<base64>``.
It is never stored in the database and never logged. Rotating it moves the old verifier key to
``<key file>.retired`` (public keys only), so checkpoints signed before stay checkable.

A checkpoint is ``<origin>\\n<tree size>\\n<base64 root hash>\\n``; the note adds a blank line and
``— <name> <base64(key id ‖ signature)>``. The key's name is the log's origin
(``CARELEDGER_LOG_ORIGIN`` when the key is first made); the key id is the first 4 bytes of
SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.persistence import persistence_env

ED25519 = b"\x01"
DEFAULT_ORIGIN = "careledger.localhost/log"
NAME = re.compile(r"^[!-*,-~]+$")  # printable, no space, no '+'


class SigningKeyError(Exception):
    """The key file is missing where it cannot be created, unreadable, or open to others."""


def key_path(database_url: str, env: Mapping[str, str] | None = None) -> Path:
    """Where the signing key lives for a store: the setting, else beside a SQLite file, else in
    the user's configuration folder (never inside the database)."""
    env = os.environ if env is None else env
    if env.get("CARELEDGER_SIGNING_KEY_FILE"):
        return Path(env["CARELEDGER_SIGNING_KEY_FILE"])
    store = persistence_env(database_url)
    if store["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return Path(store["SQLITE_DBNAME"]).resolve().parent / "careledger-signing.key"
    return Path.home() / ".config" / "careledger" / "signing.key"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def verifier_key(name: str, public: bytes) -> str:
    return f"{name}+{key_id(name, public).hex()}+{b64(ED25519 + public)}"


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{b64(root)}\n"


@dataclass(frozen=True)
class Signer:
    name: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def verifier_key(self) -> str:
        return verifier_key(self.name, self.public)

    def sign_note(self, text: str) -> str:
        """``text`` (ending in a newline) as a signed note with this key's signature line."""
        signature = self.private.sign(text.encode())
        return f"{text}\n\u2014 {self.name} {b64(key_id(self.name, self.public) + signature)}\n"

    def checkpoint(self, size: int, root: bytes) -> str:
        return self.sign_note(checkpoint_text(self.name, size, root))

    def encoded(self) -> str:
        seed = self.private.private_bytes_raw()
        kid = key_id(self.name, self.public).hex()
        return f"PRIVATE+KEY+{self.name}+{kid}+{b64(ED25519 + seed)}\n"


class KeyFile:
    """The signing key's file and its retired verifier keys beside it."""

    def __init__(self, path: Path, origin: str | None = None) -> None:
        self.path = path
        self.origin = origin or os.environ.get("CARELEDGER_LOG_ORIGIN") or DEFAULT_ORIGIN
        self.retired_path = path.with_name(path.name + ".retired")

    def signer(self) -> Signer:
        """The key, created on first use."""
        if not self.path.exists():
            self._write(Signer(_checked_name(self.origin), Ed25519PrivateKey.generate()), new=True)
        return self._read()

    def retired(self) -> list[str]:
        """Retired verifier keys with the time each was retired, oldest first."""
        if not self.retired_path.exists():
            return []
        return [line for line in self.retired_path.read_text().splitlines() if line.strip()]

    def rotate(self) -> Signer:
        """A new key under the same name; the old verifier key is kept in the retired list."""
        old = self.signer()
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.retired_path.open("a", encoding="utf-8") as f:
            f.write(f"{old.verifier_key} retired {stamp}\n")
        new = Signer(old.name, Ed25519PrivateKey.generate())
        self._write(new, new=False)
        return new

    def _read(self) -> Signer:
        if self.path.stat().st_mode & 0o077:
            raise SigningKeyError(f"{self.path} is open to other users: chmod 600 it")
        try:
            parts = self.path.read_text(encoding="ascii").strip().split("+", 4)
            if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
                raise ValueError("not PRIVATE+KEY+<name>+<id>+<key>")
            raw = base64.b64decode(parts[4], validate=True)
            if raw[:1] != ED25519 or len(raw) != 33:
                raise SigningKeyError(f"{self.path} does not hold an Ed25519 key")
            signer = Signer(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        except ValueError:  # not ASCII, not the format, not base64: never echo the key's bytes
            raise SigningKeyError(f"{self.path} is not a signed-note private key") from None
        if key_id(signer.name, signer.public).hex() != parts[3]:
            raise SigningKeyError(f"{self.path}: the key id does not match the key")
        return signer

    def _write(self, signer: Signer, *, new: bool) -> None:
        """Written 0600 to a temporary file beside the key, then put in place whole: a new key
        is linked in, never replacing one made meanwhile (a reader never sees half a key);
        a rotated one replaces the old atomically."""
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(signer.encoded())
                f.flush()
                os.fsync(f.fileno())
            if not new:
                os.replace(temp, self.path)
            else:
                with suppress(FileExistsError):  # another process made it first: use theirs
                    os.link(temp, self.path)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(temp)


def _checked_name(name: str) -> str:
    if not NAME.match(name):
        raise SigningKeyError(f"log origin {name!r}: printable, without spaces or '+'")
    return name
