"""The FastAPI application. The ledger is built once in the lifespan and reached as a dependency.

At this stage it serves only ``/healthz``; the resource routes arrive with the API issue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from api.logging import configure_logging
from api.settings import Settings, get_settings
from ledger.application import CareLedger

log = structlog.get_logger()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ledger = CareLedger(settings.database_url)
        log.info("ledger.opened", store=settings.database_url.split(":", 1)[0])
        yield
        app.state.ledger.close()

    app = FastAPI(title="CareLedger", version="0.1.0", lifespan=lifespan)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    return app


def get_ledger(request: Request) -> CareLedger:
    ledger: CareLedger = request.app.state.ledger
    return ledger


Ledger = Annotated[CareLedger, Depends(get_ledger)]


def healthz(ledger: Ledger) -> Any:
    """The service is up and its event store answers."""
    try:
        events = ledger.recorder.max_notification_id() or 0
    except Exception as error:  # the store is down: say so, do not crash
        log.warning("healthz.store_unavailable", error=type(error).__name__)
        return JSONResponse(
            {
                "type": "/problems/store-unavailable",
                "title": "The event store is unavailable",
                "status": 503,
            },
            status_code=503,
            media_type="application/problem+json",
        )
    return {"status": "ok", "events": events}
