"""Bearer tokens: created by the command line, stored only as SHA-256 hashes, revocable.

A token carries a role and a scope (council, provider, or budget + representative). Actor and
role in every event come from the token, never from a request body.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.errors import InvalidCommandError
from ledger.provenance import Role, check_ref
from projections.db import ViewDb

TOKEN_PREFIX = "clt_"  # noqa: S105 - a public prefix, not a secret
DDL = (
    "CREATE TABLE IF NOT EXISTS careledger_tokens (token_hash TEXT PRIMARY KEY,"
    " token_id TEXT NOT NULL UNIQUE, role TEXT NOT NULL, council TEXT, provider TEXT,"
    " budget_id TEXT, representative_id TEXT, label TEXT, created_at TEXT NOT NULL,"
    " revoked_at TEXT, last_position BIGINT NOT NULL DEFAULT 0)"
)
# The log position of the token's last write: its reads wait for it on a standby
# (``projections.replicas``). Added to a store made before reads on standbys existed.
LAST_POSITION = (
    "ALTER TABLE careledger_tokens ADD COLUMN {} last_position BIGINT NOT NULL DEFAULT 0"
)
SCOPES = {
    Role.ADMIN: (),
    Role.COUNCIL: ("council",),
    Role.PROVIDER: ("provider",),
    Role.REPRESENTATIVE: ("budget_id", "representative_id"),
    Role.AUDITOR: (),
    Role.REGULATOR: (),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling, as their token says."""

    token_id: str
    role: Role
    council: str | None = None
    provider: str | None = None
    budget_id: str | None = None
    representative_id: str | None = None
    # The log position of this token's last write, when reads go to standbys (not an identity).
    last_position: int = field(default=0, compare=False)

    @property
    def actor_id(self) -> str:
        """Representatives act as themselves (rule 8 checks the id); others as their token."""
        return self.representative_id or self.token_id

    @property
    def idempotency_scope(self) -> str:
        """The account whose Idempotency-Keys this caller shares, as Stripe scopes keys to an
        account: a council (every officer's token, old and new), a care firm, one
        representative's appointment to one budget, a council's auditors or the national ones,
        the administrators, the regulators. Never a token; never two accounts."""
        if self.role is Role.COUNCIL:
            return f"council:{self.council}"
        if self.role is Role.PROVIDER:
            return f"provider:{self.provider}"
        if self.role is Role.REPRESENTATIVE:
            budget = str(self.budget_id)  # length-prefixed: no two appointments read alike
            return f"representative:{len(budget)}:{budget}:{self.representative_id}"
        if self.role is Role.AUDITOR:
            return f"auditor:council:{self.council}" if self.council else "auditor:national"
        return self.role.value


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, db: ViewDb) -> None:
        self.db = db
        with db.schema_transaction() as cur:
            cur.execute(DDL)
        if "last_position" not in db.columns("careledger_tokens"):
            self._add_last_position()

    def _add_last_position(self) -> None:
        """Two processes may start at once: PostgreSQL's IF NOT EXISTS settles it; SQLite (one
        writer at a time) lets the second find the column already there."""
        if self.db.dialect == "postgres":
            with self.db.schema_transaction() as cur:
                cur.execute(LAST_POSITION.format("IF NOT EXISTS"))
            return
        try:
            with self.db.schema_transaction() as cur:
                cur.execute(LAST_POSITION.format(""))
        except sqlite3.OperationalError:
            if "last_position" not in self.db.columns("careledger_tokens"):
                raise

    def create(
        self, role: str, label: str | None = None, **scope: str | None
    ) -> tuple[str, Principal]:
        """A new token (returned once, never stored) and its principal."""
        try:
            role_ = Role(role)
        except ValueError:
            raise InvalidCommandError(f"unknown role {role!r}", field="role") from None
        if role_ is Role.SYSTEM:
            raise InvalidCommandError("system tokens cannot be issued", field="role")
        needed = SCOPES[role_]
        given: dict[str, Any] = {k: v for k, v in scope.items() if v}
        if role_ is Role.AUDITOR:
            needed = tuple(k for k in ("council",) if k in given)
        if set(given) != set(needed):
            raise InvalidCommandError(
                f"a {role_.value} token is scoped by: {', '.join(needed) or 'nothing'}",
                field="scope",
            )
        for key, value in given.items():
            check_ref(key, value)
        token_id = f"tok_{secrets.token_hex(6)}"
        token = f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
        principal = Principal(token_id, role_, **given)
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO careledger_tokens (token_hash, token_id, role, council, provider,"
                " budget_id, representative_id, label, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _hash(token),
                    token_id,
                    role_.value,
                    principal.council,
                    principal.provider,
                    principal.budget_id,
                    principal.representative_id,
                    label,
                    _now(),
                ),
            )
        return token, principal

    def authenticate(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        rows = self.db.query(
            "SELECT * FROM careledger_tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (_hash(token),),
        )
        if not rows:
            return None
        r = rows[0]
        return Principal(
            r["token_id"],
            Role(r["role"]),
            r["council"],
            r["provider"],
            r["budget_id"],
            r["representative_id"],
            last_position=int(r["last_position"]),
        )

    def remember(self, token_id: str, position: int) -> None:
        """The token's last write is at ``position``: its later reads wait for it."""
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE careledger_tokens SET last_position = ?"
                " WHERE token_id = ? AND last_position < ?",
                (position, token_id, position),
            )

    def revoke(self, token_id: str) -> bool:
        with self.db.transaction() as cur:
            found = cur.execute(
                "SELECT token_id FROM careledger_tokens WHERE token_id = ? AND revoked_at IS NULL",
                (token_id,),
            ).fetchone()
            if found:
                cur.execute(
                    "UPDATE careledger_tokens SET revoked_at = ? WHERE token_id = ?",
                    (_now(), token_id),
                )
        return found is not None

    def list(self) -> list[dict[str, Any]]:
        return self.db.query(
            "SELECT token_id, role, council, provider, budget_id, representative_id, label,"
            " created_at, revoked_at FROM careledger_tokens ORDER BY created_at, token_id"
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
