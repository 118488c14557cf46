"""Rendering: the Jinja2 templates, the formats a person reads (£1,234.56, 31 March 2011), role
admission taken from the API's own ``Allow`` dependencies, and refusals shown as pages."""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import TypeAdapter, ValidationError

from api.auth import Principal
from api.deps import Allow
from api.problems import ProblemError, status_of
from ledger.errors import LedgerError
from ledger.persistence import StoreUnavailableError
from ledger.provenance import Role

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# Every page: scripts, styles and forms only from the app; never framed; never cached (the
# figures are personal and financial); no referrer beyond the app.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; script-src 'self';"
    " style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
P = ParamSpec("P")
T = TypeVar("T")


class ConsoleFaultError(Exception):
    """A refusal to show as a page: the status, and what happened in words."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def money(pence: int | None) -> str:
    """Integer pence as £1,234.56 (a minus sign before the pound sign)."""
    if pence is None:
        return "—"
    sign = "\u2212" if pence < 0 else ""  # a minus sign, not a hyphen
    pounds, rest = divmod(abs(int(pence)), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"


def day(value: date | str | None) -> str:
    """A date as 31 March 2011."""
    if not value:
        return "—"
    d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def instant(value: datetime | str | None) -> str:
    """A recorded instant as 31 March 2011, 14:05:03 UTC."""
    if not value:
        return "—"
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return f"{day(moment.date())}, {moment:%H:%M:%S} UTC"


def percent(bp: int | None) -> str:
    """Basis points as a percentage, 30.00%."""
    return "no data" if bp is None else f"{bp / 100:.2f}%"


def words(name: str | None) -> str:
    """A code as words: 'over-plan' → 'over plan', 'mental_health' → 'mental health'."""
    return "" if not name else str(name).replace("-", " ").replace("_", " ")


TEMPLATES.env.filters.update(money=money, day=day, instant=instant, percent=percent, words=words)


def admit(reader: Any, principal: Principal) -> Principal:
    """Admit the caller as the API route would: ``reader`` is the route's own
    ``Annotated[Principal, Depends(Allow(...))]`` alias, so the roles are never listed twice."""
    for extra in typing.get_args(reader)[1:]:
        allow = getattr(extra, "dependency", None)
        if isinstance(allow, Allow):
            return allow(principal)
    raise TypeError("not an Allow alias")  # a programming error, not a caller's


def allowed(reader: Any, principal: Principal) -> bool:
    try:
        admit(reader, principal)
    except ProblemError:
        return False
    return True


def parsed(kind: Any, value: str | None, field: str) -> Any:
    """A form value parsed by the API's own type (None when blank); a bad one is a 400 page."""
    if value is None or value.strip() == "":
        return None
    try:
        return TypeAdapter(kind).validate_python(value.strip())
    except ValidationError as error:
        message = error.errors()[0]["msg"]
        raise ConsoleFaultError(
            400, "The form is not valid", f"{words(field)}: {message}"
        ) from None


def pence_of(value: str | None, field: str) -> int | None:
    """An amount in pounds as a person types it (1,234.56 or £1234.5) in integer pence (None when
    blank); anything else, or more than two decimal places, is a 400 page."""
    text = (value or "").strip().removeprefix("£").replace(",", "")
    if text == "":
        return None
    try:
        pounds = Decimal(text)
        whole = pounds.is_finite() and pounds == pounds.quantize(Decimal("0.01"))
    except InvalidOperation:
        whole = False
    if not whole or pounds < 0 or pounds > 10**12:
        raise ConsoleFaultError(
            400, "The form is not valid", f"{words(field)}: give pounds and pence, as 1234.56"
        )
    return int(pounds * 100)


def fault_of(error: Exception) -> ConsoleFaultError:
    if isinstance(error, ProblemError):
        return ConsoleFaultError(error.status, error.title, error.detail)
    if isinstance(error, LedgerError):
        return ConsoleFaultError(status_of(error), error.title, error.detail)
    if isinstance(error, StoreUnavailableError):  # the database, or every standby, is not there
        detail = getattr(error, "detail", None) or "the ledger's database did not answer in time"
        return ConsoleFaultError(503, "The ledger cannot be read just now",
                                 f"{detail}: try again in a moment")  # fmt: skip
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        return ConsoleFaultError(422, "The form is not valid", f"{words(where)}: {first['msg']}")
    raise error


def guard(route: Callable[P, T]) -> Callable[P, T]:
    """Refusals from the API's read and write code (problems, ledger errors, invalid values)
    and a database that did not answer become a page with the same status and words."""

    @functools.wraps(route)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return route(*args, **kwargs)
        except (ProblemError, LedgerError, ValidationError, StoreUnavailableError) as error:
            raise fault_of(error) from None

    return wrapper


def page(
    request: Request, template: str, session: Any, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """``template`` for the signed-in ``session`` (or None), with its CSRF token for forms."""
    who = session.principal if session is not None else None
    csrf = session.csrf if session is not None else context.pop("csrf", "")
    base = {"who": who, "csrf": csrf, "nav": menu(who)}
    response = TEMPLATES.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code
    )
    response.headers.update(HEADERS)
    return response


def menu(who: Principal | None) -> list[tuple[str, str]]:
    """The pages this caller's role may open."""
    if who is None:
        return []
    role = who.role
    links: list[tuple[str, str]] = []
    if role in (Role.REGULATOR, Role.AUDITOR, Role.PROVIDER, Role.COUNCIL):
        links.append(("/ui/national", "National progress"))
    if role is Role.COUNCIL or (role is Role.AUDITOR and who.council):
        links.append((f"/ui/councils/{who.council}", "Council"))
    if role in (Role.COUNCIL, Role.AUDITOR):
        links.append(("/ui/exceptions", "Exceptions"))
    if role in (Role.COUNCIL, Role.PROVIDER, Role.AUDITOR):
        links.append(("/ui/invoices", "Invoices"))
    if role is Role.PROVIDER:
        links.append(("/ui/invoices/upload", "Upload invoices"))
    if role is Role.REPRESENTATIVE:
        links.append((f"/ui/budgets/{who.budget_id}", "Budget statement"))
    if role in (Role.AUDITOR, Role.REGULATOR):
        links += [("/ui/audit", "Audit trail"), ("/ui/integrity", "Integrity")]
    if role is Role.ADMIN:
        links.append(("/ui/erasure", "Erasure"))
    return links
