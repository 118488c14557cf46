"""Console sessions: a bearer token pasted once, kept in a signed, encrypted, expiring,
``HttpOnly``, ``SameSite=Strict`` cookie; a CSRF token for every form.

The cookie is a Fernet token (AES-CBC + HMAC-SHA256 with a timestamp) holding the bearer token
and the session's CSRF secret; the key comes from ``CARELEDGER_CONSOLE_SECRET``. The bearer token
is checked against the token store on every request, exactly as the API checks it, so revoking
a token ends its console sessions at the next click."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Depends, Request, Response

from api.auth import Principal, TokenStore
from api.deps import get_tokens
from projections.db import ViewDb

COOKIE = "careledger_session"
# Sessions ended by signing out: a copied cookie of an ended session is refused until it would
# have expired anyway (rows older than the session lifetime can be deleted).
ENDED_DDL = (
    "CREATE TABLE IF NOT EXISTS careledger_console_ended"
    " (session_id TEXT PRIMARY KEY, ended_at TEXT NOT NULL)"
)
PRE_COOKIE = "careledger_signin"  # the sign-in form's own CSRF secret, before any session


class SignInNeededError(Exception):
    """No session, an expired one, or one whose token was revoked: go to the sign-in page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CsrfRefusedError(Exception):
    """A form came back without this session's CSRF token."""


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str
    session_id: str


class Sessions:
    """Seal and open the session cookie with the server's secret."""

    def __init__(self, secret: str | None, minutes: int) -> None:
        seed = secret.encode() if secret else secrets.token_bytes(32)
        self.fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(seed).digest()))
        self.seconds = minutes * 60
        self.ready = False

    def _table(self, db: ViewDb) -> None:
        if not self.ready:
            with db.schema_transaction() as cur:
                cur.execute(ENDED_DDL)
            self.ready = True

    def ended(self, db: ViewDb, session_id: str) -> bool:
        self._table(db)
        found = db.query(
            "SELECT 1 AS ended FROM careledger_console_ended WHERE session_id = ?", (session_id,)
        )
        return bool(found)

    def end(self, db: ViewDb, session_id: str) -> None:
        self._table(db)
        with db.transaction() as cur:
            cur.execute(
                "INSERT INTO careledger_console_ended VALUES (?, ?) ON CONFLICT DO NOTHING",
                (session_id, datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def seal(self, data: dict[str, str]) -> str:
        return self.fernet.encrypt(json.dumps(data).encode()).decode()

    def open(self, cookie: str | None, now: float | None = None) -> dict[str, str] | None:
        """The cookie's content if it is ours, unaltered and younger than the session lifetime
        (at ``now``, default the clock's); otherwise None."""
        if not cookie or len(cookie) > 4096:
            return None
        at = int(time.time() if now is None else now)
        try:
            data = json.loads(self.fernet.decrypt_at_time(cookie.encode(), self.seconds, at))
        except (InvalidToken, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def start(self, response: Response, request: Request, token: str) -> None:
        value = self.seal(
            {"token": token, "csrf": secrets.token_urlsafe(24), "sid": secrets.token_hex(16)}
        )
        set_cookie(response, request, COOKIE, value, self.seconds)
        response.delete_cookie(PRE_COOKIE, path="/ui")

    def pre_csrf(self, request: Request, response: Response) -> str:
        """The sign-in form's CSRF token, kept in a short-lived cookie of its own."""
        found = self.open(request.cookies.get(PRE_COOKIE))
        csrf = found["csrf"] if found else secrets.token_urlsafe(24)
        set_cookie(response, request, PRE_COOKIE, self.seal({"csrf": csrf}), 3600)
        return csrf


def set_cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def get_sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.console_sessions
    return sessions


def signed_in(
    request: Request,
    sessions: Annotated[Sessions, Depends(get_sessions)],
    tokens: Annotated[TokenStore, Depends(get_tokens)],
) -> Session:
    """The session's caller, re-authenticated now; otherwise :class:`SignInNeededError`."""
    data = sessions.open(request.cookies.get(COOKIE))
    if data is None:
        raise SignInNeededError("Sign in to continue" if COOKIE not in request.cookies else
                           "Your session has expired: sign in again")  # fmt: skip
    if sessions.ended(tokens.db, str(data.get("sid", ""))):
        raise SignInNeededError("You signed out of that session: sign in again")
    principal = tokens.authenticate(str(data.get("token", "")))
    if principal is None:
        raise SignInNeededError("Your token has been revoked or is no longer valid: sign in again")
    request.state.actor = principal.token_id  # the request log line, as for the API
    request.state.role = principal.role.value
    request.state.last_position = principal.last_position
    return Session(principal, str(data.get("csrf", "")), str(data.get("sid", "")))


Signed = Annotated[Session, Depends(signed_in)]


def check_csrf(expected: str, given: str | None) -> None:
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfRefusedError()
