"""The one cursor every list uses: it round-trips a typed position, and refuses anything it did
not hand out — another list's, an altered one, a wrong type, an out-of-range number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.cursor import (
    MAX_CURSOR_LENGTH,
    MAX_POSITION,
    UUID_TEXT,
    CursorKind,
    Int,
    InvalidCursorError,
    Tag,
    Text,
)
from tests.forged import forge

LOG = CursorKind("audit", ((Int(),),))
PHASED = CursorKind("phased", ((Tag("s"), Int(), Int()), (Tag("r"), UUID_TEXT)))
BUDGET = "0b8f5f9e-2c1d-5a57-9d1e-4c9f0a6b7e21"


@given(st.integers(0, MAX_POSITION), st.integers(0, MAX_POSITION))
def test_a_position_round_trips_through_its_cursor(position: int, seq: int) -> None:
    token = PHASED.encode("s", position, seq)

    assert PHASED.decode(token) == ("s", position, seq)
    assert len(token) <= MAX_CURSOR_LENGTH
    assert token.replace("-", "").replace("_", "").isalnum()


def test_no_cursor_means_the_first_page() -> None:
    assert LOG.decode(None) is None


def test_prefers_refusing_another_lists_cursor() -> None:
    other = CursorKind("invoices", ((Int(),),))

    with pytest.raises(InvalidCursorError) as refused:
        LOG.decode(other.encode(7))
    assert refused.value.code == "invalid-cursor"


@pytest.mark.parametrize(
    ("kind", "token"),
    [
        (LOG, forge("audit", [99999999999999999999999])),  # beyond 64 bits
        (LOG, forge("audit", [-1])),
        (LOG, forge("audit", [1.0])),
        (LOG, forge("audit", [True])),
        (LOG, forge("audit", ["1"])),
        (LOG, forge("audit", [1, 2])),
        (LOG, forge("audit", [])),
        (LOG, forge("audit", 1)),
        (LOG, forge("audit", [1], version=2)),
        (LOG, forge("audit", [1], version="1")),
        (PHASED, forge("phased", ["r", "not-a-uuid"])),
        (PHASED, forge("phased", ["s", 1])),
        (PHASED, forge("phased", ["x", 1, 2])),
        (LOG, "eyJhdCI6WzFd"),  # cut short
        (LOG, "!!!!"),
        (LOG, "a"),
        (LOG, "A" * (MAX_CURSOR_LENGTH + 4)),
        (LOG, "bnVsbA"),  # null
        (LOG, "WzEsMl0"),  # [1,2]
        (LOG, "eyJhdCI6WzFdLCJsaXN0IjoiYXVkaXQiLCJ2IjoxLCJ4IjoxfQ"),  # an extra member
        (LOG, "eyJ2IjoxLCJsaXN0IjoiYXVkaXQiLCJhdCI6WzFdfQ"),  # same members, not canonical
        (LOG, "eyJhdCI6W05hTl0sImxpc3QiOiJhdWRpdCIsInYiOjF9"),  # NaN
        (LOG, "WyIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIi"),
    ],
)
def test_refuses_a_cursor_it_did_not_hand_out(kind: CursorKind, token: str) -> None:
    with pytest.raises(InvalidCursorError):
        kind.decode(token)


def test_encoding_a_position_the_list_cannot_hold_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a position"):
        LOG.encode(-1)
    with pytest.raises(ValueError, match="not a position"):
        PHASED.encode("r", "x" * 40)


def test_text_fields_are_anchored_and_bounded() -> None:
    field = Text(r"[a-z]+", 3)

    assert [field.admits(v) for v in ("abc", "abcd", "ab1", "", 5)] == [
        True,
        False,
        False,
        False,
        False,
    ]
    assert PHASED.decode(PHASED.encode("r", BUDGET)) == ("r", BUDGET)
