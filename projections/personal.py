"""The personal-data key store: one AES-256-GCM key per person, destroyed to erase them.

Implements ``ledger.personal.PersonalData``. Keys live in their own table,
``careledger_person_keys`` (pseudonym → 32-byte key, created_at, erased_at), in the same database
as the events but never in an event, a view, a log or an export. Erasing a person sets their key
to NULL; on SQLite the key table is written only through a connection with
``PRAGMA secure_delete=ON`` and the WAL is checkpointed and truncated after an erasure, so no free
page or WAL frame keeps the key.

Pseudonyms are HMAC-SHA256 (first 128 bits, hex) under the ledger's pseudonym secret: 32 random
bytes in a file outside the database (``CARELEDGER_PSEUDONYM_KEY_FILE``; by default beside a
SQLite store, else ``~/.config/careledger/pseudonym.key``), made on first use with mode 0600,
like the signing key (``projections.signing``). Without the secret nobody can confirm a guessed
reference against a pseudonym; losing it only breaks joins of new events to old ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import PersonErasedError, PersonKeyDamagedError
from ledger.persistence import persistence_env
from ledger.personal import ERASED, PREFIX, parts
from projections.db import SqliteViewDb, ViewDb, open_view_db
from projections.signing import SigningKeyError

KEY_TABLE = "careledger_person_keys"
CREATE = (
    "CREATE TABLE IF NOT EXISTS careledger_person_keys (pseudonym TEXT PRIMARY KEY, data_key BYTEA,"
    " created_at TEXT NOT NULL, erased_at TEXT)"
)
SECRET_BYTES = 32
KEY_BYTES = 32  # AES-256


def secret_path(database_url: str, env: Mapping[str, str] | None = None) -> Path:
    """Where the pseudonym secret lives: the setting, else beside a SQLite file, else in the
    user's configuration folder (never inside the database)."""
    env = os.environ if env is None else env
    if env.get("CARELEDGER_PSEUDONYM_KEY_FILE"):
        return Path(env["CARELEDGER_PSEUDONYM_KEY_FILE"])
    store = persistence_env(database_url)
    if store["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return Path(store["SQLITE_DBNAME"]).resolve().parent / "careledger-pseudonym.key"
    return Path.home() / ".config" / "careledger" / "pseudonym.key"


def load_secret(path: Path) -> bytes:
    """The secret, created 0600 on first use (a secret made meanwhile by another process wins)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(os.urandom(SECRET_BYTES).hex() + "\n")
    if path.stat().st_mode & 0o077:
        raise SigningKeyError(f"{path} is open to other users: chmod 600 it")
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except ValueError:
        secret = b""
    if len(secret) != SECRET_BYTES:
        raise SigningKeyError(f"{path} does not hold a {SECRET_BYTES}-byte hex secret")
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class KeyStore:
    """Data keys by pseudonym in ``careledger_person_keys``; seals and opens personal fields."""

    def __init__(
        self, db: ViewDb, secret: bytes, *, owns_db: bool = True, read_only: bool = False
    ) -> None:
        self.db = db
        self.secret = secret
        self.owns_db = owns_db
        if not read_only:  # a standby's copy (``projections.replicas``) takes no DDL
            with db.schema_transaction() as cur:
                cur.execute(CREATE)

    @classmethod
    def open(
        cls,
        database_url: str,
        views: ViewDb,
        env: Mapping[str, str] | None = None,
        *,
        read_only: bool = False,
    ) -> KeyStore:
        """The key store of a database, on its own connection (on SQLite: secure_delete). A
        ``memory://`` store keeps its keys beside its views, under a secret of its own.
        ``read_only``: a PostgreSQL standby's keys, read beside its views (no DDL, no writes)."""
        store = persistence_env(database_url)
        if store["PERSISTENCE_MODULE"] == "eventsourcing.popo":
            return cls(views, os.urandom(SECRET_BYTES), owns_db=False)
        secret = load_secret(secret_path(database_url, env))
        if store["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
            return cls(SqliteViewDb(store["SQLITE_DBNAME"]), secret)
        if read_only:
            return cls(views, secret, owns_db=False, read_only=True)
        return cls(open_view_db(database_url), secret)

    def close(self) -> None:
        if self.owns_db:
            self.db.close()

    # --- PersonalData ------------------------------------------------------------------------

    def pseudonym(self, kind: str, ref: str) -> str:
        message = f"{kind}\x1f{ref}".encode()
        return "p" + hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:32]

    def seal(self, subject: str, context: str, plaintext: str, join: str | None = None) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self._key_to_seal(subject)).encrypt(
            nonce, plaintext.encode(), _aad(subject, context)
        )
        return f"{PREFIX}{subject}:{join or '-'}:{_b64(nonce + sealed)}"

    def reveal(self, value: str, context: str) -> str:
        found = parts(value)
        if found is None:
            return value  # never sealed: an event from before sealing, or not personal
        subject, _, blob = found
        key = self.key(subject)
        if key is None:
            return ERASED
        try:
            raw = _unb64(blob)
            return AESGCM(key).decrypt(raw[:12], raw[12:], _aad(subject, context)).decode()
        except (InvalidTag, ValueError):
            return ERASED  # a wrong key or a value moved to another record or field

    # --- keys --------------------------------------------------------------------------------

    def key(self, subject: str) -> bytes | None:
        with self.db.transaction(write=False) as cur:
            row = cur.execute(
                "SELECT data_key FROM careledger_person_keys WHERE pseudonym = ?", (subject,)
            ).fetchone()
        return None if row is None or row["data_key"] is None else bytes(row["data_key"])

    def state(self, subject: str) -> str:
        """``active``, ``erased`` or ``unknown`` (no key was ever made)."""
        with self.db.transaction(write=False) as cur:
            row = cur.execute(
                "SELECT erased_at FROM careledger_person_keys WHERE pseudonym = ?", (subject,)
            ).fetchone()
        if row is None:
            return "unknown"
        return "active" if row["erased_at"] is None else "erased"

    def _key_to_seal(self, subject: str) -> bytes:
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO careledger_person_keys (pseudonym, data_key, created_at)"
                " VALUES (?, ?, ?)"
                " ON CONFLICT (pseudonym) DO NOTHING",
                (subject, AESGCM.generate_key(bit_length=256), now()),
            )
            row = cur.execute(
                "SELECT data_key FROM careledger_person_keys WHERE pseudonym = ?", (subject,)
            ).fetchone()
        if row is None or row["data_key"] is None:
            raise PersonErasedError(
                "this person's personal data has been erased: nothing more is recorded for them",
                person=subject,
            )
        key = bytes(row["data_key"])
        if len(key) != KEY_BYTES:
            raise PersonKeyDamagedError(
                "the data key held for this person is damaged: restore careledger_person_keys"
                " from a backup; nothing was recorded",
                person=subject,
            )
        return key

    def ensure(self, subject: str) -> bool:
        """A key for ``subject`` unless they have one or were erased (True if one was made)."""
        with self.db.transaction() as cur:
            made = cur.execute(
                "INSERT INTO careledger_person_keys (pseudonym, data_key, created_at)"
                " VALUES (?, ?, ?) ON CONFLICT (pseudonym) DO NOTHING",
                (subject, AESGCM.generate_key(bit_length=256), now()),
            ).raw.rowcount
        return bool(made and made > 0)

    def destroy(self, subject: str) -> bool:
        """Destroy the key (True if there was one to destroy). A person never keyed gets an
        erased row, so nothing is ever sealed for them again."""
        with self.db.transaction() as cur:
            row = cur.execute(
                "SELECT data_key FROM careledger_person_keys WHERE pseudonym = ?", (subject,)
            ).fetchone()
            cur.execute(
                "INSERT INTO careledger_person_keys (pseudonym, data_key, created_at, erased_at)"
                " VALUES (?, NULL, ?, ?) ON CONFLICT (pseudonym) DO UPDATE"
                " SET data_key = NULL, erased_at = COALESCE(careledger_person_keys.erased_at, ?)",
                (subject, now(), now(), now()),
            )
        self.db.compact(KEY_TABLE)
        return row is not None and row["data_key"] is not None


def _aad(subject: str, context: str) -> bytes:
    """Associated data: a sealed value opens only as this person's, in this record and field."""
    return f"{subject}\x1f{context}".encode()
