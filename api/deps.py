"""Dependencies: the service, the caller, the command's provenance, conditional writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal, TokenStore
from api.problems import ProblemError
from ledger.application import CareLedger
from ledger.errors import InvalidCommandError
from ledger.provenance import MAX_REF_LENGTH, Provenance, Role, check_ref
from projections.db import ViewDb
from projections.replicas import LedgerReads, Reads
from projections.service import LedgerService


def get_service(request: Request) -> LedgerService:
    service: LedgerService = request.app.state.service
    return service


def get_tokens(request: Request) -> TokenStore:
    tokens: TokenStore = request.app.state.tokens
    return tokens


Service = Annotated[LedgerService, Depends(get_service)]


class ReadSide:
    """Where a read goes (``projections.replicas``): chosen when the route first reads, once
    every dependency has run, so the caller's own last write (``last_position``, set when the
    token or session was checked) counts beside ``min_position``."""

    def __init__(self, request: Request, min_position: int | None) -> None:
        self.request = request
        self.min_position = min_position or 0
        self._chosen: LedgerReads | None = None

    @property
    def chosen(self) -> LedgerReads:
        if self._chosen is None:
            reads: Reads = self.request.app.state.reads
            own = int(getattr(self.request.state, "last_position", 0) or 0)
            self._chosen = reads.reader(max(self.min_position, own))
        return self._chosen

    @property
    def app(self) -> CareLedger:
        return self.chosen.app

    @property
    def db(self) -> ViewDb:
        return self.chosen.db


def get_read_side(
    request: Request,
    min_position: Annotated[
        int | None,
        Query(
            ge=0,
            le=2**62,
            description="Answer only from a database whose views have applied this log position"
            " (a write's `CareLedger-Position`): read your own writes on a standby. Your token's"
            " own last write counts without it.",
        ),
    ] = None,
) -> ReadSide:
    return ReadSide(request, min_position)


ReadService = Annotated[ReadSide, Depends(get_read_side)]


bearer = HTTPBearer(auto_error=False, description="A token from `careledger tokens create`.")


def get_principal(
    request: Request,
    tokens: Annotated[TokenStore, Depends(get_tokens)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> Principal:
    principal = tokens.authenticate(credentials.credentials) if credentials else None
    if principal is None:
        raise ProblemError(
            401,
            "unauthenticated",
            "A valid bearer token is required",
            "send Authorization: Bearer <token>",
        )
    # The request log line (api/middleware.py) reads these; never a name, only the token id.
    request.state.actor = principal.token_id
    request.state.role = principal.role.value
    request.state.last_position = principal.last_position
    return principal


Caller = Annotated[Principal, Depends(get_principal)]


class Allow:
    """A dependency admitting only the named roles (403 for the rest)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = roles

    def __call__(self, principal: Caller) -> Principal:
        if principal.role not in self.roles:
            raise ProblemError(
                403,
                "forbidden-role",
                "Your role may not do this",
                f"{principal.role.value} tokens cannot call this route",
                allowed=[r.value for r in self.roles],
            )
        return principal


def idempotency_key(
    idempotency_key: Annotated[
        str,
        Header(
            min_length=1,
            max_length=MAX_REF_LENGTH,
            pattern=r"^[\t -~]+$",
            description="Your id for this command, 1..64 printable ASCII characters; repeat it"
            " to retry safely. Keys belong to your account (council, care firm, appointment,"
            " auditors), not to your token. Surrounding spaces and tabs are not part of the key."
            " Missing or malformed: 400.",
        ),
    ],
) -> str:
    """The key as sent, less surrounding spaces (HTTP's own optional whitespace, which a proxy
    may add or drop: ``" k1"`` and ``"k1"`` are one key). Inside, it is compared byte for byte;
    missing, control characters, non-ASCII and more than 64 characters are a 400
    (``api/problems.py``)."""
    try:
        return check_ref("Idempotency-Key", idempotency_key.strip(" \t"))
    except InvalidCommandError as error:
        raise ProblemError(
            400, "invalid-idempotency-key", "Idempotency-Key is malformed", error.detail
        ) from None


IdempotencyKey = Annotated[str, Depends(idempotency_key)]


def if_match(
    if_match: Annotated[
        str | None, Header(description='The version you read (ETag), e.g. "7".')
    ] = None,
) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit() or len(value) > 12:
        raise ProblemError(
            400, "invalid-if-match", "If-Match is malformed", 'send the ETag you read, e.g. "7"'
        )
    return int(value)


IfMatch = Annotated[int | None, Depends(if_match)]


@dataclass(frozen=True)
class Command:
    """The caller and the command id: everything the provenance of a write needs."""

    principal: Principal
    command_id: str

    def prov(self, reason: str | None = None) -> Provenance:
        p = self.principal
        return Provenance(
            p.actor_id,
            p.role.value,
            self.command_id,
            reason=reason,
            idempotency_scope=p.idempotency_scope,
        )


def etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'
