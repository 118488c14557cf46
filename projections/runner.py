"""The projection runner: catches views up with the event log, a page of events per transaction.

Each view has its own tracking row, written in the same transaction as its rows, so a view is
exactly in step with the position it records. Rows are locked (PostgreSQL ``FOR UPDATE``;
SQLite ``BEGIN IMMEDIATE``) so two workers at once never apply a page twice. A page is read and
decoded before the lock is taken: events never change, and the lock is then held only while
views write.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Event, Lock
from typing import Any, Protocol

import structlog
from eventsourcing.persistence import Notification

from ledger.application import CareLedger
from projections import history
from projections.db import SqlCursor, ViewDb
from projections.refs import RefsView

log = structlog.get_logger()

DEFAULT_PAGE_SIZE = 1000
REBUILD_PAGE_SIZE = 10_000  # a rebuild commits less often; a page is some 40 MB of memory
TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS careledger_view_tracking ("
    " view TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)
REFS_POLL = 0.01  # seconds between looks at refs' position, for a runner that follows it
# A catch-up allocates millions of short-lived objects and few cycles: collect less often.
GC_THRESHOLD = 50_000


@dataclass(frozen=True, slots=True)
class Item:
    """One event of the log: its position, its stored form, the domain event and its
    aggregate's id as text (views key their rows by it; converted once, not once a view).
    ``stamp``: where what it changes becomes true in a view's history — the last position of
    the page's events recorded at its instant (None when the runner keeps no history)."""

    position: int
    notification: Notification
    event: Any
    aggregate_id: str
    stamp: int | None = None


class View(Protocol):
    name: str
    tables: tuple[str, ...]
    # CREATE INDEX statements for readers only (the view never reads through them while it
    # projects): a rebuild builds them once at the end instead of row by row.
    indexes: tuple[str, ...]

    def create(self, cur: SqlCursor) -> None: ...

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None: ...


class Runner:
    """Runs views over the log of one CareLedger application.

    Every view looks aggregates up in ``refs``, which the runner projects first. A runner that
    ``follow_refs`` leaves refs to another process (a parallel rebuild's, ``projections.parallel``):
    it learns what its pages create, reads older aggregates from refs, and waits for refs to get
    past a page's start before reading it. ``create=False`` leaves the tables as they are;
    ``indexes=False`` builds none of the readers' indexes (a scratch replay only compared).
    """

    def __init__(
        self,
        app: CareLedger,
        db: ViewDb,
        views: Sequence[View],
        page_size: int | None = None,
        *,
        follow_refs: bool = False,
        create: bool = True,
        keep_history: bool = True,
        indexes: bool = True,
    ) -> None:
        self.app = app
        self.db = db
        self.refs = RefsView()
        self.follow_refs = follow_refs
        self.views: list[View] = [*views] if follow_refs else [self.refs, *views]
        self.page_size = page_size
        # Live views keep their history (``projections.history``); a scratch replay needs none.
        self.keep_history = keep_history
        # Readers' indexes (a scratch replay that is only compared builds none).
        self.indexes = indexes
        self._catching_up = Lock()
        if create:
            self.setup()

    def view(self, name: str) -> View:
        for view in self.views:
            if view.name == name:
                return view
        raise KeyError(name)

    def setup(self) -> None:
        with self.db.schema_transaction() as cur:
            cur.execute(TRACKING_DDL)
            if self.keep_history:
                history.setup(cur)
            for view in self.views:
                if self.keep_history and _lacks_history(cur, view):
                    _drop(cur, view)  # built before history was kept: rebuilt from the log
                view.create(cur)
                self._keep_history(cur, view)
                self._indexes(cur, view)
                cur.execute(
                    "INSERT INTO careledger_view_tracking (view, position) VALUES (?, 0)"
                    " ON CONFLICT (view) DO NOTHING",
                    (view.name,),
                )
        history.forget_tables(self.db)  # read again once the new tables are committed

    def positions(self, cur: SqlCursor | None = None) -> dict[str, int]:
        """Every view's position; inside a transaction (``cur``), this runner's views' positions,
        their rows locked."""
        sql = "SELECT view, position FROM careledger_view_tracking"
        if cur is None:
            rows = self.db.query(sql)
        else:
            names = [v.name for v in self.views]
            sql += f" WHERE view IN ({', '.join('?' * len(names))})"
            if self.db.dialect == "postgres":
                sql += " ORDER BY view FOR UPDATE"
            rows = cur.execute(sql, names).fetchall()
        return {r["view"]: int(r["position"]) for r in rows}

    def step(self, stop: int | None = None, page_size: int | None = None) -> int:
        """Apply one page of events to every view behind; returns how many events were read."""
        while True:
            start = self._start()
            if stop is not None and start >= stop:
                return 0
            if self.follow_refs:
                self._wait_for_refs(start)
            items = self._read(start, page_size or self.page_size or DEFAULT_PAGE_SIZE, stop)
            if not items:
                return 0
            if self._apply(items, start):
                return len(items)

    def _start(self) -> int:
        """Where the next page begins: after the position of the view furthest behind."""
        positions = self.positions()
        return min(positions.get(v.name, 0) for v in self.views)

    def _wait_for_refs(self, start: int) -> None:
        while self.positions().get(self.refs.name, 0) < start:
            time.sleep(REFS_POLL)

    def _read(self, start: int, size: int, stop: int | None) -> list[Item]:
        """Up to ``size`` events after ``start``, decoded (and stamped, keeping history)."""
        notifications = self.app.recorder.select_notifications(start + 1, size, stop=stop)
        decoded: list[tuple[Notification, Any]] = [
            (n, self.app.mapper.to_domain_event(n)) for n in notifications
        ]
        stamps: Sequence[int | None] = [None] * len(decoded)
        if self.keep_history:
            stamps = history.stamps([e.timestamp for _, e in decoded], [n.id for n, _ in decoded])
        return [
            Item(n.id, n, e, str(n.originator_id), stamp)
            for (n, e), stamp in zip(decoded, stamps, strict=True)
        ]

    def _apply(self, items: list[Item], start: int) -> bool:
        """Project ``items`` (read after ``start``) in one transaction; False if a view has since
        moved back before ``start`` (another process is rebuilding it): read the page again."""
        with self.db.transaction() as cur:
            self.refs.use(cur)
            positions = self.positions(cur)
            if min(positions.get(v.name, 0) for v in self.views) < start:
                return False
            self.refs.learn(items)
            self.refs.prefetch(items)
            head = items[-1].position
            for view in self.views:
                behind = _after(items, positions.get(view.name, 0))
                if not behind:
                    continue
                if not (self.keep_history and _by_instant(view)):
                    view.project(cur, behind, self.refs)  # the page at once
                    continue
                # Its triggers stamp rows with the clock: each instant's events apart.
                for run in history.runs_by_instant(behind):
                    history.set_clock(cur, int(run[-1].stamp or 0))
                    view.project(cur, run, self.refs)
            for view in self.views:
                if _after(items, positions.get(view.name, 0)):
                    cur.execute(
                        "UPDATE careledger_view_tracking SET position = ? WHERE view = ?",
                        (head, view.name),
                    )
            return True

    def catch_up(
        self,
        stop: int | None = None,
        on_page: Callable[[int], None] | None = None,
        page_size: int | None = None,
    ) -> int:
        """Process pages until every view reaches ``stop`` (default: the head of the log)."""
        total = 0
        # One catch-up at a time in a process: the others wait here holding no connection, so
        # concurrent requests (inline mode) cannot fill the views' pool with waiters on each
        # other's tracking-row locks and starve token lookups.
        with self._catching_up, _fewer_collections():
            while count := self.step(stop, page_size):
                total += count
                if on_page is not None:
                    on_page(count)
        return total

    def follow(
        self,
        interval: float = 1.0,
        until: Event | None = None,
        on_page: Callable[[int], None] | None = None,
    ) -> None:
        """Keep catching up (a worker process). Woken by the store's notifications on
        PostgreSQL; polls every ``interval`` seconds otherwise and as a fallback."""
        until = until or Event()
        while not until.is_set():
            try:
                if self.catch_up(on_page=on_page):
                    continue
            except Exception as error:  # keep the worker alive through a database restart
                log.warning("projections.catch_up_failed", error=type(error).__name__)
                until.wait(interval)
                continue
            self.db.wait_for_events(interval)

    def reset(self, names: Sequence[str]) -> list[View]:
        """Drop the named views and recreate them empty, at position 0, without their readers'
        indexes (``finish`` adds those once the views have caught up)."""
        views = [self.view(n) for n in names]
        with self.db.schema_transaction() as cur:
            for view in views:
                _drop(cur, view)
                view.create(cur)
                self._keep_history(cur, view)
                cur.execute(
                    "UPDATE careledger_view_tracking SET position = 0 WHERE view = ?", (view.name,)
                )
        history.forget_tables(self.db)  # read again once the new tables are committed
        return views

    def _keep_history(self, cur: SqlCursor, view: View) -> None:
        if not (self.keep_history and _kept(view)):
            return
        row = cur.execute(
            "SELECT position FROM careledger_view_tracking WHERE view = ?", (view.name,)
        ).fetchone()
        append_only = _append_only(view)
        for table in view.tables:
            if table in getattr(view, "history_free", ()):
                history.drop_history(cur, table)
                continue
            if table in append_only:
                history.keep_by_position(cur, table, append_only[table])
                continue
            history.keep_history(cur, table, triggers=table not in _writes_versions(view))
            if row is None or int(row["position"]) == 0:  # projected again from the start
                history.clear_history(cur, table)

    def _indexes(self, cur: SqlCursor, view: View) -> None:
        """The view's readers' indexes, and each again on its table's versions."""
        if not self.indexes:
            return
        versioned = _versioned(view) if self.keep_history else ()
        for statement in view.indexes:
            cur.execute(statement)
            for mirrored in history.mirrored_index(statement, versioned):
                cur.execute(mirrored)

    def finish(self, views: Sequence[View]) -> None:
        """Build the readers' indexes of rebuilt views."""
        with self.db.transaction() as cur:
            for view in views:
                self._indexes(cur, view)

    def rebuild(self, names: Sequence[str], on_page: Callable[[int], None] | None = None) -> int:
        """Drop the named views, recreate them empty and catch up (refs is rebuilt only when
        named; the other views read it as it stands)."""
        views = self.reset(names)
        try:
            return self.catch_up(on_page=on_page, page_size=self.page_size or REBUILD_PAGE_SIZE)
        finally:
            self.finish(views)

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def wait_until_caught_up(self, timeout: float = 10.0) -> None:
        """Wait (without projecting) until some worker has brought every view to the head."""
        deadline = time.monotonic() + timeout
        head = self.head()
        while min(self.positions().values()) < head:
            if time.monotonic() > deadline:
                raise TimeoutError(f"views did not reach position {head}")
            time.sleep(0.02)


def _after(items: Sequence[Item], position: int) -> Sequence[Item]:
    """The items after ``position`` (items are in position order)."""
    if position < items[0].position:
        return items
    return [i for i in items if i.position > position]


def _kept(view: View) -> bool:
    """Whether ``view`` keeps its history (every view, unless it says ``history = False``)."""
    return bool(getattr(view, "history", True))


def _append_only(view: View) -> dict[str, str]:
    """The view's append-only tables and the column holding each row's log position: their
    history is their rows up to a position (e.g. ``append_only = (("v_audit", "position"),)``)."""
    return dict(getattr(view, "append_only", {}))


def _writes_versions(view: View) -> tuple[str, ...]:
    """The view's tables whose versions it writes itself, from each event's ``stamp``
    (``projections.versions``): they have no triggers."""
    return tuple(getattr(view, "writes_versions", ()))


def _by_instant(view: View) -> bool:
    """Whether ``view`` must be handed a page one recorded instant at a time: it has tables
    versioned by triggers and does not set the clock itself (``stamps_itself``)."""
    if getattr(view, "stamps_itself", False):
        return False
    return any(t not in _writes_versions(view) for t in _versioned(view))


def _versioned(view: View) -> list[str]:
    """The view's tables that keep every version of their rows."""
    free = (*_append_only(view), *getattr(view, "history_free", ()))
    return [t for t in view.tables if t not in free] if _kept(view) else []


def _lacks_history(cur: SqlCursor, view: View) -> bool:
    """A view built by a release that kept no history: it is projected again from the log."""
    return any(history.lacks_history(cur, t) for t in _versioned(view))


def _drop(cur: SqlCursor, view: View) -> None:
    """Drop a view's tables and their history, back to position 0."""
    for table in view.tables:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        history.drop_history(cur, table)
    cur.execute("UPDATE careledger_view_tracking SET position = 0 WHERE view = ?", (view.name,))


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold while catching up, then restore it."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], GC_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
