"""RFC 9457 problem details, in one place: every error the API returns goes through here.

``type`` is stable per error (``/problems/<code>``); ``title`` and ``detail`` say what happened;
``field`` names what was wrong; the facts a person needs ride along. Never a stack trace.
"""

from __future__ import annotations

import sys
from typing import Any

import structlog
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    ConflictError,
    IdempotencyConflictError,
    InvalidCommandError,
    LedgerError,
    NotFoundError,
    RuleViolation,
    VersionMismatchError,
)
from ledger.persistence import StoreUnavailableError
from projections.replicas import NoFreshReplicaError, ReplicaBehindError

log = structlog.get_logger()
MEDIA_TYPE = "application/problem+json"


class ProblemError(Exception):
    """An HTTP-level refusal: no token, wrong role, out of scope, bad header, …"""

    def __init__(self, status: int, code: str, title: str, detail: str, **facts: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail, self.facts = (
            status,
            code,
            title,
            detail,
            facts,
        )


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **facts: Any,
) -> JSONResponse:
    body = {"type": f"/problems/{code}", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in facts.items() if v is not None})
    extra = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    return JSONResponse(
        body, status_code=status, media_type=MEDIA_TYPE, headers={**extra, **(headers or {})}
    )


def status_of(error: LedgerError) -> int:
    if isinstance(error, VersionMismatchError):
        return 412
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, IdempotencyConflictError | ConflictError):
        return 409
    if isinstance(error, InvalidCommandError | RuleViolation):
        return 422
    return 400


def _json_safe(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return str(value)


# Members a fact must not overwrite (nor collide with ``problem``'s own parameters).
RESERVED = frozenset({"type", "title", "status", "detail", "instance", "code", "headers"})


def ledger_problem(error: LedgerError) -> JSONResponse:
    """A ledger fact named like a standard member (e.g. an invoice's ``status``) is sent as
    ``record_<name>``, so ``status`` stays the HTTP status."""
    facts = {(f"record_{k}" if k in RESERVED else k): _json_safe(v) for k, v in error.facts.items()}
    return problem(status_of(error), error.code, error.title, error.detail, **facts)


# Inputs refused with their own 400 problem rather than 422 invalid-request: (location, name) →
# (code and title when missing, code and title when malformed, what to send).
OWN_PROBLEMS: dict[tuple[str, ...], tuple[tuple[str, str], tuple[str, str], str]] = {
    ("header", "idempotency-key"): (
        ("idempotency-key-required", "Idempotency-Key is required"),
        ("invalid-idempotency-key", "Idempotency-Key is malformed"),
        "every write carries an Idempotency-Key header: 1..64 printable ASCII characters",
    ),
    ("query", "cursor"): (
        ("invalid-cursor", "The cursor is not valid"),
        ("invalid-cursor", "The cursor is not valid"),
        "send back the next_cursor you got, unchanged",
    ),
}


def _own_problem(errors: list[Any]) -> JSONResponse | None:
    for e in errors:
        own = OWN_PROBLEMS.get(tuple(str(p) for p in e.get("loc", ())))
        if own is not None:
            missing, malformed, detail = own
            code, title = missing if e.get("type") == "missing" else malformed
            return problem(400, code, title, detail, field=str(e["loc"][-1]))
    return None


def _validation_problem(error: RequestValidationError) -> JSONResponse:
    errors = list(error.errors())
    own = _own_problem(errors)
    if own is not None:
        return own
    first = errors[0] if errors else {}
    location = [str(p) for p in first.get("loc", ()) if p not in ("body",)]
    field = ".".join(location) or None
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        return problem(400, "malformed-json", "The body is not valid JSON", "send a JSON object")
    detail = (
        f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg", "invalid"))
    )
    return problem(422, "invalid-request", "The request is not valid", detail, field=field)


def install(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def on_ledger_error(_: Request, error: LedgerError) -> JSONResponse:
        return ledger_problem(error)

    @app.exception_handler(ProblemError)
    async def on_api_problem(_: Request, error: ProblemError) -> JSONResponse:
        return problem(error.status, error.code, error.title, error.detail, **error.facts)

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, error: RequestValidationError) -> JSONResponse:
        return _validation_problem(error)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "no-such-route", 405: "method-not-allowed"}.get(
            error.status_code, "http-error"
        )
        headers = dict(error.headers or {})  # e.g. Allow on 405
        if error.status_code == 405:
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return problem(error.status_code, code, str(error.detail), str(error.detail), headers)

    async def on_unavailable(_: Request, error: Exception) -> JSONResponse:
        cause = error.__cause__  # e.g. PoolTimeout, LockNotAvailable, QueryCanceled
        log.warning(
            "request.store_unavailable",
            error=type(error).__name__,
            cause=type(cause).__name__ if cause else None,
        )
        return store_unavailable("retry shortly with the same Idempotency-Key")

    async def on_no_fresh_replica(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, NoFreshReplicaError)  # noqa: S101 - registered for it
        log.warning("request.no_fresh_replica", standbys=error.standbys)
        return problem(503, "no-fresh-replica", "No standby is fresh enough to read from",
                       error.detail, headers={"Retry-After": str(RETRY_AFTER)},
                       standbys=error.standbys)  # fmt: skip

    async def on_replica_behind(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ReplicaBehindError)  # noqa: S101 - registered for it
        return problem(503, "replica-behind", "Your position has not been applied yet",
                       error.detail, headers={"Retry-After": "1"}, field="min_position",
                       min_position=error.min_position, position=error.position)  # fmt: skip

    app.add_exception_handler(NoFreshReplicaError, on_no_fresh_replica)
    app.add_exception_handler(ReplicaBehindError, on_replica_behind)

    # Handled by class, not by the catch-all below: Starlette re-raises what reaches the
    # catch-all after answering, and uvicorn then closes the client's keep-alive connection
    # (a client sending its next request on it got "connection reset"); the request log
    # recorded 500 for it too.
    for unavailable in UNAVAILABLE:
        app.add_exception_handler(unavailable, on_unavailable)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        if is_unavailable(error):
            return await on_unavailable(request, error)
        log.error("request.unexpected_error", error=type(error).__name__)
        return problem(500, "internal-error", "Something went wrong", "the error was logged")


# Seconds a client should wait before retrying a 503: a database restart takes a few.
RETRY_AFTER = 2


def store_unavailable(detail: str) -> JSONResponse:
    """503: the database is down, busy or locked. Nothing was half-written (a command is one
    transaction), so the same request may be sent again."""
    return problem(
        503,
        "store-unavailable",
        "The ledger's database is unavailable",
        detail,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


def _allowed_methods(request: Request) -> str | None:
    """The methods the schema documents for the matched path. Starlette's own Allow names only
    the first route's, so a path with GET and POST on separate routes advertised one of them."""
    template = getattr(request.scope.get("route"), "path", None)
    operations = request.app.openapi().get("paths", {}).get(template, {})
    methods = ("get", "head", "post", "put", "patch", "delete")
    return ", ".join(m.upper() for m in methods if m in operations) or None


# The database could not be reached or did not answer in time: a bounded wait that ran out (event
# store or views), or the library's connection errors after its own retries.
UNAVAILABLE = (StoreUnavailableError, OperationalError, InterfaceError, TimeoutError)


def is_unavailable(error: Exception) -> bool:
    """Also psycopg's connection-level errors, should one escape unnamed; not its other errors:
    a bad query is a bug, a 500."""
    if isinstance(error, UNAVAILABLE):
        return True
    psycopg = sys.modules.get("psycopg")  # loaded only when PostgreSQL is in use
    return psycopg is not None and isinstance(
        error, psycopg.OperationalError | psycopg.InterfaceError
    )


# Responses every route documents in OpenAPI.
PROBLEM_SCHEMA = {
    "content": {
        MEDIA_TYPE: {
            "schema": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "field": {"type": "string"},
                },
                "required": ["type", "title", "status", "detail"],
            }
        }
    }
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of a route's problem responses."""
    titles = {
        400: "Malformed request: unknown or repeated query parameter, bad cursor or header",
        401: "No or unknown bearer token",
        403: "Wrong role or out of scope",
        404: "No such record",
        409: "Conflict: duplicate, concurrent change or reused Idempotency-Key",
        412: "If-Match does not match the current version",
        413: "Body too large",
        422: "Invalid values or a ledger rule refuses the command",
        503: "The database is unavailable",
    }
    return {c: {"description": titles[c], **PROBLEM_SCHEMA} for c in (400, 401, 422, 503, *codes)}
