"""One cursor for every list: an opaque, validated token naming a position in one list.

A cursor is URL-safe base64 (unpadded) of canonical JSON ``{"at": [...], "list": "...", "v": 1}``:
a version tag, the list it belongs to and a typed position (a tuple of ints and strings). It is
opaque to clients — they send back the ``next_cursor`` they got — and decoding trusts nothing:
the token's length and alphabet, the JSON, the version, the list and every field's type and range
are checked, so a cursor from another list, an altered one or one too large for the database
(an integer beyond 64 bits) is refused with ``InvalidCursorError`` (400 ``invalid-cursor``)
before any query runs. Only the canonical encoding of a position is accepted, so each position
has exactly one cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from ledger.errors import LedgerError

VERSION = 1
MAX_CURSOR_LENGTH = 512  # characters of the encoded token
ALPHABET = r"^[A-Za-z0-9_-]+$"
_TOKEN = re.compile(ALPHABET)
MAX_POSITION = 2**62  # log positions and sequence numbers fit a signed 64-bit column

Position = tuple[int | str, ...]


class InvalidCursorError(LedgerError):
    """A cursor that this list did not hand out (malformed, altered, or another list's)."""

    code = "invalid-cursor"
    title = "The cursor is not valid"


@dataclass(frozen=True)
class Int:
    """An integer field in ``lo..hi`` (never a bool, never a float)."""

    lo: int = 0
    hi: int = MAX_POSITION

    def admits(self, value: object) -> bool:
        return type(value) is int and self.lo <= value <= self.hi


@dataclass(frozen=True)
class Text:
    """A string field matching ``pattern`` (anchored), at most ``max_length`` characters."""

    pattern: str
    max_length: int = 64

    def admits(self, value: object) -> bool:
        return (
            isinstance(value, str)
            and len(value) <= self.max_length
            and re.fullmatch(self.pattern, value) is not None
        )


@dataclass(frozen=True)
class Tag:
    """A fixed string naming which kind of position follows (e.g. a phase of a list)."""

    value: str

    def admits(self, value: object) -> bool:
        return value == self.value


Field = Int | Text | Tag
Shape = tuple[Field, ...]
UUID_TEXT = Text(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", 36)


@dataclass(frozen=True)
class CursorKind:
    """The cursors of one list: its name and the shapes a position of it may take."""

    list_name: str
    shapes: tuple[Shape, ...]

    def fits(self, position: Position) -> bool:
        return any(
            len(shape) == len(position)
            and all(f.admits(v) for f, v in zip(shape, position, strict=True))
            for shape in self.shapes
        )

    def encode(self, *position: int | str) -> str:
        """The token for ``position`` (a programming error if it does not fit this list)."""
        if not self.fits(position):
            raise ValueError(f"{position!r} is not a position of list {self.list_name}")
        return _encode(self.list_name, position)

    def decode(self, token: str | None) -> Position | None:
        """The position a token names (None for no token), or ``InvalidCursorError``."""
        if token is None:
            return None
        position = _decode_position(token, self.list_name)
        if (
            position is None
            or not self.fits(position)
            or _encode(self.list_name, position) != token
        ):
            raise InvalidCursorError(
                f"not a cursor of this list ({self.list_name}): send the next_cursor you got",
                field="cursor",
            )
        return position


def _encode(list_name: str, position: Position) -> str:
    document = {"at": list(position), "list": list_name, "v": VERSION}
    canonical = json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    return base64.urlsafe_b64encode(canonical.encode("ascii")).decode("ascii").rstrip("=")


def _decode_position(token: str, list_name: str) -> Position | None:
    """The token's position if it is a well-formed cursor of ``list_name``, else None."""
    if not (isinstance(token, str) and 0 < len(token) <= MAX_CURSOR_LENGTH and _TOKEN.match(token)):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        document: Any = json.loads(raw.decode("ascii"), parse_constant=_refuse)
    except (binascii.Error, ValueError, RecursionError):  # not base64/ASCII/JSON; 5000 digits
        return None
    well_formed = (
        isinstance(document, dict)
        and set(document) == {"at", "list", "v"}
        and type(document["v"]) is int
        and document["v"] == VERSION
        and document["list"] == list_name
        and isinstance(document["at"], list)
    )
    return tuple(document["at"]) if well_formed else None


def _refuse(constant: str) -> None:
    raise ValueError(f"{constant} is not a cursor value")
