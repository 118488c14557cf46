"""ASGI middleware: a request id and one log line per request; a bound on body size."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.positions import noting_positions

log = structlog.get_logger()

MAX_BODY = 256 * 1024
MAX_BATCH_BODY = 16 * 1024 * 1024  # 10,000 invoices of a few lines each
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def body_limit(path: str) -> int:
    return MAX_BATCH_BODY if path == "/v1/invoices/batch" else MAX_BODY


class RequestContext:
    """Bind a request id (echoing a sane ``X-Request-ID``), log method, route, status, duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            state = scope.get("state", {})
            log.info(
                "request",
                method=scope["method"],
                route=getattr(route, "path", scope["path"]),
                status=status["code"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                actor=state.get("actor"),
                role=state.get("role"),
            )


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
POSITION_HEADER = b"careledger-position"


class WrittenPosition:
    """A write's answer carries ``CareLedger-Position``: the log position of the last event it
    recorded (a repeated command, which records nothing: the log's head, at or past it). Sent back
    as ``min_position``, a read on a standby waits until it has been applied. With standbys
    configured, it is also remembered as the token's last write, so the same token's (or console
    session's) next reads wait for it without asking."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        with noting_positions() as written:

            async def send_with_position(message: Message) -> None:
                if message["type"] == "http.response.start":
                    position = max(written, default=0)
                    if not position and 200 <= message["status"] < 300:
                        service = getattr(state, "service", None)
                        if service is not None:
                            head = service.app.recorder.max_notification_id
                            position = int(await run_in_threadpool(head) or 0)
                    if position:
                        message["headers"] = [
                            *message.get("headers", []),
                            (POSITION_HEADER, str(position).encode()),
                        ]
                        await self._remember(scope, position)
                await send(message)

            await self.app(scope, receive, send_with_position)

    @staticmethod
    async def _remember(scope: Scope, position: int) -> None:
        state = scope["app"].state
        actor = scope.get("state", {}).get("actor")
        reads = getattr(state, "reads", None)
        if actor and reads is not None and reads.standbys:
            try:
                await run_in_threadpool(state.tokens.remember, actor, position)
            except Exception as error:  # the write stands; its answer goes out
                # The client still has the position in the header to send as min_position.
                log.warning("request.position_not_remembered", error=type(error).__name__)


class BodyLimit:
    """Refuse bodies over the route's limit with 413, before anything reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body: dict[str, Any] = {
        "type": "/problems/body-too-large",
        "title": "The body is too large",
        "status": 413,
        "detail": f"at most {limit} bytes",
    }
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
