"""Council and national progress: personal-budget uptake against the 2010 target (30% of eligible
people by April 2011), direct payments, spend through personal budgets and pooled NHS money.

The view stores only what events say; the measures for a business date ``on`` are computed at
query time (``projections.views.progress_measures``). Tables: ``v_councils`` (policy),
``v_council_population`` (each record by date), ``v_council_spend`` (gross spend by year),
``v_budget_status`` (one row a budget: status, current deployment, dates, allocated and spent),
``v_budget_spend`` (each budget's spend by financial year of the entries' effective dates),
``v_budget_allocation`` (each budget's allocation by the financial year its budget year starts
in: the approval's, as revised, then each year allocated — rule 14, pro-rated as the budget has it),
``v_pools`` (each pooled fund's totals) and ``v_pool_flows`` (its money by effective date), so
spend and pooled money read as at ``on``. Spent is the net spend through the budget, the journal's
Budgets:Drawn: cash paid - cash reversed + invoices approved - credit notes - surplus recovered
and refunded, each by its effective date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.budget import PersonalBudget
from ledger.council import Council
from ledger.pooled_fund import PooledFund
from projections.bulk import insert_rows
from projections.db import SqlCursor
from projections.refs import RefsView
from projections.views.progress_measures import (
    council_progress,
    financial_year,
    national_progress,
)
from projections.views.stale import columns as table_columns
from projections.views.stale import drop_if_stale

if TYPE_CHECKING:
    from projections.runner import Item

__all__ = ["ProgressView", "council_progress", "financial_year", "national_progress"]

DDL = (
    "CREATE TABLE IF NOT EXISTS v_councils (code TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " surplus_weeks INTEGER NOT NULL, invoice_tolerance_bp INTEGER NOT NULL,"
    " max_contingency_bp INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS v_council_population (code TEXT NOT NULL,"
    " effective_on TEXT NOT NULL, support_reason TEXT NOT NULL, eligible BIGINT NOT NULL,"
    " PRIMARY KEY (code, effective_on, support_reason))",
    "CREATE TABLE IF NOT EXISTS v_council_spend (code TEXT NOT NULL, financial_year TEXT NOT NULL,"
    " gross_asc_spend_pence BIGINT NOT NULL, PRIMARY KEY (code, financial_year))",
    "CREATE TABLE IF NOT EXISTS v_budget_status (budget_id TEXT PRIMARY KEY,"
    " council TEXT NOT NULL, support_reason TEXT NOT NULL, carer_budget INTEGER NOT NULL,"
    " status TEXT NOT NULL, deployment TEXT, approved_on TEXT, ended_on TEXT,"
    " allocated_pence BIGINT NOT NULL, net_budget_spend_pence BIGINT NOT NULL,"
    " last_review_on TEXT)",
    "CREATE TABLE IF NOT EXISTS v_budget_spend (budget_id TEXT NOT NULL,"
    " financial_year TEXT NOT NULL, net_budget_spend_pence BIGINT NOT NULL,"
    " PRIMARY KEY (budget_id, financial_year))",
    "CREATE TABLE IF NOT EXISTS v_budget_allocation (budget_id TEXT NOT NULL,"
    " financial_year TEXT NOT NULL, allocated_pence BIGINT NOT NULL,"
    " PRIMARY KEY (budget_id, financial_year))",
    "CREATE TABLE IF NOT EXISTS v_pools (pool_id TEXT PRIMARY KEY, council TEXT NOT NULL,"
    " fund_ref TEXT NOT NULL, partner_contributions_pence BIGINT NOT NULL,"
    " net_disentangled_pence BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS v_pool_flows (pool_id TEXT NOT NULL, effective_on TEXT NOT NULL,"
    " partner_contributions_pence BIGINT NOT NULL, net_disentangled_pence BIGINT NOT NULL,"
    " PRIMARY KEY (pool_id, effective_on))",
)
READER_INDEXES = (
    "CREATE INDEX IF NOT EXISTS v_budget_status_council ON v_budget_status (council, approved_on)",
    "CREATE INDEX IF NOT EXISTS v_budget_spend_year ON v_budget_spend (financial_year)",
)

STATUS_COLUMNS = ("budget_id", "council", "support_reason", "carer_budget", "status", "deployment",
                  "approved_on", "ended_on", "allocated_pence", "net_budget_spend_pence",
                  "last_review_on")  # fmt: skip
SPEND_COLUMNS = ("budget_id", "financial_year", "net_budget_spend_pence")
ALLOCATION_COLUMNS = ("budget_id", "financial_year", "allocated_pence")
ALLOCATION_ADD = (
    "ON CONFLICT (budget_id, financial_year) DO UPDATE SET allocated_pence ="
    " v_budget_allocation.allocated_pence + excluded.allocated_pence"
)
SPEND_ADD = (
    "ON CONFLICT (budget_id, financial_year)"
    " DO UPDATE SET net_budget_spend_pence ="
    " v_budget_spend.net_budget_spend_pence + excluded.net_budget_spend_pence"
)
FLOW_COLUMNS = ("pool_id", "effective_on", "partner_contributions_pence",
                "net_disentangled_pence")  # fmt: skip
EXPECTED = {  # the tables whose columns issue 11 renamed: an older store's are rebuilt
    "v_council_spend": ("code", "financial_year", "gross_asc_spend_pence"),
    "v_budget_status": STATUS_COLUMNS,
    "v_budget_spend": SPEND_COLUMNS,
    "v_pools": ("pool_id", "council", "fund_ref", "partner_contributions_pence",
                "net_disentangled_pence"),
    "v_pool_flows": FLOW_COLUMNS,
}  # fmt: skip
FLOW_ADD = (
    "ON CONFLICT (pool_id, effective_on) DO UPDATE SET"
    " partner_contributions_pence ="
    " v_pool_flows.partner_contributions_pence + excluded.partner_contributions_pence,"
    " net_disentangled_pence ="
    " v_pool_flows.net_disentangled_pence + excluded.net_disentangled_pence"
)


class _Page:
    """Budgets opened, their status changes and money deltas of one page, gathered in memory and
    written once at the end of the page (a statement per event is a round trip per event)."""

    def __init__(self) -> None:
        self.opened: list[tuple[Any, ...]] = []
        self.status: defaultdict[str, dict[str, Any]] = defaultdict(dict)  # budget → columns
        self.spent: defaultdict[str, int] = defaultdict(int)
        self.spend: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.allocated: defaultdict[str, int] = defaultdict(int)
        self.years: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.revised: defaultdict[str, int] = defaultdict(int)  # the approval year's change
        self.pools: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.flows: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])

    def spend_on(self, budget_id: str, day: date, pence: int) -> None:
        self.spent[budget_id] += pence
        self.spend[(budget_id, financial_year(day))] += pence

    def pool_flow(self, pool_id: str, day: date, contributed: int, drawn: int) -> None:
        for totals in (self.pools[pool_id], self.flows[(pool_id, day.isoformat())]):
            totals[0] += contributed
            totals[1] += drawn

    def write(self, cur: SqlCursor) -> None:
        insert_rows(cur, "v_budget_status", STATUS_COLUMNS, self.opened)
        changes: defaultdict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
        for budget_id, values in sorted(self.status.items()):
            changes[tuple(values)].append((*values.values(), budget_id))
        for columns, rows in changes.items():
            sets = ", ".join(f"{c} = ?" for c in columns)  # constant column names
            cur.executemany(f"UPDATE v_budget_status SET {sets} WHERE budget_id = ?", rows)  # noqa: S608
        cur.executemany(
            "UPDATE v_budget_status SET net_budget_spend_pence = net_budget_spend_pence + ?"
            " WHERE budget_id = ?",
            [(pence, b) for b, pence in sorted(self.spent.items())],
        )
        cur.executemany(
            "UPDATE v_budget_status SET allocated_pence = allocated_pence + ? WHERE budget_id = ?",
            [(pence, b) for b, pence in sorted(self.allocated.items())],
        )
        years = [(b, y, p) for (b, y), p in sorted(self.years.items())]
        insert_rows(cur, "v_budget_allocation", ALLOCATION_COLUMNS, years, ALLOCATION_ADD)
        cur.executemany(  # a revision without year events: the approval year, the budget's first
            "UPDATE v_budget_allocation SET allocated_pence = allocated_pence + ?"
            " WHERE budget_id = ? AND financial_year = (SELECT MIN(financial_year)"
            " FROM v_budget_allocation WHERE budget_id = ?)",
            [(pence, b, b) for b, pence in sorted(self.revised.items())],
        )
        spend = [(b, y, p) for (b, y), p in sorted(self.spend.items())]
        insert_rows(cur, "v_budget_spend", SPEND_COLUMNS, spend, SPEND_ADD)
        cur.executemany(
            "UPDATE v_pools SET partner_contributions_pence = partner_contributions_pence + ?,"
            " net_disentangled_pence = net_disentangled_pence + ? WHERE pool_id = ?",
            [(c, d, pool) for pool, (c, d) in sorted(self.pools.items())],
        )
        flows = [(p, d, c, w) for (p, d), (c, w) in sorted(self.flows.items())]
        insert_rows(cur, "v_pool_flows", FLOW_COLUMNS, flows, FLOW_ADD)


Handler = Callable[[SqlCursor, Any, RefsView, _Page], None]


def _council_registered(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    cur.execute(
        "INSERT INTO v_councils (code, name, surplus_weeks, invoice_tolerance_bp,"
        " max_contingency_bp) VALUES (?, ?, ?, ?, ?)",
        (e.code, e.name, e.surplus_weeks, e.invoice_tolerance_bp, e.max_contingency_bp),
    )


def _policy_changed(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    cur.execute(
        "UPDATE v_councils SET surplus_weeks = ?, invoice_tolerance_bp = ?,"
        " max_contingency_bp = ? WHERE code = ?",
        (e.surplus_weeks, e.invoice_tolerance_bp, e.max_contingency_bp, _code(e, refs)),
    )


def _population(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    """A record for a date replaces any earlier record for that same date, as in the council."""
    code, day = _code(e, refs), e.effective_on.isoformat()
    cur.execute("DELETE FROM v_council_population WHERE code = ? AND effective_on = ?", (code, day))
    cur.executemany(
        "INSERT INTO v_council_population (code, effective_on, support_reason, eligible)"
        " VALUES (?, ?, ?, ?)",
        [(code, day, reason, count) for reason, count in sorted(e.counts.items())],
    )


def _gross_spend(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    cur.execute(
        "INSERT INTO v_council_spend (code, financial_year, gross_asc_spend_pence)"
        " VALUES (?, ?, ?) ON CONFLICT (code, financial_year)"
        " DO UPDATE SET gross_asc_spend_pence = excluded.gross_asc_spend_pence",
        (_code(e, refs), e.financial_year, e.gross_pence),
    )


def _opened(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    budget = (str(e.originator_id), e.council, e.support_reason, int(e.carer_budget))
    page.opened.append((*budget, "opened", None, None, None, 0, 0, None))


def _allocated(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    """The allocation's change, added to the budget's total and to the year it applies to: the
    approval's year, a revision's (the approval year: a budget with years re-assesses by a
    YearAllocated) or the year allocated (rolled over, re-assessed or revised)."""
    budget_id, previous = str(e.originator_id), getattr(e, "previous", None)
    change = e.allocation.total_pence - (previous.total_pence if previous else 0)
    page.allocated[budget_id] += change
    if isinstance(e, PersonalBudget.Revised):
        page.revised[budget_id] += change
    else:
        day = getattr(e, "year_starts_on", e.effective_on)
        page.years[(budget_id, financial_year(day))] += change


def _pool_established(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    cur.execute(
        "INSERT INTO v_pools (pool_id, council, fund_ref, partner_contributions_pence,"
        " net_disentangled_pence) VALUES (?, ?, ?, 0, 0)",
        (str(e.originator_id), e.council, e.fund_ref),
    )


def _approved(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    page.status[str(e.originator_id)].update(
        {"status": "active", "approved_on": e.effective_on.isoformat()}
    )
    _allocated(cur, e, refs, page)


def _code(event: Any, refs: RefsView) -> str:
    return str(refs.get(event.originator_id).council)


def _correction(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    """A reversed cash payment (or net contribution charge) is spend undone; a reversed
    recovery, money spent again."""
    if e.entry_type in ("CashPaymentIssued", "ContributionChargedNet"):
        page.spend_on(str(e.originator_id), e.effective_on, -e.amount_pence)
    elif e.entry_type in ("SurplusRecovered", "BalanceRecovered"):
        page.spend_on(str(e.originator_id), e.effective_on, e.amount_pence)


def _invoice_entry_reversed(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    """A reversed approval is spend undone; a reversed credit note, spend again."""
    sign = {"Approved": -1, "CreditNoteIssued": 1}.get(e.entry_type, 0)
    if sign:
        page.spend_on(str(e.originator_id), e.effective_on, sign * e.amount_pence)


def _reinstated(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    page.status[str(e.originator_id)].update({"status": e.status, "ended_on": None})


def _surplus_returned(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    """Recovered surplus (and over-paid contribution refunded) is money the budget did not spend."""
    page.spend_on(str(e.originator_id), e.effective_on, -(e.recovered_pence + e.refunded_pence))


def _contribution_charged(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    """Paid net, the client's share of the care is drawn with the period's cash."""
    if e.net:
        page.spend_on(str(e.originator_id), e.effective_on, e.amount_pence)


def _spend(sign: int) -> Handler:
    def handle(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
        page.spend_on(str(e.originator_id), e.effective_on, sign * e.amount_pence)

    return handle


def _flow(contributed: int, drawn: int) -> Handler:
    def handle(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
        pence = e.amount_pence
        page.pool_flow(str(e.originator_id), e.effective_on, contributed * pence, drawn * pence)

    return handle


def _status(fixed: dict[str, str], **fields: str) -> Handler:
    """A handler setting budget columns: ``fixed`` values, and the event's ``fields`` (column →
    attribute path); a later event of the page overwrites an earlier one's, as updates would."""

    def handle(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
        changes = {**fixed, **{column: _field(e, path) for column, path in fields.items()}}
        page.status[str(e.originator_id)].update(changes)

    return handle


def _field(event: Any, path: str) -> Any:
    value: Any = event
    for part in path.split("."):
        value = getattr(value, part)
    return value.isoformat() if isinstance(value, date) else value


HANDLERS: dict[type[Any], Handler] = {
    Council.Registered: _council_registered,
    Council.PolicyChanged: _policy_changed,
    Council.EligiblePopulationRecorded: _population,
    Council.GrossSpendRecorded: _gross_spend,
    PersonalBudget.Opened: _opened,
    PersonalBudget.Approved: _approved,
    PersonalBudget.Revised: _allocated,
    PersonalBudget.YearAllocated: _allocated,
    PersonalBudget.DeploymentChosen: _status({}, deployment="deployment.kind"),
    PersonalBudget.Suspended: _status({"status": "suspended"}),
    PersonalBudget.Resumed: _status({"status": "active"}),
    PersonalBudget.Ended: _status({"status": "ended"}, ended_on="effective_on"),
    PersonalBudget.Reviewed: _status({}, last_review_on="effective_on"),
    PersonalBudget.CashPaymentIssued: _spend(1),
    PersonalBudget.InvoiceCharged: _spend(1),
    PersonalBudget.InvoiceCredited: _spend(-1),
    PersonalBudget.Corrected: _correction,
    PersonalBudget.SurplusRecovered: _surplus_returned,
    PersonalBudget.BalanceRecovered: _surplus_returned,
    PersonalBudget.InvoiceEntryReversed: _invoice_entry_reversed,
    PersonalBudget.Reinstated: _reinstated,
    PersonalBudget.ContributionCharged: _contribution_charged,
    PooledFund.Established: _pool_established,
    PooledFund.ContributionReceived: _flow(1, 0),
    PooledFund.DrawnDown: _flow(0, 1),
    PooledFund.Released: _flow(0, -1),
    PooledFund.ContributionReversed: _flow(-1, 0),
    PooledFund.DrawdownReversed: _flow(0, -1),
}


class ProgressView:
    name = "progress"
    tables: tuple[str, ...] = (
        "v_councils",
        "v_council_population",
        "v_council_spend",
        "v_budget_status",
        "v_budget_spend",
        "v_budget_allocation",
        "v_pools",
        "v_pool_flows",
    )
    indexes: tuple[str, ...] = READER_INDEXES

    def create(self, cur: SqlCursor) -> None:
        if not drop_if_stale(cur, self, EXPECTED) and not table_columns(cur, "v_budget_allocation"):
            drop_if_stale(cur, self, {"v_budget_status": ()})  # built before years: rebuilt
        for statement in DDL:
            cur.execute(statement)

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        page = _Page()
        for item in items:
            handler = HANDLERS.get(type(item.event))
            if handler is not None:
                handler(cur, item.event, refs, page)
        page.write(cur)
