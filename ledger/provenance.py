"""Who did what, on whose behalf, why, and under which command id — carried by every event."""

from __future__ import annotations

import copy
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from ledger.errors import InvalidCommandError

MAX_REF_LENGTH = 64
MAX_SCOPE_LENGTH = 200


class Role(StrEnum):
    ADMIN = "admin"
    COUNCIL = "council"
    PROVIDER = "provider"
    REPRESENTATIVE = "representative"
    AUDITOR = "auditor"
    REGULATOR = "regulator"
    SYSTEM = "system"


@dataclass(frozen=True)
class Provenance:
    """The provenance of one command; stored in every event it causes.

    ``actor_id`` and ``on_behalf_of`` are pseudonymous references, never names. ``reason`` is a
    short code or legal basis (e.g. ``care-act-2014-s31``), never a free-text care note.

    ``idempotency_scope`` is the account the command id belongs to (``council:E08000035``,
    ``provider:P1``, a representative's appointment …): a repeat of the command id within it
    returns the first outcome, whichever of the account's tokens sends it, and the same id in
    another account is another command. None scopes the id to the actor (the ledger's own
    callers: the demo, the benchmarks). Stored in events only when set.
    """

    actor_id: str
    actor_role: str
    command_id: str
    on_behalf_of: str | None = None
    reason: str | None = None
    idempotency_scope: str | None = field(default=None, metadata={"stored_if_set": True})

    def __post_init__(self) -> None:
        check_ref("actor_id", self.actor_id)
        check_ref("command_id", self.command_id)
        if self.actor_role not in Role.__members__.values():
            raise InvalidCommandError(f"unknown role {self.actor_role!r}", field="actor_role")
        if self.on_behalf_of is not None:
            check_ref("on_behalf_of", self.on_behalf_of)
        if self.reason is not None:
            check_ref("reason", self.reason)
        if self.idempotency_scope is not None:
            check_ref("idempotency_scope", self.idempotency_scope, MAX_SCOPE_LENGTH)

    def with_stored_reason(self, reason: str) -> Provenance:
        """This provenance with ``reason`` as stored: sealed (``ledger.personal``), so longer
        than a code and not checked again, like every stored value read back."""
        stored = copy.copy(self)
        object.__setattr__(stored, "reason", reason)
        return stored

    @property
    def command_scope(self) -> str:
        """Who the command id belongs to: the account, else the actor."""
        return self.idempotency_scope or self.actor_id


def check_ref(field: str, value: str, max_length: int = MAX_REF_LENGTH) -> str:
    """Refuse anything but a short printable reference (no control or formatting characters)."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise InvalidCommandError(
            f"{field} must be 1..{max_length} characters", field=field, max_length=max_length
        )
    if not all(c.isascii() and c.isprintable() for c in value):
        raise InvalidCommandError(f"{field} must be printable ASCII", field=field)
    return value


def plain_identity(value: str) -> str:
    """The one form of an identity (council code, care firm or pooled fund reference): no
    spaces anywhere, upper case. ``e06000001``, ``E06000001 `` and ``E06 000001`` are all
    ``E06000001``; so is its full-width form (NFKC, which also makes every Unicode space a plain
    one). Control characters (a tab, a newline) are kept, for ``check_ref`` to refuse. The API
    puts what it is sent in this form on the way in."""
    return unicodedata.normalize("NFKC", value).replace(" ", "").upper()


def check_identity(field: str, value: str, max_length: int = MAX_REF_LENGTH) -> str:
    """Refuse an identity not in its plain form, so no look-alike of one (by space or case) is
    ever registered beside it."""
    check_ref(field, value, max_length)
    plain = plain_identity(value)
    if value != plain:
        raise InvalidCommandError(
            f"{field} {value!r} is not in its plain form (no spaces, upper case): send {plain!r}",
            field=field,
            plain=plain,
        )
    return value
