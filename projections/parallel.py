"""A rebuild split over processes (``careledger rebuild --jobs N``).

Views are independent given their own tracking rows, so each process rebuilds a group of them,
balanced by how much work a view does per event, up to the head of the log when the rebuild
began; the calling process then builds the readers' indexes and catches every view up with what
arrived meanwhile. Every view looks aggregates up in refs: the process whose group holds refs
projects it, the others follow it (``Runner(follow_refs=True)``).

On PostgreSQL the groups write side by side. SQLite admits one writer at a time, so there only
reading and decoding overlap with the other process's writing. Every process reads and
decodes the whole log, so it pays only with a core to spare: on two idle cores a million-event
rebuild took 80 s instead of 136 s on PostgreSQL, 101 s instead of 113 s on SQLite; on a busy
machine it can be slower than one process.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.queues import SimpleQueue
from typing import Any

from ledger.application import CareLedger
from projections.db import open_view_db
from projections.personal import KeyStore
from projections.refs import CACHE_SIZE
from projections.runner import REBUILD_PAGE_SIZE, Runner, View
from projections.views.people import PeopleView

# Each view's share of a rebuild's work, from a profile of a synthetic year (relative CPU per
# event); a view not listed counts as a light one.
WEIGHTS = {
    "balances": 21,
    "invoices": 20,
    "audit": 15,
    "merkle": 6,
    "spend": 6,
    "refs": 5,
    "exceptions": 3,
    "journal": 2,
    "progress": 2,
}
LIGHT = 2
POLL = 0.2  # seconds between looks at the children's progress

PAGE_SIZE = min(REBUILD_PAGE_SIZE, CACHE_SIZE // 2)  # a follower caches a whole page's refs


class RebuildFailedError(RuntimeError):
    """A process of a parallel rebuild failed; the views it was rebuilding are incomplete."""


def groups(views: Sequence[View], jobs: int) -> list[list[View]]:
    """``views`` in at most ``jobs`` groups of about equal weight (heaviest first, each to the
    lightest group so far), empty groups left out."""
    loads: list[tuple[int, list[View]]] = [(0, []) for _ in range(max(1, jobs))]
    for view in sorted(views, key=lambda v: -WEIGHTS.get(v.name, LIGHT)):
        index = min(range(len(loads)), key=lambda i: loads[i][0])
        weight, group = loads[index]
        loads[index] = (weight + WEIGHTS.get(view.name, LIGHT), [*group, view])
    return [group for _, group in loads if group]


def database_is_memory(holder: Any) -> bool:
    """Whether ``holder``'s (a runner's or a service's) views live in this process's memory."""
    return getattr(holder.db, "path", None) == ":memory:"


def rebuild_in_processes(
    runner: Runner,
    names: Sequence[str],
    jobs: int,
    on_page: Callable[[int], None] | None = None,
) -> int:
    """Rebuild the named views in up to ``jobs`` processes; returns how many events each read
    (the log up to its head when the rebuild began) plus any caught up with since."""
    if database_is_memory(runner):
        raise ValueError("a rebuild in several processes needs a database file or PostgreSQL")
    views = runner.reset(names)
    stop = runner.head()
    if runner.refs not in views:
        Runner(runner.app, runner.db, [], create=False).catch_up(stop=stop)  # followers wait on it
    context = multiprocessing.get_context("spawn")
    counts: SimpleQueue[int] = context.SimpleQueue()
    processes = [
        context.Process(
            target=_rebuild_group,
            args=(
                runner.app.database_url,
                [type(v) for v in group if v is not runner.refs],
                stop,
                counts,
            ),
            kwargs={"follow_refs": runner.refs not in group},
            name=f"careledger-rebuild-{'+'.join(v.name for v in group)}",
        )
        for group in groups(views, jobs)
    ]
    try:
        for process in processes:
            process.start()
        _watch(runner, views, processes, on_page)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        runner.finish(views)
    read = max(counts.get() for _ in processes)
    return read + runner.catch_up(on_page=on_page)


def _watch(
    runner: Runner,
    views: Sequence[View],
    processes: Sequence[BaseProcess],
    on_page: Callable[[int], None] | None,
) -> None:
    """Wait for every process; report the slowest view's progress; fail at the first failure."""
    reported = 0
    while True:
        failed = [p for p in processes if p.exitcode not in (None, 0)]
        if failed:
            raise RebuildFailedError(f"{failed[0].name} exited with code {failed[0].exitcode}")
        positions = runner.positions()
        position = min(positions.get(v.name, 0) for v in views)
        if on_page is not None and position > reported:
            on_page(position - reported)
            reported = position
        if all(p.exitcode == 0 for p in processes):
            return
        time.sleep(POLL)


def _rebuild_group(
    database_url: str,
    view_types: Sequence[type[Any]],
    stop: int,
    counts: SimpleQueue[int],
    *,
    follow_refs: bool,
) -> None:
    """One process of a parallel rebuild: its group of views (already reset) up to ``stop``."""
    # The calling process made the tables; made again here, two processes at once would race
    # on the store's CREATE OR REPLACE FUNCTION ("tuple concurrently updated").
    app = CareLedger(database_url, env={"CREATE_TABLE": "no"})
    db = open_view_db(database_url)
    keys = KeyStore.open(database_url, db)  # v_people's pseudonyms, as in the main process
    try:
        views = [t(keys) if t is PeopleView else t() for t in view_types]
        runner = Runner(app, db, views, follow_refs=follow_refs, create=False)
        counts.put(runner.catch_up(stop=stop, page_size=PAGE_SIZE))
    finally:
        keys.close()
        db.close()
        app.close()
