"""The FastAPI application. The ledger service is built once in the lifespan and reached as a
dependency; every error leaves as problem+json (``api/problems.py``)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import Depends, FastAPI, Request

from api import console, problems
from api.auth import TokenStore
from api.deps import Service
from api.logging import configure_logging
from api.middleware import BodyLimit, RequestContext, WrittenPosition
from api.params import known_query_params
from api.responses import Health
from api.routers import (
    admin,
    audit,
    audit_proofs,
    budget_reads,
    budgets,
    endings,
    invoice_reads,
    invoices,
    people,
    reports,
    representatives,
    runs,
)
from api.settings import Settings, get_settings
from projections.replicas import Reads
from projections.service import LedgerService

log = structlog.get_logger()

DESCRIPTION = """An event-sourced ledger for personal budgets in adult social care (England).

Authenticate with `Authorization: Bearer <token>` (tokens come from `careledger tokens create`).
Every POST carries an `Idempotency-Key`: repeating it returns the first outcome and writes
nothing; the same key with a different body is 409. Writes answer with the record's version as
`ETag`; send it back as `If-Match` to make a write conditional (412 if it changed). Money is
integer pence; dates are ISO dates. Errors are RFC 9457 `application/problem+json`.

Lists take `cursor` and `limit` and answer `{items, next_cursor, has_more}`: send `next_cursor`
back as `cursor` for the following page. A query parameter a route does not take, or a
single-valued one sent twice, is 400 (`unknown-parameter`, `repeated-parameter`).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = LedgerService(settings.database_url, inline=settings.inline_projections)
        # Fewer young-generation collections: a 10,000-invoice batch allocates millions of
        # short-lived objects (measured +37% batch throughput at 50,000 vs the default 700).
        gc.set_threshold(50_000, *gc.get_threshold()[1:])
        app.state.service = service
        app.state.tokens = TokenStore(service.db)
        app.state.reads = Reads.open(
            service,
            settings.read_database_url,
            max_lag=settings.read_max_lag_seconds,
            wait=settings.read_wait_seconds,
        )
        log.info("ledger.opened", store=settings.database_url.split(":", 1)[0],
                 standbys=len(app.state.reads.standbys))  # fmt: skip
        yield
        app.state.reads.close()
        service.close()

    app = FastAPI(
        title="CareLedger",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc come from the console, with their assets offline
        redoc_url=None,
        dependencies=[Depends(known_query_params)],
    )
    problems.install(app)
    app.add_middleware(WrittenPosition)
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestContext)
    app.add_api_route(
        "/healthz",
        healthz,
        methods=["GET"],
        response_model=Health,
        tags=["health"],
        responses={
            400: {"description": "Unknown query parameter", **problems.PROBLEM_SCHEMA},
            503: {"description": "The event store is unavailable", **problems.PROBLEM_SCHEMA},
        },
    )
    for module in (
        admin,
        budgets,
        budget_reads,
        representatives,
        invoices,
        invoice_reads,
        reports,
        audit,
        audit_proofs,
        people,
        runs,
        endings,
    ):
        app.include_router(module.router)
    console.install(app, settings)
    return app


def healthz(request: Request, service: Service) -> Any:
    """The service is up and its event store answers: ``ok`` with its events, or ``empty``
    while the log holds none (a new store, or one pointed at by mistake: never plain ok); with
    standbys configured, each one's position, lag and whether reads go to it."""
    try:
        events = service.app.recorder.max_notification_id() or 0
    except Exception as error:  # the store is down: say so, do not crash
        log.warning("healthz.store_unavailable", error=type(error).__name__)
        return problems.store_unavailable("the database did not answer")
    reads: Reads = request.app.state.reads
    standbys = reads.status() if reads.standbys else None
    return {"status": "ok" if events else "empty", "events": events, "standbys": standbys}
