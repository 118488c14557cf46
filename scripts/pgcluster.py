"""A throwaway PostgreSQL cluster (and hot standbys of it) that the reliability tests and the
replica bench may stop, kill and restart at will.

``initdb`` into a temporary folder, its own port on 127.0.0.1, its unix socket in that folder,
trust authentication. initdb and postgres refuse to run as root, so as root they run as the
``postgres`` OS user (``Popen(user=...)``), in a folder handed to that user. The postmaster is
this process's own child, not a daemon ``pg_ctl`` forks off: once SIGKILLed it is reaped at once,
where an orphan's zombie kept ``postmaster.pid`` "in use" and the next start failed. Without the
binaries it raises ``ClusterUnavailableError`` (the tests skip on it, or fail when
``CARELEDGER_REQUIRE_POSTGRES=1``, as in CI: ``tests/reliability/pgcluster.py``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import psycopg

BIN = Path(os.environ.get("CARELEDGER_PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"
SHUTDOWN_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


class ClusterUnavailableError(RuntimeError):
    """No PostgreSQL binaries here, or no OS user to run them as."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One cluster in its own folder: ``start``, ``stop``, ``kill9``, ``restart``, ``url``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    # --- running the binaries ----------------------------------------------------------------

    def _as_server_user(self) -> dict[str, Any]:
        """Popen arguments that drop root to the server's OS user (initdb refuses root)."""
        if os.geteuid() != 0:
            return {}
        return {"user": OS_USER, "group": OS_USER, "extra_groups": []}

    def init(self) -> PgCluster:
        subprocess.run(  # noqa: S603 - the PostgreSQL binaries, our own arguments
            [str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
             "--no-sync"],
            check=True, timeout=120, capture_output=True, cwd=self.folder,
            **self._as_server_user(),
        )  # fmt: skip
        return self._configured()

    def standby_of(self, primary: PgCluster) -> PgCluster:
        """A hot standby of ``primary``: its base backup, streaming from it (``-R`` writes
        ``standby.signal`` and ``primary_conninfo``), on this cluster's own port."""
        subprocess.run(  # noqa: S603 - the PostgreSQL binaries, our own arguments
            [str(BIN / "pg_basebackup"), "-D", str(self.data), "-h", "127.0.0.1",
             "-p", str(primary.port), "-U", "postgres", "-R", "-X", "stream", "--no-sync",
             "--checkpoint=fast"],
            check=True, timeout=120, capture_output=True, cwd=self.folder,
            **self._as_server_user(),
        )  # fmt: skip
        return self._configured()

    def _configured(self) -> PgCluster:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.folder}'",
            "fsync": "off",  # the OS survives our crashes; only the server process dies
            "max_connections": "100",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())
        return self

    def start(self) -> None:
        """Start the postmaster (crash recovery included) and wait until it accepts connections."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - the PostgreSQL server binary
                [str(BIN / "postgres"), "-D", str(self.data)],
                stdout=log, stderr=log, cwd=self.folder, start_new_session=True,
                **self._as_server_user(),
            )  # fmt: skip
        self.wait_ready()

    def stop(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        """PostgreSQL's shutdown modes by signal; ``immediate`` is a crash for the clients: no
        checkpoint, crash recovery on the next start."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(SHUTDOWN_SIGNALS[mode])
        self.process.wait(timeout=60)

    def kill9(self) -> None:
        """SIGKILL the postmaster, then wait for its orphaned backends to notice and exit."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 30
        while self._backends_alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        self.stop(mode)
        self.start()

    def _backends_alive(self) -> bool:
        """Any process still attached to this data folder (``postgres: ...`` children)."""
        target = str(self.data)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if (entry / "cwd").resolve() == Path(target):
                    return True
        return False

    # --- clients -----------------------------------------------------------------------------

    def url(self, dbname: str = "postgres", **options: str | int) -> str:
        """A CareLedger database URL for a database of this cluster."""
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}" + (
            f"?{query}" if query else ""
        )

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} connect_timeout=5"

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.conninfo(), autocommit=True) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"postgres exited: {self.log.read_text()[-2000:]}") from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def wait_replayed(self, primary: PgCluster, timeout: float = 60) -> None:
        """Wait until this standby has replayed everything ``primary`` had written when asked."""
        target = primary.sql("SELECT pg_current_wal_lsn()::text")[0]
        replayed = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        deadline = time.monotonic() + timeout
        while self.sql(replayed)[0] is not True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby did not replay the primary's WAL up to {target}")
            time.sleep(0.05)

    def sql(self, statement: str) -> Any:
        """One statement on the ``postgres`` database; its first row."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            return conn.execute(statement).fetchone()


def _owned_folder() -> Path:
    """A temporary folder the server's OS user owns (pytest's tmp_path is root-only)."""
    folder = Path(tempfile.mkdtemp(prefix="careledger-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(OS_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)
    return folder


def check_available() -> None:
    if not (BIN / "initdb").exists():
        raise ClusterUnavailableError(f"no initdb in {BIN} (set CARELEDGER_PG_BIN)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            raise ClusterUnavailableError(
                f"running as root and there is no {OS_USER!r} OS user for initdb"
            ) from None


@contextmanager
def throwaway_cluster(standby_of: PgCluster | None = None) -> Iterator[PgCluster]:
    """A started cluster, stopped (immediately) and deleted afterwards; ``standby_of``: a hot
    standby of that (started) cluster."""
    check_available()
    folder = _owned_folder()
    cluster = PgCluster(folder)
    cluster = cluster.standby_of(standby_of) if standby_of is not None else cluster.init()
    try:
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.stop("immediate")
            cluster.kill9()
        shutil.rmtree(folder, ignore_errors=True)
