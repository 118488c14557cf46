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

from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.budget import PersonalBudget
from ledger.council import Council
from ledger.pooled_fund import PooledFund
from projections import history
from projections.db import SqlCursor
from projections.refs import RefsView
from projections.versions import Rows, Table
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


POOL_COLUMNS = ("pool_id", "council", "fund_ref", "partner_contributions_pence",
                "net_disentangled_pence")  # fmt: skip
STATUS = Table("v_budget_status", STATUS_COLUMNS, ("budget_id",))
SPEND = Table("v_budget_spend", SPEND_COLUMNS, ("budget_id", "financial_year"))
ALLOCATION = Table("v_budget_allocation", ALLOCATION_COLUMNS, ("budget_id", "financial_year"))
POOLS = Table("v_pools", POOL_COLUMNS, ("pool_id",))
FLOWS = Table("v_pool_flows", FLOW_COLUMNS, ("pool_id", "effective_on"))
# The tables whose versions the view writes (``projections.versions``); the councils' tables,
# written a few times a year, keep theirs by trigger, the clock set for each of their events.
WRITES_VERSIONS = tuple(t.name for t in (STATUS, SPEND, ALLOCATION, POOLS, FLOWS))


class _Page:
    """The budgets' and pools' rows one page changes, read once and written once at the end of
    the page, each change at its event's ``stamp`` (a statement per event is a round trip per
    event)."""

    def __init__(self, cur: SqlCursor) -> None:
        self.stamp: int | None = None  # the event being applied's
        self.status = STATUS.rows(cur)
        self.spend = SPEND.rows(cur)
        self.allocation = ALLOCATION.rows(cur)
        self.pools = POOLS.rows(cur)
        self.flows = FLOWS.rows(cur)

    def prefetch(self, items: Sequence[Item]) -> None:
        """Read the page's budgets' and pools' rows in a few queries, not one each."""
        budgets = {i.aggregate_id for i in items if isinstance(i.event, PersonalBudget.Event)}
        opened = {i.aggregate_id for i in items if isinstance(i.event, PersonalBudget.Opened)}
        self.status.new((b,) for b in opened)
        self.status.load((b,) for b in budgets)
        for rows in (self.spend, self.allocation):
            rows.load_by_first(budgets - opened)
            rows.new_first(opened)
        pools = {i.aggregate_id for i in items if isinstance(i.event, PooledFund.Event)}
        self.pools.load((p,) for p in pools)
        self.flows.load_by_first(pools)

    def add(self, rows: Rows, key: tuple[str, ...], column: str, pence: int) -> None:
        """``pence`` more in ``column`` of ``key``'s row (a new row of zeros if none)."""
        row = rows.get(key)
        if row is None:
            row = {**dict(zip(rows.table.key, key, strict=True)), column: 0}
            row.update({c: 0 for c in rows.table.columns if c not in row})
        row[column] += pence
        rows.put(row, self.stamp)

    def change(self, budget_id: str, **columns: Any) -> None:
        """A budget's status columns changed (nothing for a budget the view has not opened)."""
        row = self.status.get((budget_id,))
        if row is not None:
            row.update(columns)
            self.status.put(row, self.stamp)

    def _total(self, budget_id: str, column: str, pence: int) -> None:
        row = self.status.get((budget_id,))
        if row is not None:
            row[column] += pence
            self.status.put(row, self.stamp)

    def spend_on(self, budget_id: str, day: date, pence: int) -> None:
        self._total(budget_id, "net_budget_spend_pence", pence)
        self.add(self.spend, (budget_id, financial_year(day)), "net_budget_spend_pence", pence)

    def allocate(self, budget_id: str, change: int, year: str | None) -> None:
        """An allocation's change, to the budget's total and to ``year`` (None: the budget's
        first year, if it has one)."""
        self._total(budget_id, "allocated_pence", change)
        if year is None:
            years = self.allocation.keys_of(budget_id)
            if not years:
                return
            year = min(years)[1]
        self.add(self.allocation, (budget_id, year), "allocated_pence", change)

    def pool_flow(self, pool_id: str, day: date, contributed: int, drawn: int) -> None:
        pool = self.pools.get((pool_id,))
        if pool is not None:
            pool["partner_contributions_pence"] += contributed
            pool["net_disentangled_pence"] += drawn
            self.pools.put(pool, self.stamp)
        key = (pool_id, day.isoformat())
        self.add(self.flows, key, "partner_contributions_pence", contributed)
        self.add(self.flows, key, "net_disentangled_pence", drawn)

    def write(self) -> None:
        for rows in (self.status, self.spend, self.allocation, self.pools, self.flows):
            rows.flush()


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
    row = (*budget, "opened", None, None, None, 0, 0, None)
    page.status.put(dict(zip(STATUS_COLUMNS, row, strict=True)), page.stamp)


def _allocated(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    """The allocation's change, added to the budget's total and to the year it applies to: the
    approval's year, a revision's (the approval year: a budget with years re-assesses by a
    YearAllocated) or the year allocated (rolled over, re-assessed or revised)."""
    budget_id, previous = str(e.originator_id), getattr(e, "previous", None)
    change = e.allocation.total_pence - (previous.total_pence if previous else 0)
    if isinstance(e, PersonalBudget.Revised):
        page.allocate(budget_id, change, None)
    else:
        day = getattr(e, "year_starts_on", e.effective_on)
        page.allocate(budget_id, change, financial_year(day))


def _pool_established(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    pool = (str(e.originator_id), e.council, e.fund_ref, 0, 0)
    page.pools.put(dict(zip(POOL_COLUMNS, pool, strict=True)), page.stamp)


def _approved(cur: SqlCursor, e: Any, refs: RefsView, page: _Page) -> None:
    page.change(str(e.originator_id), status="active", approved_on=e.effective_on.isoformat())
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
    page.change(str(e.originator_id), status=e.status, ended_on=None)


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
        page.change(str(e.originator_id), **changes)

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
# Handlers writing the councils' tables at once, versioned by trigger at the clock's instant.
BY_TRIGGER = frozenset({_council_registered, _policy_changed, _population, _gross_spend})


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
    writes_versions = WRITES_VERSIONS
    stamps_itself = True  # sets the clock for the councils' tables (``BY_TRIGGER``)

    def create(self, cur: SqlCursor) -> None:
        if not drop_if_stale(cur, self, EXPECTED) and not table_columns(cur, "v_budget_allocation"):
            drop_if_stale(cur, self, {"v_budget_status": ()})  # built before years: rebuilt
        for statement in DDL:
            cur.execute(statement)

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        page = _Page(cur)
        page.prefetch(items)
        for item in items:
            handler = HANDLERS.get(type(item.event))
            if handler is None:
                continue
            if handler in BY_TRIGGER and item.stamp is not None:
                history.set_clock(cur, item.stamp)  # its rows are versioned by trigger
            page.stamp = item.stamp
            handler(cur, item.event, refs, page)
        page.write()
