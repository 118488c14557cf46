"""Throwaway PostgreSQL clusters for the tests (``scripts/pgcluster.py``): without the binaries
a test skips, or fails when ``CARELEDGER_REQUIRE_POSTGRES=1`` (CI)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from scripts import pgcluster
from scripts.pgcluster import ClusterUnavailableError, PgCluster

REQUIRE_POSTGRES = os.environ.get("CARELEDGER_REQUIRE_POSTGRES") == "1"

__all__ = ["PgCluster", "throwaway_cluster"]


def unavailable(reason: str) -> None:
    """Skip, or fail in CI where PostgreSQL tests must run."""
    if REQUIRE_POSTGRES:
        pytest.fail(f"CARELEDGER_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@contextmanager
def throwaway_cluster(standby_of: PgCluster | None = None) -> Iterator[PgCluster]:
    try:
        pgcluster.check_available()
    except ClusterUnavailableError as error:
        unavailable(str(error))
    with pgcluster.throwaway_cluster(standby_of) as cluster:
        yield cluster
