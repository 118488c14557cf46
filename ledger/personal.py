"""Personal data in events: stored sealed under the person's own key, joined by a pseudonym.

A personal field (the person's reference, a representative's id, an auditor's note about a
budget) is stored as a sealed string ``pii1:<key subject>:<join>:<base64url nonce ‖ ciphertext>``:

* ``key subject`` — the pseudonym of the person whose key sealed it (their data key lives in a
  key store outside the events; destroying it erases every field sealed under it);
* ``join`` — a keyed pseudonym of the value itself, so the ledger can match a representative's
  later acts to their appointment without reading the sealed text.

The cipher is behind :class:`PersonalData`; its implementation (AES-256-GCM, HMAC-SHA256
pseudonyms, the key table) lives outside ``ledger`` and is given to the application, because the
ledger imports only the standard library and eventsourcing. Without one (:data:`IN_THE_CLEAR`:
the ledger's own unit tests and ``memory://``) values are stored as given, as before this change.

Events written before sealing existed hold plain values; they are read as they are: a value
without the ``pii1:`` prefix is its own join key and its own plaintext.
"""

from __future__ import annotations

import re
from typing import Protocol

from ledger.errors import ErasureUnavailableError

PREFIX = "pii1:"
ERASED = "erased"


class PersonalData(Protocol):
    def pseudonym(self, kind: str, ref: str) -> str:
        """A stable keyed pseudonym of ``ref`` (``kind``: person, representative)."""
        ...

    def seal(self, subject: str, context: str, plaintext: str, join: str | None = None) -> str:
        """``plaintext`` sealed under ``subject``'s key, bound to ``context`` (record/field)."""
        ...

    def reveal(self, value: str, context: str) -> str:
        """The plaintext of a stored value: as it is when never sealed, :data:`ERASED` when the
        key is gone (or the value does not open under it); never raises for a missing key."""
        ...

    def state(self, subject: str) -> str:
        """``active``, ``erased``, or ``unknown`` (nothing was ever sealed under the subject)."""
        ...

    def destroy(self, subject: str) -> bool:
        """Destroy the subject's key for good (True if there was one): erasure."""
        ...


class InTheClear:
    """No key store: values are stored as given and pseudonyms are the references themselves."""

    def pseudonym(self, kind: str, ref: str) -> str:
        return ref

    def seal(self, subject: str, context: str, plaintext: str, join: str | None = None) -> str:
        return plaintext

    def reveal(self, value: str, context: str) -> str:
        return ERASED if is_sealed(value) else value

    def state(self, subject: str) -> str:
        return "unknown"

    def destroy(self, subject: str) -> bool:
        raise ErasureUnavailableError("this ledger has no key store: nothing stored can be erased")


IN_THE_CLEAR = InTheClear()


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def parts(value: str) -> tuple[str, str, str] | None:
    """(key subject, join, blob) of a sealed value; None for a plain (older or unsealed) one."""
    if not is_sealed(value):
        return None
    fields = value[len(PREFIX) :].split(":")
    if len(fields) != 3:
        return None
    return fields[0], fields[1], fields[2]


PSEUDONYM = re.compile(r"p[0-9a-f]{32}")


def is_pseudonym(value: str) -> bool:
    """A keyed pseudonym as the key store makes them (``p`` + 32 hex digits), as events since
    sealing name a representative; a reference stored before sealing is not one."""
    return PSEUDONYM.fullmatch(value) is not None


def key_subject(value: str) -> str:
    """Whose key sealed the value; a plain value is its own subject."""
    found = parts(value)
    return found[0] if found else value


def join_key(value: str) -> str:
    """What joins this value to its other occurrences: its pseudonym, or itself when plain."""
    found = parts(value)
    return found[1] if found else value


def context(record: object, field: str) -> str:
    """The associated data a field is sealed with: which record, which field."""
    return f"{record}/{field}"


def reason_context(person: str) -> str:
    """A command's reason is bound to the person and the field, not to one record: one command
    stores it in several events (and its command record), each read on its own."""
    return context(person, "reason")


SEALED = re.compile(r"pii1:[0-9A-Za-z_-]+:[0-9A-Za-z_-]+:[0-9A-Za-z_-]+")


def reveal_reasons(personal: PersonalData, text: str | None) -> str | None:
    """``text`` (a reason, or a line quoting one) with each sealed reason opened or erased."""
    if text is None or PREFIX not in text:
        return text
    return SEALED.sub(
        lambda m: personal.reveal(m.group(0), reason_context(key_subject(m.group(0)))), text
    )


def person_pseudonym(personal: PersonalData, stored: str) -> str:
    """The pseudonym of the person a stored reference names, sealed or (before sealing) plain."""
    return key_subject(stored) if is_sealed(stored) else personal.pseudonym("person", stored)


def person_erased(personal: PersonalData, stored: str) -> bool:
    """Whether the person a stored reference names was erased."""
    return personal.state(person_pseudonym(personal, stored)) == "erased"


def person_shown(personal: PersonalData, stored: str, where: str) -> str:
    """A person's reference for a reader: opened, or erased. A reference stored in the clear
    (before sealing) stays in the log, but once the person is erased no read shows it."""
    if not is_sealed(stored) and person_erased(personal, stored):
        return ERASED
    return personal.reveal(stored, where)


def shown_for(personal: PersonalData, stored: str | None, where: str, erased: bool) -> str | None:
    """A stored personal value for a reader: sealed, opened or erased under its key; stored in
    the clear (before sealing), shown as it is unless the person it is about (``erased``) was
    erased: the log keeps those bytes, but no read shows them."""
    if stored is None:
        return None
    if erased and not is_sealed(stored):
        return ERASED
    return reveal_reasons(personal, stored) if where == "reason" else personal.reveal(stored, where)


def representative_shown(personal: PersonalData, stored: str, where: str) -> str:
    """A representative's id for a reader. Sealed twice (under their own key inside the
    person's), opened twice; erased when either key is gone, and — an id sealed once, under
    the person's key only, or stored in the clear before sealing — when the representative's
    own key was destroyed (``erase-representative``)."""
    if (
        personal.state(
            join_key(stored) if is_sealed(stored) else personal.pseudonym("representative", stored)
        )
        == "erased"
    ):
        return ERASED
    shown = personal.reveal(stored, where)
    return personal.reveal(shown, where) if is_sealed(shown) else shown
