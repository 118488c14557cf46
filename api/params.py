"""Query parameters a route does not declare are refused, as Stripe does: a misspelt filter or
cursor would otherwise be ignored silently (a client paging with the wrong name gets page 1
forever). Applied to the whole app; each route's parameters come from its own dependant (its
signature and its dependencies'), so a new route or filter needs nothing listed here."""

from __future__ import annotations

import types
from datetime import datetime
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.models import AsIdentity, Instant
from api.problems import ProblemError
from projections.asat import AsAtOutOfRangeError, resolve, view_db
from projections.db import ViewDb
from projections.replicas import LedgerReads

MULTI = (list, set, tuple, frozenset)


def _query_fields(dependant: Dependant) -> list[Any]:
    fields = list(dependant.query_params)
    for sub in dependant.dependencies:
        fields.extend(_query_fields(sub))
    return fields


def _multi_valued(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_multi_valued(a) for a in get_args(annotation))
    return get_origin(annotation) in MULTI or annotation in MULTI


Declared = tuple[frozenset[str], frozenset[str]]
# Each route's answer, by id (routes are unhashable), the route kept beside it so an id reused
# after a route is gone never answers for another. Routes are built once, at start-up.
_DECLARED: dict[int, tuple[APIRoute, Declared]] = {}


def declared(route: APIRoute) -> Declared:
    """The route's query parameter names (as sent: aliases), and the single-valued ones: its
    dependants walked once (about 30 µs on a list route), then remembered."""
    known = _DECLARED.get(id(route))
    if known is not None and known[0] is route:
        return known[1]
    fields = _query_fields(route.dependant)
    names = frozenset(f.alias for f in fields)
    single = frozenset(f.alias for f in fields if not _multi_valued(f.field_info.annotation))
    _DECLARED[id(route)] = (route, (names, single))
    return names, single


def known_query_params(request: Request) -> None:
    """400 ``unknown-parameter`` for a name the route does not take; 400 ``repeated-parameter``
    for a single-valued one sent twice."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    names, single = declared(route)
    allowed = sorted(names)
    for name in dict.fromkeys(request.query_params.keys()):
        if name not in names:
            raise ProblemError(
                400,
                "unknown-parameter",
                "Unknown query parameter",
                f"this route takes no parameter {name!r}"
                + (f"; it takes: {', '.join(allowed)}" if allowed else "; it takes none"),
                field=name,
                allowed=allowed,
            )
        if name in single and len(request.query_params.getlist(name)) > 1:
            raise ProblemError(
                400,
                "repeated-parameter",
                "Query parameter given more than once",
                f"send {name!r} once",
                field=name,
            )


def check_range(low: Any, high: Any, low_name: str = "from", high_name: str = "to") -> None:
    """A range given by two query parameters runs forwards (both ends inclusive): 422
    ``invalid-request`` naming the second when it is before the first."""
    if low is not None and high is not None and high < low:
        raise ProblemError(
            422,
            "invalid-request",
            "The request is not valid",
            f"{high_name} is before {low_name}",
            field=high_name,
        )


# The filters several lists share, each in its one form (``AsIdentity``) and with one meaning.
CouncilCode = Annotated[
    str | None,
    Query(
        min_length=1, max_length=16, pattern=r"^[!-~][ -~]*$", description="A council's ONS code."
    ),
    AsIdentity,
]
ProviderRef = Annotated[
    str | None,
    Query(min_length=1, max_length=64, pattern=r"^[!-~]+$", description="A care firm's reference."),
    AsIdentity,
]


# As at: one parameter and one resolver for every read (DESIGN.md §7).
AsAt = Annotated[
    Instant | None,
    Query(
        description="What the ledger knew at this recorded instant (default: now); the answer's"
        " as_at_position is the log position it resolved to."
    ),
]


def as_at_position(service: LedgerReads, as_at: datetime | None) -> int | None:
    """The log position ``as_at`` resolves to (None: now): 422 ``as-at-out-of-range`` for an
    instant before the first event or in the future."""
    try:
        return resolve(service.db, as_at)
    except AsAtOutOfRangeError as error:
        raise ProblemError(
            422,
            "as-at-out-of-range",
            "No such instant in the ledger's life",
            str(error),
            field="as_at",
            first_recorded=error.first_recorded,
        ) from None


def views_as_at(
    service: LedgerReads, position: int | None, as_at: datetime | None = None
) -> ViewDb:
    """The views as they stood at ``position`` (None: the live views); ``as_at``, the instant
    that resolved to it, bounds what is kept outside the log (refused duplicates) by then."""
    return view_db(service.db, position, as_at)
