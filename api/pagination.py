"""Paging, the same on every list: ``cursor`` and ``limit`` in, ``{items, next_cursor, has_more}``
out. The cursor itself (opaque, validated, one list's only) is ``projections/cursor.py``; a bad
one is 400 ``invalid-cursor`` (``api/problems.py``)."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from api.glossary import described
from projections.cursor import ALPHABET, MAX_CURSOR_LENGTH

MAX_PAGE = 1000

CursorParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_LENGTH,
        pattern=ALPHABET,
        description="The `next_cursor` of the previous page (opaque); omit it for the first page."
        " A cursor from another list, or altered, is 400 `invalid-cursor`.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Items per page, 1..{MAX_PAGE}.")]

Item = TypeVar("Item")


@described
class Page(BaseModel, Generic[Item]):
    """One page of a list, in the list's fixed order; its fields' meanings are the glossary's."""

    items: list[Item]
    next_cursor: str | None
    has_more: bool
    as_at_position: int | None = None


def page_of(items: list[Item], more: bool, cursor: str | None) -> dict[str, object]:
    """The envelope: ``cursor`` is the next page's, used only when there is one."""
    return {"items": items, "next_cursor": cursor if more else None, "has_more": more}
