"""The projection runner: catches views up with the event log, a page of events per transaction.

Each view has its own tracking row, written in the same transaction as its rows, so a view is
exactly in step with the position it records. Rows are locked (PostgreSQL ``FOR UPDATE``;
SQLite ``BEGIN IMMEDIATE``) so two workers at once never apply a page twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from threading import Event
from typing import Any, Protocol

import structlog
from eventsourcing.persistence import Notification

from ledger.application import CareLedger
from projections.db import SqlCursor, ViewDb
from projections.refs import RefsView

log = structlog.get_logger()

DEFAULT_PAGE_SIZE = 1000
TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS careledger_view_tracking ("
    " view TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


@dataclass(frozen=True)
class Item:
    """One event of the log: its position, its stored form and the domain event."""

    position: int
    notification: Notification
    event: Any


class View(Protocol):
    name: str
    tables: tuple[str, ...]

    def create(self, cur: SqlCursor) -> None: ...

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None: ...


class Runner:
    """Runs views over the log of one CareLedger application."""

    def __init__(
        self,
        app: CareLedger,
        db: ViewDb,
        views: Sequence[View],
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.app = app
        self.db = db
        self.refs = RefsView()
        self.views: list[View] = [self.refs, *views]
        self.page_size = page_size
        self.setup()

    def view(self, name: str) -> View:
        for view in self.views:
            if view.name == name:
                return view
        raise KeyError(name)

    def setup(self) -> None:
        with self.db.transaction() as cur:
            cur.execute(TRACKING_DDL)
            for view in self.views:
                view.create(cur)
                cur.execute(
                    "INSERT INTO careledger_view_tracking (view, position) VALUES (?, 0)"
                    " ON CONFLICT (view) DO NOTHING",
                    (view.name,),
                )

    def positions(self, cur: SqlCursor | None = None) -> dict[str, int]:
        sql = "SELECT view, position FROM careledger_view_tracking"
        if cur is None:
            rows = self.db.query(sql)
        else:
            if self.db.dialect == "postgres":
                sql += " ORDER BY view FOR UPDATE"
            rows = cur.execute(sql).fetchall()
        return {r["view"]: int(r["position"]) for r in rows}

    def step(self, stop: int | None = None) -> int:
        """Apply one page of events to every view behind; returns how many events were read."""
        with self.db.transaction() as cur:
            self.refs.use(cur)
            positions = self.positions(cur)
            start = min(positions.get(v.name, 0) for v in self.views)
            if stop is not None and start >= stop:
                return 0
            notifications = self.app.recorder.select_notifications(
                start + 1, self.page_size, stop=stop
            )
            if not notifications:
                return 0
            items = [Item(n.id, n, self.app.mapper.to_domain_event(n)) for n in notifications]
            head = items[-1].position
            for view in self.views:
                behind = [i for i in items if i.position > positions.get(view.name, 0)]
                if behind:
                    view.project(cur, behind, self.refs)
                    cur.execute(
                        "UPDATE careledger_view_tracking SET position = ? WHERE view = ?",
                        (head, view.name),
                    )
            return len(items)

    def catch_up(
        self, stop: int | None = None, on_page: Callable[[int], None] | None = None
    ) -> int:
        """Process pages until every view reaches ``stop`` (default: the head of the log)."""
        total = 0
        while count := self.step(stop):
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

    def rebuild(self, names: Sequence[str], on_page: Callable[[int], None] | None = None) -> int:
        """Drop the named views (refs is rebuilt with them), recreate them empty, catch up."""
        views = [self.view(n) for n in names]
        with self.db.transaction() as cur:
            for view in views:
                for table in view.tables:
                    cur.execute(f"DROP TABLE IF EXISTS {table}")
                view.create(cur)
                cur.execute(
                    "UPDATE careledger_view_tracking SET position = 0 WHERE view = ?", (view.name,)
                )
        return self.catch_up(on_page=on_page)

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
