"""Exceptions for auditors: what the events show went off the expected path.

Stored, one row per exception at the position of the event that shows it (``seq`` numbers the
rows of one event): each invoice flag at posting (provider-not-registered, outside-budget-life,
over-plan, overlapping-period, not-commissioned), ``flag-overridden`` (a flagged invoice approved
with a reason), ``dispute``, ``correction``, ``surplus-identified``, and ``payment-after-ending``
(a cash payment effective after the budget's end date, or an invoice payment effective after it
for care that ran past it — a final invoice for care delivered by the end is paid after the end
under rule 12 and is no exception: possible only when the ending is back-dated, so it is found
when the ending is recorded, or when a payment is).

Computed at query time for a date (``projections.views.exceptions_query``): reviews overdue and
surplus above the council's threshold. Rows hold short codes and references, never personal data.

Every row has two times: ``effective_on``, its business date, and ``recorded_at``, the instant
the ledger learned of it (the recorded time of the event at its position). A table made by a
release without ``recorded_at`` is dropped when the view is set up, and the view is projected
again from the start of the log.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.budget import PersonalBudget
from ledger.invoice import Invoice
from ledger.personal import PREFIX
from ledger.pooled_fund import PooledFund
from projections.bulk import insert_rows
from projections.db import SqlCursor
from projections.refs import RefsView
from projections.versions import Table
from projections.views.audit import recorded_at
from projections.views.exceptions_query import FLAGS, STORED_KINDS, exceptions

if TYPE_CHECKING:
    from projections.runner import Item

__all__ = ["STORED_KINDS", "ExceptionsView", "add_months", "exceptions"]

PAYMENTS = (PersonalBudget.CashPaymentIssued, Invoice.Paid)
CHUNK = 500  # ids per IN list, well inside both dialects' limits on parameters
FIRST_REVIEW_MONTHS = 6  # review a direct payment within its first 6 months ...
REVIEW_MONTHS = 12  # ... then at least every 12 months (DP Regulations 2014 reg 7)

DDL = (
    "CREATE TABLE IF NOT EXISTS v_exceptions (position BIGINT NOT NULL, seq INTEGER NOT NULL,"
    " council TEXT NOT NULL, kind TEXT NOT NULL, budget_id TEXT, invoice_id TEXT, provider TEXT,"
    " amount_pence BIGINT, effective_on TEXT NOT NULL, detail TEXT NOT NULL,"
    " recorded_at TEXT NOT NULL, PRIMARY KEY (position, seq))",
    "CREATE INDEX IF NOT EXISTS v_exceptions_invoice ON v_exceptions (invoice_id)",
    "CREATE TABLE IF NOT EXISTS v_exception_budget_state (budget_id TEXT PRIMARY KEY,"
    " council TEXT NOT NULL, approved_on TEXT, first_review_due_on TEXT, ended_on TEXT,"
    " approved_recorded_at TEXT)",
    "CREATE TABLE IF NOT EXISTS v_exception_reviews (budget_id TEXT NOT NULL,"
    " effective_on TEXT NOT NULL, next_due_on TEXT NOT NULL, recorded_at TEXT NOT NULL,"
    " PRIMARY KEY (budget_id, effective_on))",
    "CREATE TABLE IF NOT EXISTS v_exception_payments (position BIGINT PRIMARY KEY,"
    " budget_id TEXT NOT NULL, invoice_id TEXT, provider TEXT, amount_pence BIGINT NOT NULL,"
    " effective_on TEXT NOT NULL, care_ends_on TEXT)",
    "CREATE TABLE IF NOT EXISTS v_exception_invoice_ends (invoice_id TEXT PRIMARY KEY,"
    " care_ends_on TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS v_exception_payments_budget"
    " ON v_exception_payments (budget_id, effective_on)",
)
READER_INDEXES = (  # the projection reads through v_exceptions_invoice and the payments index only
    "CREATE INDEX IF NOT EXISTS v_exceptions_council ON v_exceptions (council, position)",
    "CREATE INDEX IF NOT EXISTS v_exceptions_kind ON v_exceptions (kind, position)",
    "CREATE INDEX IF NOT EXISTS v_exception_budget_state_council"
    " ON v_exception_budget_state (council, budget_id)",
)
STATE_COLUMNS = ("budget_id", "council", "approved_on", "first_review_due_on", "ended_on",
                 "approved_recorded_at")  # fmt: skip
STATES = Table("v_exception_budget_state", STATE_COLUMNS, ("budget_id",))
ENDINGS_SQL = (
    "SELECT budget_id, ended_on FROM v_exception_budget_state"
    " WHERE ended_on IS NOT NULL AND budget_id IN"
)
ROW_COLUMNS = ("position", "seq", "council", "kind", "budget_id", "invoice_id", "provider",
               "amount_pence", "effective_on", "detail", "recorded_at")  # fmt: skip
PAYMENT_COLUMNS = ("position", "budget_id", "invoice_id", "provider", "amount_pence",
                   "effective_on", "care_ends_on")  # fmt: skip
# A back-dated ending finds the payments after it: cash by date; an invoice's by date and care.
AFTER_ENDING_SQL = (
    "SELECT * FROM v_exception_payments WHERE budget_id = ? AND effective_on > ?"
    " AND (care_ends_on IS NULL OR care_ends_on > ?) ORDER BY position"
)
INVOICE_ENDS_SQL = (
    "SELECT invoice_id, care_ends_on FROM v_exception_invoice_ends WHERE invoice_id IN"
)
REVIEW_COLUMNS = ("budget_id", "effective_on", "next_due_on", "recorded_at")
REVIEWS = Table("v_exception_reviews", REVIEW_COLUMNS, ("budget_id", "effective_on"))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 August + 6 → 28/29 February)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class _Page:
    """One page's writes, buffered; flushed before any read so reads see every earlier event.
    A budget's state and reviews are written at the end of the page, each change at its
    event's ``stamp`` (``projections.versions``)."""

    def __init__(self, cur: SqlCursor) -> None:
        self.cur = cur
        self.stamp: int | None = None  # the event being applied's
        self.rows: list[tuple[Any, ...]] = []
        self.payments: list[tuple[Any, ...]] = []
        self.ended: dict[str, str] = {}  # budget → ended_on, of ended budgets paid in the page
        self.flags: dict[str, tuple[str, ...]] = {}  # invoices posted in the page
        self.care_ends: dict[str, str] = {}  # invoice → its service period's end
        self.new_ends: list[tuple[str, str]] = []  # of invoices posted in the page
        self.seq: dict[int, int] = {}  # position → rows written for it
        self.states = STATES.rows(cur)
        self.reviews = REVIEWS.rows(cur)

    def prefetch(self, items: Sequence[Item]) -> None:
        """Read the states and reviews the page changes in a few queries, not one each."""
        kinds = (PersonalBudget.Ended, PersonalBudget.Approved)
        self.states.load((i.aggregate_id,) for i in items if isinstance(i.event, kinds))
        self.reviews.load(
            (i.aggregate_id, i.event.effective_on.isoformat())
            for i in items
            if isinstance(i.event, PersonalBudget.Reviewed)
        )

    def review(self, row: dict[str, str]) -> None:
        """A review, kept as first recorded for its budget and date."""
        if self.reviews.get(REVIEWS.key_of(row)) is None:
            self.reviews.put(row, self.stamp)

    def finish(self) -> None:
        self.flush()
        self.states.flush()
        self.reviews.flush()

    def flush(self) -> None:
        insert_rows(self.cur, "v_exceptions", ROW_COLUMNS, self.rows)
        insert_rows(self.cur, "v_exception_payments", PAYMENT_COLUMNS, self.payments)
        insert_rows(self.cur, "v_exception_invoice_ends", ("invoice_id", "care_ends_on"),
                    self.new_ends, "ON CONFLICT (invoice_id) DO NOTHING")  # fmt: skip
        self.rows, self.payments, self.new_ends = [], [], []

    def state(self, budget_id: str, council: str | None, *dates: str | None) -> None:
        """A budget's (approved_on, first_review_due_on, ended_on, approved_recorded_at)
        changed: a value replaces, a None keeps."""
        row = self.states.get((budget_id,)) or dict.fromkeys(STATE_COLUMNS)
        row.update(budget_id=budget_id, council=row["council"] or council)
        for column, value in zip(STATE_COLUMNS[2:], dates, strict=True):
            if value is not None:
                row[column] = value
        self.states.put(row, self.stamp)

    def add(
        self, item: Item, kind: str, ref: Any, amount: int | None, detail: str, **kw: Any
    ) -> None:
        """A row at the item's position; ``ref`` gives council, budget and provider."""
        seq = self.seq.get(item.position, 0)
        self.seq[item.position] = seq + 1
        self.rows.append(
            (item.position, seq, ref.council, kind, kw.get("budget_id", ref.budget_id),
             kw.get("invoice_id"), kw.get("provider", ref.provider), amount,
             kw.get("effective_on", item.event.effective_on.isoformat()), _clip(detail),
             recorded_at(item.event))
        )  # fmt: skip

    def load_endings(self, items: Sequence[Item], refs: RefsView) -> None:
        """The end dates of the budgets paid in this page, read in a few queries, not one each."""
        paid = sorted({_paid_budget(i, refs) for i in items if type(i.event) in PAYMENTS})
        for start in range(0, len(paid), CHUNK):
            chunk = paid[start : start + CHUNK]
            marks = ", ".join("?" * len(chunk))  # placeholders only: the ids are parameters
            sql = f"{ENDINGS_SQL} ({marks})"
            rows = self.cur.execute(sql, chunk).fetchall()
            self.ended.update((r["budget_id"], r["ended_on"]) for r in rows)
        invoices = sorted({i.aggregate_id for i in items if isinstance(i.event, Invoice.Paid)})
        for start in range(0, len(invoices), CHUNK):
            chunk = invoices[start : start + CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = self.cur.execute(f"{INVOICE_ENDS_SQL} ({marks})", chunk).fetchall()
            self.care_ends.update((r["invoice_id"], r["care_ends_on"]) for r in rows)

    def invoice_flags(self, invoice_id: str) -> tuple[str, ...]:
        if invoice_id not in self.flags:
            rows = self.cur.execute(
                "SELECT kind FROM v_exceptions WHERE invoice_id = ? AND kind IN (?, ?, ?, ?, ?)"
                " ORDER BY position, seq",
                (invoice_id, *FLAGS),
            ).fetchall()
            self.flags[invoice_id] = tuple(r["kind"] for r in rows)
        return self.flags[invoice_id]


def _clip(detail: str) -> str:
    """At most 120 characters, but a sealed reason whole (it opens whole or not at all)."""
    return detail if PREFIX in detail else detail[:120]


def _posted(page: _Page, item: Item, refs: RefsView) -> None:
    e, invoice = item.event, item.aggregate_id
    page.flags[invoice] = tuple(e.flags)
    page.care_ends[invoice] = e.period.end.isoformat()
    page.new_ends.append((invoice, e.period.end.isoformat()))
    detail = f"{e.invoice_number} {e.period.start.isoformat()}..{e.period.end.isoformat()}"
    for flag in e.flags:
        page.add(item, flag, refs.get(invoice), e.amount_pence, detail, invoice_id=invoice)


def _approved(page: _Page, item: Item, refs: RefsView) -> None:
    e = item.event
    if e.prov.reason is None:  # a flagged invoice cannot be approved without a reason
        return
    if e.short_pay_rest == "disputed":  # a short-pay: the rest is disputed in the same command
        page.add(item, "dispute", refs.get(item.aggregate_id), e.short_paid_pence,
                 f"short-pay: {e.prov.reason}", invoice_id=item.aggregate_id)  # fmt: skip
    flags = page.invoice_flags(item.aggregate_id)
    if flags:
        detail = f"{e.prov.reason}: {','.join(flags)}"
        page.add(item, "flag-overridden", refs.get(item.aggregate_id), e.amount_pence, detail,
                 invoice_id=item.aggregate_id)  # fmt: skip


def _disputed(page: _Page, item: Item, refs: RefsView) -> None:
    e = item.event
    page.add(item, "dispute", refs.get(item.aggregate_id), None, str(e.prov.reason),
             invoice_id=item.aggregate_id)  # fmt: skip


def _paid(page: _Page, item: Item, refs: RefsView) -> None:
    """A cash payment (on the budget) or an invoice payment (on the invoice)."""
    e = item.event
    ref = refs.get(item.aggregate_id)
    invoice = item.aggregate_id if isinstance(e, Invoice.Paid) else None
    budget_id, day = str(ref.budget_id), e.effective_on.isoformat()
    care = page.care_ends.get(invoice) if invoice is not None else None
    row = (item.position, budget_id, invoice, ref.provider, e.amount_pence, day, care)
    page.payments.append(row)
    ended = page.ended.get(budget_id)
    if ended is not None and day > ended and (care is None or care > ended):
        page.add(item, "payment-after-ending", ref, e.amount_pence, f"ended {ended}",
                 invoice_id=invoice)  # fmt: skip


def _ended(page: _Page, item: Item, refs: RefsView) -> None:
    """Back-dated endings: every payment already recorded with a later effective date."""
    e, budget_id = item.event, item.aggregate_id
    ended = e.effective_on.isoformat()
    page.ended[budget_id] = ended
    ref = refs.get(budget_id)
    page.state(budget_id, ref.council, None, None, ended, None)
    page.flush()
    payments = page.cur.execute(AFTER_ENDING_SQL, (budget_id, ended, ended)).fetchall()
    for p in payments:
        page.add(item, "payment-after-ending", ref, int(p["amount_pence"]),
                 f"ended {ended}; paid at position {p['position']}", invoice_id=p["invoice_id"],
                 provider=p["provider"], effective_on=p["effective_on"])  # fmt: skip


def _budget_approved(page: _Page, item: Item, refs: RefsView) -> None:
    e = item.event
    due = add_months(e.effective_on, FIRST_REVIEW_MONTHS).isoformat()
    council = refs.get(item.aggregate_id).council
    approved = e.effective_on.isoformat()
    page.state(item.aggregate_id, council, approved, due, None, recorded_at(e))


def _reviewed(page: _Page, item: Item, refs: RefsView) -> None:
    e = item.event
    due = add_months(e.effective_on, REVIEW_MONTHS).isoformat()
    row = (item.aggregate_id, e.effective_on.isoformat(), due, recorded_at(e))
    page.review(dict(zip(REVIEW_COLUMNS, row, strict=True)))


def _corrected(page: _Page, item: Item, refs: RefsView) -> None:
    """A correction (rule 10) of an entry on a budget, an invoice or a pooled fund."""
    e = item.event
    pool_entry = (
        "DrawnDown" if isinstance(e, PooledFund.DrawdownReversed) else "ContributionReceived"
    )
    entry_type = getattr(e, "entry_type", pool_entry)  # a pool's: a contribution or drawdown
    detail = f"{entry_type} v{e.entry_version}: {e.prov.reason}"
    invoice = item.aggregate_id if isinstance(e, Invoice.EntryReversed) else None
    page.add(item, "correction", refs.get(item.aggregate_id), e.amount_pence, detail,
             invoice_id=invoice)  # fmt: skip


def _surplus(page: _Page, item: Item, refs: RefsView) -> None:
    e = item.event
    detail = f"held {e.held_pence} threshold {e.threshold_pence}"
    page.add(item, "surplus-identified", refs.get(item.aggregate_id), e.amount_pence, detail)


def _paid_budget(item: Item, refs: RefsView) -> str:
    return str(refs.get(item.aggregate_id).budget_id)


Handler = Callable[[_Page, "Item", RefsView], None]
HANDLERS: dict[type[Any], Handler] = {
    Invoice.Posted: _posted,
    Invoice.Approved: _approved,
    Invoice.Disputed: _disputed,
    Invoice.Paid: _paid,
    PersonalBudget.CashPaymentIssued: _paid,
    PersonalBudget.Ended: _ended,
    PersonalBudget.Approved: _budget_approved,
    PersonalBudget.Reviewed: _reviewed,
    PersonalBudget.Corrected: _corrected,
    Invoice.EntryReversed: _corrected,
    PooledFund.ContributionReversed: _corrected,
    PooledFund.DrawdownReversed: _corrected,
    PersonalBudget.SurplusIdentified: _surplus,
}


class ExceptionsView:
    name = "exceptions"
    tables: tuple[str, ...] = (
        "v_exceptions",
        "v_exception_budget_state",
        "v_exception_reviews",
        "v_exception_payments",
        "v_exception_invoice_ends",
    )
    # An invoice's period end is written once, never changed: no history needed.
    history_free = ("v_exception_invoice_ends",)
    indexes: tuple[str, ...] = READER_INDEXES
    # Rows per event, never changed: their history is the rows up to a position.
    append_only = (("v_exceptions", "position"), ("v_exception_payments", "position"))
    writes_versions = (STATES.name, REVIEWS.name)

    def create(self, cur: SqlCursor) -> None:
        if _made_by_an_older_release(cur):  # project it again from the log
            for table in self.tables:
                cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(
                "UPDATE careledger_view_tracking SET position = 0 WHERE view = ?", (self.name,)
            )
        for statement in DDL:
            cur.execute(statement)

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        page = _Page(cur)
        page.load_endings(items, refs)
        page.prefetch(items)
        for item in items:
            handler = HANDLERS.get(type(item.event))
            if handler is not None:
                page.stamp = item.stamp
                handler(page, item, refs)
        page.finish()


def _made_by_an_older_release(cur: SqlCursor) -> bool:
    """Whether ``v_exceptions`` exists without its ``recorded_at`` column, or the payments
    table without ``care_ends_on``."""
    return _lacks(cur, "v_exceptions", "recorded_at") or _lacks(
        cur, "v_exception_payments", "care_ends_on"
    )


def _lacks(cur: SqlCursor, table: str, column: str) -> bool:
    if cur.dialect == "postgres":
        sql = (
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?"
        )
    else:
        sql = "SELECT name FROM pragma_table_info(?)"
    names = {r["name"] for r in cur.execute(sql, (table,)).fetchall()}
    return bool(names) and column not in names
