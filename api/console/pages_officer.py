"""A council officer's commands beyond invoices: the council's payment run (run date → each
budget paid or skipped, and why), and on an ended budget the ending actions the API has —
recover the direct-payment balance left, reinstate an ending recorded in error. Each form posts
to the API route's own function, with the CSRF token and, where the route takes one, the
version the officer saw as If-Match."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console.pages_council import Code
from api.console.pages_invoices import invoices_if_match
from api.console.render import admit, guard, page, parsed, pence_of
from api.console.session import Signed, check_csrf
from api.deps import Service
from api.models import BusinessDate
from api.routers import endings, runs
from api.routers.budgets import BudgetId

router = APIRouter(include_in_schema=False)
Field = Annotated[str | None, Form(max_length=200)]
Version = Annotated[str, Form(max_length=12)]
Key = Annotated[str, Form(max_length=64)]


@router.post("/ui/councils/{code}/payment-runs", response_class=HTMLResponse)
@guard
def payment_run(
    request: Request,
    code: Code,
    session: Signed,
    service: Service,
    key: Key,
    run_date: Field = None,
    csrf_token: Field = None,
) -> HTMLResponse:
    """Run the council's payments due by the run date; the answer lists every budget."""
    check_csrf(session.csrf, csrf_token)
    who = admit(runs.Council, session.principal)
    body = runs.PaymentRunIn.model_validate({"run_date": parsed(BusinessDate, run_date,
                                                                "run_date")})  # fmt: skip
    outcome = runs.run_payments(code, body, who, key, service)
    return page(request, "payment_run.html", session, title=f"Payment run for {code}",
                run=outcome.model_dump(), code=code,
                again=f"console-{secrets.token_hex(16)}")  # fmt: skip


@router.post("/ui/budgets/{budget_id}/balance-recoveries", response_class=RedirectResponse)
@guard
def recover(
    budget_id: BudgetId,
    session: Signed,
    service: Service,
    version: Version,
    key: Key,
    effective_on: Field = None,
    amount: Field = None,
    csrf_token: Field = None,
) -> RedirectResponse:
    """Recover the balance left after the ending (all of it when no amount is given)."""
    check_csrf(session.csrf, csrf_token)
    who = admit(endings.Council, session.principal)
    body = endings.BalanceRecovery.model_validate({
        "amount_pence": pence_of(amount, "amount"),
        "effective_on": parsed(BusinessDate, effective_on, "effective_on"),
    })  # fmt: skip
    endings.recover_balance(budget_id, body, who, key, service, Response(),
                            invoices_if_match(version))  # fmt: skip
    return RedirectResponse(f"/ui/budgets/{budget_id}?done=recovered", status_code=303)


@router.post("/ui/budgets/{budget_id}/reinstatement", response_class=RedirectResponse)
@guard
def reinstate(
    budget_id: BudgetId,
    session: Signed,
    service: Service,
    version: Version,
    key: Key,
    ending_entry_id: Field = None,
    effective_on: Field = None,
    reason: Field = None,
    csrf_token: Field = None,
) -> RedirectResponse:
    """Reverse the ending in force, recorded in error, with a reason."""
    check_csrf(session.csrf, csrf_token)
    who = admit(endings.Council, session.principal)
    body = endings.Reinstatement.model_validate({
        "ending_entry_id": (ending_entry_id or "").strip(),
        "effective_on": parsed(BusinessDate, effective_on, "effective_on"),
        "reason": (reason or "").strip() or None,
    })  # fmt: skip
    endings.reinstate(budget_id, body, who, key, service, Response(), invoices_if_match(version))
    return RedirectResponse(f"/ui/budgets/{budget_id}?done=reinstated", status_code=303)
