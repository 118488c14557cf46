"""Processes starting together on an empty PostgreSQL store all start (issue 11).

Every process that opens a store creates what is missing of its schema (event store, views,
tokens, refusals, tracking). Two at once used to collide in PostgreSQL's catalogue (``tuple
concurrently updated``) about one start in fourteen, and uvicorn then stopped the whole server.
The DDL now runs under one advisory lock: here several processes race on a fresh schema, round
after round, released together by a barrier; then real ``serve --workers 3`` servers start on
fresh schemas.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Barrier

import httpx
import psycopg
import pytest

from api.auth import TokenStore
from projections.service import LedgerService
from tests.conftest import POSTGRES_URL
from tests.reliability.servers import server

ROUNDS, RACERS = 15, 3


@contextmanager
def fresh_schema() -> Iterator[str]:
    """An empty schema of its own, as a CareLedger database URL."""
    schema = f"race_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def open_like_a_worker(url: str, barrier: Barrier) -> None:
    """What a server worker does as it starts: open the store (creating what is missing)."""
    barrier.wait(timeout=20)
    service = LedgerService(url)
    try:
        TokenStore(service.db)
    finally:
        service.close()


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_processes_opening_an_empty_store_together_all_open_it(postgres_url: str) -> None:
    context = multiprocessing.get_context("fork")  # the modules are imported once, here
    failed_rounds = []
    for round_ in range(ROUNDS):
        with fresh_schema() as url:
            barrier = context.Barrier(RACERS)
            racers = [
                context.Process(target=open_like_a_worker, args=(url, barrier))
                for _ in range(RACERS)
            ]
            for racer in racers:
                racer.start()
            for racer in racers:
                racer.join(timeout=30)
            codes = [racer.exitcode for racer in racers]
            if codes != [0] * RACERS:
                failed_rounds.append((round_, codes))

    assert failed_rounds == []


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_serve_with_three_workers_starts_on_an_empty_store(postgres_url: str) -> None:
    for _ in range(2):
        with fresh_schema() as url, server(url, workers=3) as (base, process):
            answers = [httpx.get(f"{base}/healthz", timeout=5).status_code for _ in range(10)]
            assert process.poll() is None  # the parent still runs: no worker failed to start
            assert answers == [200] * 10
