"""The web console (DESIGN.md §8): server-rendered pages on the API's own read and write code
and scoping, styled with the GOV.UK Design System served by the app (no CDN).

``install(app)`` adds the pages, the offline ``/docs`` and ``/redoc``, and the console's own
refusal pages; ``api.app`` calls it."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console import (
    assets,
    pages_audit,
    pages_budget,
    pages_council,
    pages_erasure,
    pages_integrity,
    pages_invoices,
    pages_national,
    pages_officer,
    pages_session,
)
from api.console.render import ConsoleFaultError, page
from api.console.session import COOKIE, CsrfRefusedError, Sessions, SignInNeededError
from api.settings import Settings

ROUTERS = (
    assets,
    pages_session,
    pages_national,
    pages_council,
    pages_budget,
    pages_invoices,
    pages_audit,
    pages_integrity,
    pages_officer,
    pages_erasure,
)


def install(app: FastAPI, settings: Settings) -> None:
    app.state.console_sessions = Sessions(settings.console_secret, settings.console_session_minutes)
    for module in ROUTERS:
        app.include_router(module.router)

    async def on_sign_in_needed(request: Request, error: Exception) -> Response:
        reason = error.reason if isinstance(error, SignInNeededError) else "Sign in"
        response = RedirectResponse(f"/ui/sign-in?notice={quote(reason)}", status_code=303)
        response.delete_cookie(COOKIE, path="/ui")
        return response

    async def on_csrf(request: Request, _: Exception) -> HTMLResponse:
        return page(
            request,
            "error.html",
            None,
            status_code=403,
            title="The form has expired",
            detail="The form was not sent with this session's security token (CSRF):"
            " nothing was done. Open the page again and resend the form.",
        )

    async def on_fault(request: Request, error: Exception) -> HTMLResponse:
        assert isinstance(error, ConsoleFaultError)  # noqa: S101 - registered for ConsoleFaultError only
        return page(
            request,
            "error.html",
            None,
            status_code=error.status,
            status=error.status,
            title=error.title,
            detail=error.detail,
        )

    app.add_exception_handler(SignInNeededError, on_sign_in_needed)
    app.add_exception_handler(CsrfRefusedError, on_csrf)
    app.add_exception_handler(ConsoleFaultError, on_fault)
