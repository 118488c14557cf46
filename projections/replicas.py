"""Reads on PostgreSQL streaming replicas (``CARELEDGER_READ_DATABASE_URL``).

A hot standby kept in step by PostgreSQL's own streaming replication holds the same events, views,
keys and history as its primary, so any read route or console page can be answered from it. Nothing
here copies data: councils run the replication; this module only chooses where a read goes.

* A database's **position** is the lowest log position its views have applied (their tracking
  rows, which replicate with them).
* A read asking ``min_position`` (a write's ``CareLedger-Position``, or the caller's own last
  write) goes only to a database at or past it, waiting up to ``wait`` seconds for a standby to
  replay it; past that, ``ReplicaBehindError`` (503). A position the log has not reached is
  ``MinPositionAheadError`` (422).
* A standby is **fresh** while it shows what the primary's views showed ``max_lag`` seconds ago:
  a thread of this process samples the primary's and every standby's position every
  ``CHECK_EVERY`` seconds and times how long each position a standby lacks has existed (reads
  use the last samples: choosing a standby costs a read nothing). A standby behind by more, or not
  answering, is skipped; with none fresh, ``NoFreshReplicaError`` (503). Should the primary stop
  answering, standbys carry on serving what they had replayed by then (their lag is measured
  against the last position the primary was seen at).

Writes, tokens, console sessions and the integrity routes (verify, checkpoints, proofs, which
sign with the primary's key) stay on the primary.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from ledger.application import CareLedger
from ledger.errors import InvalidCommandError
from ledger.persistence import StoreUnavailableError, persistence_env
from projections.db import PgLimits, PostgresViewDb, ViewDb, bound_store_waits, postgres_conninfo
from projections.personal import KeyStore

if TYPE_CHECKING:
    from projections.service import LedgerService

log = structlog.get_logger()

CHECK_EVERY = 0.1  # seconds between samples of every database's position
POLL = 0.005  # while a read waits for a standby to replay its position
DOWN_RETRY = 1.0  # a standby that did not answer is asked again after this long
CONNECT_WAIT = 2  # seconds a read or the sampler waits for a connection to a standby, at most


class LedgerReads(Protocol):
    """What a read needs: the event store (aggregates as at a version), the views, the keys."""

    @property
    def app(self) -> CareLedger: ...

    @property
    def db(self) -> ViewDb: ...


class NotAStandbyError(Exception):
    """The database at a standby URL holds another log than the primary's."""


class NoFreshReplicaError(StoreUnavailableError):
    """Every standby is down or further behind the primary than the lag allowed."""

    def __init__(self, detail: str, standbys: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.standbys = standbys


class ReplicaBehindError(StoreUnavailableError):
    """No database had applied the position the read asked for within the wait."""

    def __init__(self, detail: str, min_position: int, position: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.min_position = min_position
        self.position = position


class MinPositionAheadError(InvalidCommandError):
    """``min_position`` is past the end of the log: no database will ever reach it."""

    code = "min-position-ahead"
    title = "No such position in the log yet"

    def __init__(self, min_position: int, head: int) -> None:
        super().__init__(
            f"min_position {min_position} is past the end of the log (it holds {head} events)",
            field="min_position",
            head=head,
        )


def views_position(db: ViewDb, views: Sequence[str]) -> int:
    """The lowest position ``views`` have applied in ``db`` (0 if any has not started)."""
    if not views:
        return 0
    marks = ", ".join("?" * len(views))  # placeholders only: the names are bound
    sql = "SELECT COUNT(*) AS n, MIN(position) AS p FROM careledger_view_tracking WHERE view IN"
    rows = db.query(f"{sql} ({marks})", list(views))
    return int(rows[0]["p"] or 0) if rows and int(rows[0]["n"]) == len(views) else 0


class Lag:
    """How long the primary's positions have waited on a standby, from samples of the primary.

    ``seen`` holds (when, position) each time the primary was seen further on. A standby at ``p``
    lags by the age of the first sample past ``p``: that position has existed at least so long
    (from this process's first sample: a process does not know what happened before it began).
    A sample goes once the one after it is older than ``keep``: a standby behind that one lags by
    more than ``keep`` whichever sample says so, so the answer only matters up to ``keep``."""

    def __init__(self, keep: float) -> None:
        self.keep = keep
        self.seen: deque[tuple[float, int]] = deque()

    def sample(self, when: float, position: int) -> None:
        if not self.seen or position > self.seen[-1][1]:
            self.seen.append((when, position))
        while len(self.seen) > 1 and when - self.seen[1][0] > self.keep:
            self.seen.popleft()

    def behind(self, position: int, now: float) -> float:
        """Seconds the standby at ``position`` has been behind (0: it shows all seen)."""
        for when, primary in self.seen:
            if primary > position:
                return now - when
        return 0.0


class Standby:
    """One standby: its event store and views, read-only, and what was last seen of it. Its
    event store is opened once it first answers (the library connects when it opens)."""

    def __init__(self, url: str) -> None:
        """Nothing waits on the standby here: one down at start is skipped until it answers. A
        read waits at most CONNECT_WAIT seconds for a connection to it (one that has just gone)."""
        self.url = url
        self.position = -1
        self.down: str | None = "not asked yet"
        self.asked = -1e9
        env = persistence_env(url)
        self._connect = str(min(int(env["POSTGRES_CONNECT_TIMEOUT"]) or CONNECT_WAIT, CONNECT_WAIT))
        self.conninfo, schema = postgres_conninfo(url)
        limits = PgLimits.from_env({**env, "POSTGRES_CONNECT_TIMEOUT": self._connect})
        self.db: ViewDb = PostgresViewDb(self.conninfo, schema, limits)
        self.keys = KeyStore.open(url, self.db, read_only=True)
        self._app: CareLedger | None = None

    @property
    def is_open(self) -> bool:
        return self._app is not None

    @property
    def app(self) -> CareLedger:
        if self._app is None:  # only a standby that answered is ever chosen
            raise StoreUnavailableError(f"the standby {redacted(self.url)} has not answered yet")
        return self._app

    def opened(self) -> None:
        """Open the standby's event store, read-only (no DDL), if not yet open."""
        if self._app is None:
            app = CareLedger(
                self.url, env={"CREATE_TABLE": "n", "POSTGRES_CONNECT_TIMEOUT": self._connect}
            )
            bound_store_waits(app)
            app.personal = self.keys
            self._app = app

    def close(self) -> None:
        self.keys.close()
        self.db.close()
        if self._app is not None:
            self._app.close()

    def reachable(self) -> bool:
        """Whether the standby accepts a connection now: asked on a connection of its own, so a
        standby that is down costs the sampler a refused connection, not a pool's wait."""
        import psycopg

        try:
            with psycopg.connect(
                self.conninfo, connect_timeout=CONNECT_WAIT, autocommit=True
            ) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as error:
            self.down = f"not answering ({type(error).__name__})"
            return False
        return True

    def shown(self) -> dict[str, Any]:
        return {"url": redacted(self.url), "position": max(self.position, 0), "down": self.down}


def redacted(url: str) -> str:
    """A database URL without its password, for logs and health answers."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def standby_urls(urls: str | None) -> list[str]:
    """The standby URLs of ``CARELEDGER_READ_DATABASE_URL`` (comma-separated), each checked:
    ``InvalidCommandError`` for one that is not a PostgreSQL URL or has an unknown option."""
    found = [u.strip() for u in (urls or "").split(",") if u.strip()]
    for url in found:
        if not url.startswith(("postgresql://", "postgres://")):
            raise InvalidCommandError(
                f"{redacted(url)} is not a PostgreSQL URL (standbys are PostgreSQL streaming"
                " replicas of the store)",
                field="read_database_url",
            )
        persistence_env(url)  # an unknown option: its own InvalidCommandError
    return found


class Reads:
    """Chooses the database a read goes to: the primary's own views, or a fresh standby."""

    def __init__(
        self,
        primary: LedgerService,
        standbys: Sequence[Standby] = (),
        *,
        max_lag: float = 5.0,
        wait: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.standbys = list(standbys)
        self.max_lag = max_lag
        self.wait = wait
        self.clock = clock
        self.views = [v.name for v in primary.runner.views]
        self.lag = Lag(keep=max(60.0, 10 * max_lag))
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None
        if self.standbys:
            self._check()
            self._sampler = threading.Thread(
                target=self._sample, name="careledger-replicas", daemon=True
            )
            self._sampler.start()

    @classmethod
    def open(
        cls, primary: LedgerService, urls: str | None, *, max_lag: float, wait: float
    ) -> Reads:
        """``urls``: none (reads on the primary), or one or more standby URLs, comma-separated."""
        found = standby_urls(urls)
        return cls(primary, [Standby(u) for u in found], max_lag=max_lag, wait=wait)

    def close(self) -> None:
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join(timeout=30)
        for standby in self.standbys:
            standby.close()

    # --- positions ---------------------------------------------------------------------------

    def _sample(self) -> None:
        while not self._stop.wait(CHECK_EVERY):
            self._check()

    def _check(self, *, standbys_only: bool = False) -> None:
        """Sample the primary's and every standby's position (a standby that did not answer:
        again after DOWN_RETRY seconds)."""
        with self._lock:
            now = self.clock()
            if not standbys_only:
                with contextlib.suppress(Exception):  # primary down: standbys keep serving
                    self.lag.sample(now, views_position(self.primary.db, self.views))
            for standby in self.standbys:
                if standby.down is not None and now - standby.asked < DOWN_RETRY:
                    continue
                standby.asked = now
                if standby.down is not None and not standby.reachable():
                    continue
                try:
                    standby.position = views_position(standby.db, self.views)
                    if not standby.is_open:
                        self._same_log(standby)
                    standby.opened()
                    if standby.down is not None:
                        log.info("replicas.standby_up", standby=redacted(standby.url))
                    standby.down = None
                except NotAStandbyError as error:
                    if standby.down != str(error):
                        log.error("replicas.not_a_standby", standby=redacted(standby.url))
                    standby.down = str(error)
                except Exception as error:
                    if standby.down is None:
                        log.warning("replicas.standby_down", standby=redacted(standby.url),
                                    error=type(error).__name__)  # fmt: skip
                    standby.down = f"not answering ({type(error).__name__})"

    def _same_log(self, standby: Standby) -> None:
        """The standby holds this store's log: its audit entry at its own position has the
        primary's hash (a URL pointing at another store would serve another ledger)."""
        at = standby.position
        if at <= 0:
            return
        sql = "SELECT hash FROM v_audit WHERE position = ?"
        theirs = standby.db.query(sql, (at,))
        ours = self.primary.db.query(sql, (at,))
        if theirs != ours:
            raise NotAStandbyError(f"not a standby of this store: its log differs at position {at}")

    def status(self) -> list[dict[str, Any]]:
        """Every standby: its position, how far behind, whether it is used."""
        now = self.clock()
        return [
            {**s.shown(), "behind_seconds": self._behind(s, now), "fresh": self._is_fresh(s, now)}
            for s in self.standbys
        ]

    def _behind(self, standby: Standby, now: float) -> float | None:
        """Seconds behind the primary; None while it does not answer."""
        return None if standby.down else self.lag.behind(standby.position, now)

    def _is_fresh(self, standby: Standby, now: float) -> bool:
        behind = self._behind(standby, now)
        return behind is not None and behind <= self.max_lag

    def _fresh(self) -> list[Standby]:
        now = self.clock()
        return [s for s in self.standbys if self._is_fresh(s, now)]

    # --- choosing ----------------------------------------------------------------------------

    def reader(self, min_position: int = 0) -> LedgerReads:
        """The database to read from: the primary when no standby is configured, else a fresh
        standby that has applied ``min_position`` (waiting up to ``wait`` seconds for one)."""
        if not self.standbys:
            return self._primary(min_position)
        deadline = None
        while True:
            fresh = self._fresh()
            if not fresh:
                raise NoFreshReplicaError(
                    f"no standby is within {self.max_lag:g} s of the primary", self.status()
                )
            ready = [s for s in fresh if s.position >= min_position]
            if ready:
                return ready[next(self._turn) % len(ready)]
            deadline = deadline or self._waiting(min_position)
            self._give_up_at(deadline, min_position, max(s.position for s in fresh), "no standby")
            time.sleep(POLL)
            self._check(standbys_only=True)

    def _primary(self, min_position: int) -> LedgerReads:
        """The primary's views (in worker mode they may trail the log: wait for them)."""
        if min_position <= 0:
            return self.primary
        deadline = None
        while (position := views_position(self.primary.db, self.views)) < min_position:
            deadline = deadline or self._waiting(min_position)
            self._give_up_at(deadline, min_position, position, "the views")
            time.sleep(POLL)
        return self.primary

    def _waiting(self, wanted: int) -> float:
        """Start waiting for ``wanted``: at once a 422 if the log has not reached it."""
        head = int(self.primary.app.recorder.max_notification_id() or 0)
        if wanted > head:
            raise MinPositionAheadError(wanted, head)
        return self.clock() + self.wait

    def _give_up_at(self, deadline: float, wanted: int, position: int, who: str) -> None:
        if self.clock() >= deadline:
            raise ReplicaBehindError(
                f"{who} had applied position {wanted} within {self.wait:g} s (at {position})",
                wanted,
                position,
            )
