"""Snapshots that restore an aggregate exactly as a replay of its events would build it.

The library's snapshot stores the aggregate's attributes through the JSON transcoder, which
turns a tuple into a list and an ``int`` key into text: a budget restored from it would differ
from the same budget replayed (its plan a list, its entries keyed by text). Here the state is
tagged before it is stored — tuples, sets and dicts whose keys are not all text keep their kind —
and untagged when the aggregate is restored. Everything else goes through the transcoder as in
the events.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic, resolve_topic

TUPLE, FROZENSET, ITEMS, ENUM = "__tuple__", "__frozenset__", "__items__", "__enum__"
TAGS = (TUPLE, FROZENSET, ITEMS, ENUM)


def tag(value: Any) -> Any:
    """``value`` with every tuple, frozenset, enum member (a ``str`` enum would come back as
    plain text, and state is compared by identity: ``status is BudgetStatus.ACTIVE``) and
    non-text-keyed dict marked, recursively."""
    if isinstance(value, Enum):
        return {ENUM: [get_topic(type(value)), value.value]}
    if isinstance(value, frozenset | set) or (
        isinstance(value, tuple) and not hasattr(value, "_fields")
    ):
        return {TUPLE if isinstance(value, tuple) else FROZENSET: [tag(v) for v in value]}
    if isinstance(value, list):
        return [tag(v) for v in value]
    if not isinstance(value, dict):
        return value
    if all(isinstance(k, str) for k in value) and not any(k in TAGS for k in value):
        return {k: tag(v) for k, v in value.items()}
    return {ITEMS: [[tag(k), tag(v)] for k, v in value.items()]}


def untag(value: Any) -> Any:
    """The inverse of ``tag``."""
    if isinstance(value, list):
        return [untag(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and next(iter(value)) in TAGS:
        return _unmarked(*next(iter(value.items())))
    return {k: untag(v) for k, v in value.items()}


def _unmarked(mark: str, items: list[Any]) -> Any:
    if mark == ENUM:
        topic, member = items
        return resolve_topic(topic)(member)
    if mark == TUPLE:
        return tuple(untag(v) for v in items)
    if mark == FROZENSET:
        return frozenset(untag(v) for v in items)
    return {untag(k): untag(v) for k, v in items}


@dataclasses.dataclass(frozen=True)
class FaithfulSnapshot(Snapshot):
    """A snapshot whose state keeps tuples, sets and non-text keys (``tag``/``untag``)."""

    @classmethod
    def take(cls, aggregate: Any) -> FaithfulSnapshot:
        taken = super().take(aggregate)
        object.__setattr__(taken, "state", tag(taken.state))
        return taken

    def mutate(self, _: None) -> Any:
        return super(FaithfulSnapshot, dataclasses.replace(self, state=untag(self.state))).mutate(
            None
        )
