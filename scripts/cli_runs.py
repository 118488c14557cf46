"""``careledger payment-run``: a council's payment run, as the API's POST
/v1/councils/{code}/payment-runs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from ledger.money import format_pounds
from ledger.provenance import Provenance, Role, plain_identity
from scripts.cli_common import DatabaseUrl, JsonOut, open_service, require_registered

RunDate = Annotated[
    datetime,
    typer.Option(formats=["%Y-%m-%d"], help="Pay every direct payment due on or before this date."),
]
Officer = Annotated[str, typer.Option(help="The council finance officer running it (an id).")]


def payment_run(
    council: Annotated[str, typer.Argument(help="The council's ONS code.")],
    run_date: RunDate,
    officer: Officer = "cli-finance-officer",
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Pay every direct payment of COUNCIL due by --run-date and not yet paid (4-weekly in
    advance, net or gross as each budget is paid). One run per council and date: a rerun
    reports the first run's results and pays nothing twice."""
    code = plain_identity(council)
    with open_service(database_url, inline=True) as service:
        require_registered(service, council=code)
        prov = Provenance(
            officer, Role.COUNCIL.value, "payment-run", idempotency_scope=f"council:{code}"
        )
        outcome = service.app.run_payments(code, run_date.date(), prov)
    if json_out:
        typer.echo(json.dumps({**outcome, "replayed": bool(outcome.get("replayed"))}))
        return
    for r in outcome["results"]:
        paid = format_pounds(r["run_cash_paid_pence"])
        why = (
            f"  skipped: {r['skipped_reason']} ({r['skipped_detail']})"
            if r["skipped_reason"]
            else ""
        )
        typer.echo(f"{r['budget_id']}  {r['periods_paid']} period(s)  {paid}{why}")
    again = " (a repeat: nothing paid again)" if outcome.get("replayed") else ""
    typer.echo(
        f"{code} run {outcome['run_date']}: {format_pounds(outcome['run_cash_paid_pence'])} to"
        f" {outcome['budgets_paid']} budget(s), {outcome['budgets_skipped']} skipped{again}"
    )
