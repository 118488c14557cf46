"""Real server and worker processes for the reliability tests: started, killed, restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from scripts.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[2]


def cli(
    args: Sequence[str], url: str, *, inline: bool = True, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """``careledger <args>`` as its own process group against ``url``."""
    env = {**os.environ, "CARELEDGER_DATABASE_URL": url,
           "CARELEDGER_INLINE_PROJECTIONS": "true" if inline else "false",
           "CARELEDGER_LOG_JSON": "true"}  # fmt: skip
    out = log.open("ab") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "scripts.cli", *args],
        cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True,
    )  # fmt: skip


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become healthy")


def kill9(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything it started (uvicorn workers too)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@contextmanager
def server(
    url: str, *, inline: bool = True, workers: int = 1, log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A running ``careledger serve``; yields its base URL and process, killed on exit."""
    port = free_port()
    args = ["serve", "--port", str(port)] + (["--workers", str(workers)] if workers > 1 else [])
    process = cli(args, url, inline=inline, log=log)
    try:
        wait_healthy(port, process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        kill9(process)
