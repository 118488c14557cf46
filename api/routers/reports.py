"""Reports: spend by provider, council and national progress, exceptions, the trial balance and
the journal export. All but the exceptions also answer as the ledger knew it at a past recorded
instant (``as_at``), read from the history every view keeps (``projections.history``): as quick
as a read as at now, whatever the length of the history.

Who reads what:

* spend by provider — council officers (their own council only), auditors (their council if the
  token is scoped), regulators;
* progress measures — council officers, care firms, auditors and regulators: they are published
  statistics, so any council's may be read. Representatives (who see one budget's statement) and
  administrators (who run the system, not the books) may not;
* exceptions — council officers (their own council) and auditors;
* trial balance and journal export — auditors (their council if scoped).

Asking for another council than your token's is 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import PlainTextResponse, StreamingResponse

from api.auth import Principal
from api.deps import Allow, ReadService
from api.figure_models import CouncilProgress, NationalProgress, SpendByProvider, TrialBalance
from api.models import AsIdentity, BusinessDate, Instant
from api.pagination import CursorParam, Limit
from api.params import AsAt, CouncilCode, as_at_position, check_range, views_as_at
from api.problems import ProblemError, responses
from api.responses import ExceptionPage
from api.scope import registered
from ledger.personal import reveal_reasons
from ledger.provenance import Role
from projections.export import journal_lines
from projections.replicas import LedgerReads
from projections.views.exceptions_query import exceptions
from projections.views.people import erased_owners, masked
from projections.views.progress_measures import council_progress, national_progress
from projections.views.spend import spend_by_provider

router = APIRouter(tags=["reports"])
R = Role
SpendReader = Annotated[Principal, Depends(Allow(R.COUNCIL, R.AUDITOR, R.REGULATOR))]
ProgressReader = Annotated[Principal, Depends(Allow(R.COUNCIL, R.PROVIDER, R.AUDITOR, R.REGULATOR))]
ExceptionReader = Annotated[Principal, Depends(Allow(R.COUNCIL, R.AUDITOR))]
Auditor = Annotated[Principal, Depends(Allow(R.AUDITOR))]
READ = responses(403)
FILTERED = responses(403, 404)  # a council filter naming no registered council is 404

PRINTABLE = r"^[!-~][ -~]*$"
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
MonthFrom = Annotated[
    str | None, Query(alias="from", pattern=MONTH, description="First service month, YYYY-MM.")
]
MonthTo = Annotated[
    str | None, Query(alias="to", pattern=MONTH, description="Last service month, YYYY-MM.")
]
On = Annotated[
    BusinessDate | None, Query(description="The business date the figures are for (today).")
]


def council_scope(who: Principal, council: str | None, service: LedgerReads) -> str | None:
    """The council filter this caller may use: a council officer, or an auditor whose token is
    scoped, sees only that council (asking for another is 403); others may ask for any
    registered council (another code is 404)."""
    forced = who.council if who.role in (Role.COUNCIL, Role.AUDITOR) else None
    if forced is not None and council not in (None, forced):
        raise ProblemError(
            403, "out-of-scope", "Another council's books", f"your token is for council {forced}"
        )
    registered(service, council=council)
    return forced or council


@router.get(
    "/v1/spend-by-provider",
    responses=FILTERED,
    response_model=SpendByProvider,
    response_model_exclude_unset=True,  # "month" only by month
)
def get_spend_by_provider(
    who: SpendReader,
    service: ReadService,
    council: CouncilCode = None,
    month_from: MonthFrom = None,
    month_to: MonthTo = None,
    by_month: Annotated[bool, Query(description="One row per service month as well.")] = False,
    as_at: AsAt = None,
) -> Any:
    """Invoices per council and care firm over service months `from`..`to` (inclusive): counts
    and pence invoiced, flagged, approved, disputed, rejected, paid and credit notes. `to` before
    `from` is 422."""
    council = council_scope(who, council, service)
    check_range(month_from, month_to)
    stop = as_at_position(service, as_at)
    db = views_as_at(service, stop)
    rows = spend_by_provider(db, council, month_from, month_to, by_month=by_month)
    return {"council": council, "month_from": month_from, "month_to": month_to,
            "as_at_position": stop, "items": rows}  # fmt: skip


CodePath = Annotated[
    str,
    Path(min_length=1, max_length=16, pattern=PRINTABLE, description="A council's ONS code."),
    AsIdentity,
]


@router.get(
    "/v1/councils/{code}/progress", responses=responses(403, 404), response_model=CouncilProgress
)
def get_council_progress(
    code: CodePath, who: ProgressReader, service: ReadService, on: On = None, as_at: AsAt = None
) -> Any:
    """One council's measures on a business date: share of eligible people with a personal
    budget (target 30%), on direct payments, net spend through budgets as a share of gross
    adult-social-care spend, each by primary support reason; carers apart; pooled funds
    disentangled. Fields: the README's glossary."""
    stop = as_at_position(service, as_at)
    figures = council_progress(views_as_at(service, stop), code, on or date.today())
    return {**figures, "as_at_position": stop}


@router.get("/v1/national/progress", responses=READ, response_model=NationalProgress)
def get_national_progress(
    who: ProgressReader, service: ReadService, on: On = None, as_at: AsAt = None
) -> Any:
    """England's measures on a business date: totals over councils, how many meet the 30%
    target, and the lowest and highest uptake."""
    stop = as_at_position(service, as_at)
    figures = national_progress(views_as_at(service, stop), on or date.today())
    return {**figures, "as_at_position": stop}


@router.get("/v1/exceptions", responses=FILTERED, response_model=ExceptionPage)
def get_exceptions(
    who: ExceptionReader,
    service: ReadService,
    council: CouncilCode = None,
    kind: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=40,
            pattern=r"^[a-z-]+$",
            description="Only exceptions of this kind, e.g. over-plan, duplicate-invoice-attempt.",
        ),
    ] = None,
    on: On = None,
    cursor: CursorParam = None,
    limit: Limit = 100,
    effective_from: Annotated[
        BusinessDate | None, Query(description="Only exceptions with a business date on or after.")
    ] = None,
    effective_to: Annotated[
        BusinessDate | None, Query(description="Only exceptions with a business date on or before.")
    ] = None,
    recorded_from: Annotated[
        Instant | None, Query(description="Only exceptions the ledger learned of at or after.")
    ] = None,
    recorded_to: Annotated[
        Instant | None, Query(description="Only exceptions the ledger learned of at or before.")
    ] = None,
    as_at: AsAt = None,
) -> Any:
    """What needs an auditor's or officer's eye on a business date: flagged, disputed and
    duplicate invoices, corrections, payments after ending, overdue reviews, surpluses. Each
    carries its business date (`effective_on`) and when the ledger learned of it
    (`recorded_at`); both can bound the answer."""
    council = council_scope(who, council, service)
    check_range(effective_from, effective_to, "effective_from", "effective_to")
    check_range(recorded_from, recorded_to, "recorded_from", "recorded_to")
    stop = as_at_position(service, as_at)
    found = exceptions(
        views_as_at(service, stop, as_at),  # refusals, kept outside the views, as known then
        council,
        kind,
        on=on or date.today(),
        limit=limit,
        cursor=cursor,
        effective_from=effective_from,
        effective_to=effective_to,
        recorded_from=recorded_from,
        recorded_to=recorded_to,
    )
    erased = erased_owners(service.db, found["items"])  # reasons stored in the clear: masked
    for item, person in zip(found["items"], erased, strict=True):
        shown = item if person is None else masked(item, person)
        item["detail"] = reveal_reasons(service.app.personal, shown["detail"])
    return {**found, "as_at_position": stop}


TRIAL_BALANCE_SQL = (
    "SELECT council, account,"
    " CAST(SUM(CASE WHEN amount_pence > 0 THEN amount_pence ELSE 0 END) AS BIGINT) AS debit,"
    " CAST(SUM(CASE WHEN amount_pence < 0 THEN -amount_pence ELSE 0 END) AS BIGINT) AS credit"
    " FROM v_postings WHERE position <= ? AND (CAST(? AS TEXT) IS NULL OR council = ?)"
    " AND (CAST(? AS TEXT) IS NULL OR effective_on <= ?)"
    " GROUP BY council, account ORDER BY council, account"
)
END = 2**62


@router.get("/v1/ledger/trial-balance", responses=FILTERED, response_model=TrialBalance)
def get_trial_balance(
    who: Auditor,
    service: ReadService,
    council: CouncilCode = None,
    as_at: AsAt = None,
    effective_on: Annotated[
        BusinessDate | None, Query(description="Only entries effective on or before this date.")
    ] = None,
) -> Any:
    """Debits, credits and balance per council and account from the postings, as known at an
    instant; the total balance is zero at every point of history."""
    council = council_scope(who, council, service)
    stop = as_at_position(service, as_at)
    day = effective_on.isoformat() if effective_on else None
    rows = service.db.query(
        TRIAL_BALANCE_SQL, (END if stop is None else stop, council, council, day, day)
    )
    accounts = [
        {"council": r["council"], "account": r["account"], "debit_pence": int(r["debit"]),
         "credit_pence": int(r["credit"]), "balance_pence": int(r["debit"]) - int(r["credit"])}
        for r in rows
    ]  # fmt: skip
    total = {k: sum(a[k] for a in accounts) for k in ("debit_pence", "credit_pence")}
    balance = total["debit_pence"] - total["credit_pence"]
    return {
        "council": council,
        "as_at_position": stop,
        "effective_on": day,
        "accounts": accounts,
        "total": {**total, "balance_pence": balance},
        "balanced": balance == 0,
    }


def _chunks(lines: Iterator[str], size: int = 64 * 1024) -> Iterator[str]:
    buffer: list[str] = []
    length = 0
    for line in lines:
        buffer.append(line + "\n")
        length += len(line) + 1
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


@router.get(
    "/v1/export/journal",
    response_class=PlainTextResponse,
    responses={
        200: {
            "description": "The journal as plain text.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **FILTERED,
    },
)
def export_journal(
    who: Auditor,
    service: ReadService,
    fmt: Annotated[
        Literal["hledger", "beancount"],
        Query(alias="format", description="The journal's format: hledger or beancount."),
    ] = "hledger",
    council: CouncilCode = None,
    as_at: AsAt = None,
) -> StreamingResponse:
    """Every posting as plain-text accounting (hledger or beancount), one transaction per entry,
    dated by its effective date, tagged with its entry id and actor; streamed. Account names:
    see `projections/export.py` (beancount puts Funding under Equity, Budgets and Pool under
    Assets)."""
    council = council_scope(who, council, service)
    stop = as_at_position(service, as_at)
    lines = journal_lines(service.db, fmt, council, stop)
    suffix = "beancount" if fmt == "beancount" else "journal"
    return StreamingResponse(
        _chunks(lines),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="careledger.{suffix}"'},
    )
