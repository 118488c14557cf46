"""Signing in and out, the start page of each role, and ``/`` leading to sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import TokenStore
from api.console.render import page
from api.console.session import (
    COOKIE,
    PRE_COOKIE,
    Sessions,
    Signed,
    check_csrf,
    get_sessions,
)
from api.deps import get_tokens
from ledger.provenance import Role

router = APIRouter(include_in_schema=False)
SessionsDep = Annotated[Sessions, Depends(get_sessions)]
Tokens = Annotated[TokenStore, Depends(get_tokens)]
CsrfField = Annotated[str | None, Form(alias="csrf_token")]


@router.get("/")
def root() -> RedirectResponse:
    """The console's front door: the sign-in page (or your start page if signed in)."""
    return RedirectResponse("/ui/", status_code=303)


def sign_in_page(
    request: Request, sessions: Sessions, error: str | None = None, notice: str | None = None
) -> HTMLResponse:
    placeholder = Response()
    csrf = sessions.pre_csrf(request, placeholder)
    response = page(
        request,
        "sign_in.html",
        None,
        status_code=400 if error else 200,
        title="Sign in",
        csrf=csrf,
        error=error,
        notice=notice,
        minutes=sessions.seconds // 60,
    )
    response.headers.append("set-cookie", placeholder.headers["set-cookie"])
    return response


@router.get("/ui/sign-in", response_class=HTMLResponse)
def sign_in_form(
    request: Request,
    sessions: SessionsDep,
    notice: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """The sign-in form; ``notice`` says why you are here (signed out, session expired)."""
    return sign_in_page(request, sessions, notice=notice)


@router.post("/ui/sign-in", response_model=None)
def sign_in(
    request: Request,
    sessions: SessionsDep,
    tokens: Tokens,
    token: Annotated[str, Form(max_length=400)] = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Check the pasted token once, then keep it in the session cookie."""
    pre = sessions.open(request.cookies.get(PRE_COOKIE))
    check_csrf(pre["csrf"] if pre else "", csrf_token)
    if tokens.authenticate(token.strip()) is None:
        return sign_in_page(request, sessions, error="That token is not valid or has been revoked")
    response = RedirectResponse("/ui/", status_code=303)
    sessions.start(response, request, token.strip())
    return response


@router.post("/ui/sign-out", response_model=None)
def sign_out(
    session: Signed, sessions: SessionsDep, tokens: Tokens, csrf_token: CsrfField = None
) -> Response:
    """End the session: the cookie is dropped, and the session refused even if copied."""
    check_csrf(session.csrf, csrf_token)
    sessions.end(tokens.db, session.session_id)
    response = RedirectResponse("/ui/sign-in?notice=You+have+signed+out", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response


@router.get("/ui/", response_model=None)
def start(request: Request, session: Signed) -> Response:
    """Each role's start page."""
    who = session.principal
    if who.role in (Role.REGULATOR, Role.AUDITOR) and who.council is None:
        return RedirectResponse("/ui/national", status_code=303)
    if who.role in (Role.COUNCIL, Role.AUDITOR):
        return RedirectResponse(f"/ui/councils/{who.council}", status_code=303)
    if who.role is Role.PROVIDER:
        return RedirectResponse("/ui/invoices", status_code=303)
    if who.role is Role.REPRESENTATIVE:
        return RedirectResponse(f"/ui/budgets/{who.budget_id}", status_code=303)
    return page(request, "admin.html", session, title="Administration")
