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
from typing import Any

from eventsourcing.domain import Snapshot

TUPLE, FROZENSET, ITEMS = "__tuple__", "__frozenset__", "__items__"
TAGS = (TUPLE, FROZENSET, ITEMS)


def tag(value: Any) -> Any:
    """``value`` with every tuple, frozenset and non-text-keyed dict marked, recursively."""
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {TUPLE: [tag(v) for v in value]}
    if isinstance(value, frozenset | set):
        return {FROZENSET: [tag(v) for v in value]}
    if isinstance(value, list):
        return [tag(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not any(k in TAGS for k in value):
            return {k: tag(v) for k, v in value.items()}
        return {ITEMS: [[tag(k), tag(v)] for k, v in value.items()]}
    return value


def untag(value: Any) -> Any:
    """The inverse of ``tag``."""
    if isinstance(value, list):
        return [untag(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and TUPLE in value:
            return tuple(untag(v) for v in value[TUPLE])
        if len(value) == 1 and FROZENSET in value:
            return frozenset(untag(v) for v in value[FROZENSET])
        if len(value) == 1 and ITEMS in value:
            return {untag(k): untag(v) for k, v in value[ITEMS]}
        return {k: untag(v) for k, v in value.items()}
    return value


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
