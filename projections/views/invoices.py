"""Invoice status: every invoice with its current state, and its history event by event.

A page loads the rows of the invoices it touches in one query, folds their events in Python,
writes each invoice once (with a version for each instant that changed it,
``projections.versions``) and appends one history row per event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ledger.invoice import Invoice
from ledger.values import InvoiceStatus
from projections.bulk import insert_rows
from projections.db import SqlCursor, ViewDb
from projections.refs import RefsView
from projections.versions import Table
from projections.views.stale import drop_if_stale

if TYPE_CHECKING:
    from projections.runner import Item

COLUMNS = (
    "invoice_id", "council", "budget_id", "provider", "invoice_number", "period_start",
    "period_end", "service_month", "amount_pence", "status", "flags", "approved_pence",
    "paid_pence", "credit_notes_pence", "remittance_ref", "version", "posted_position",
    "updated_position",
)  # fmt: skip
HISTORY_COLUMNS = (
    "invoice_id", "version", "position", "status", "event_type", "effective_on", "actor_role",
    "reason", "amount_pence",
)  # fmt: skip
DEFAULT_LIMIT = 100
_key = itemgetter(0, 1)  # a history row's primary key
MAX_LIMIT = 1000

INVOICES_DDL = (
    "CREATE TABLE IF NOT EXISTS v_invoices (invoice_id TEXT PRIMARY KEY, council TEXT NOT NULL,"
    " budget_id TEXT NOT NULL, provider TEXT NOT NULL, invoice_number TEXT NOT NULL,"
    " period_start TEXT NOT NULL, period_end TEXT NOT NULL, service_month TEXT NOT NULL,"
    " amount_pence BIGINT NOT NULL, status TEXT NOT NULL, flags TEXT NOT NULL,"
    " approved_pence BIGINT NOT NULL, paid_pence BIGINT NOT NULL,"
    " credit_notes_pence BIGINT NOT NULL, remittance_ref TEXT, version INTEGER NOT NULL,"
    " posted_position BIGINT NOT NULL, updated_position BIGINT NOT NULL)"
)
HISTORY_DDL = (
    "CREATE TABLE IF NOT EXISTS v_invoice_history (invoice_id TEXT NOT NULL,"
    " version INTEGER NOT NULL, position BIGINT NOT NULL, status TEXT NOT NULL,"
    " event_type TEXT NOT NULL, effective_on TEXT NOT NULL, actor_role TEXT NOT NULL,"
    " reason TEXT, amount_pence BIGINT, PRIMARY KEY (invoice_id, version))"
)


INVOICES = Table("v_invoices", COLUMNS, ("invoice_id",))
Row = dict[str, Any]
# What a reversal (rule 10) of each money entry takes back: the invoice's figures are as they
# stand, each reversal in the history beside the entry it reverses.
REVERSES = {
    "Approved": "approved_pence",
    "Paid": "paid_pence",
    "CreditNoteIssued": "credit_notes_pence",
}
CHANGES: dict[type[Any], Callable[[Row, Any], Row]] = {
    Invoice.Approved: lambda r, e: {
        "status": InvoiceStatus.APPROVED.value,
        "approved_pence": e.amount_pence,
    },
    Invoice.Disputed: lambda r, e: {"status": InvoiceStatus.DISPUTED.value},
    Invoice.Rejected: lambda r, e: {"status": InvoiceStatus.REJECTED.value},
    Invoice.Paid: lambda r, e: {
        "status": InvoiceStatus.PAID.value,
        "paid_pence": r["paid_pence"] + e.amount_pence,  # a reversed payment is paid again
        "remittance_ref": e.remittance_ref,
    },
    Invoice.CreditNoteIssued: lambda r, e: {
        "credit_notes_pence": r["credit_notes_pence"] + e.amount_pence
    },
    Invoice.EntryReversed: lambda r, e: {
        "status": e.status,
        REVERSES[e.entry_type]: r[REVERSES[e.entry_type]] - e.amount_pence,
    },
}


def _posted(e: Invoice.Posted, position: int) -> Row:
    return {
        "invoice_id": str(e.originator_id),
        "council": e.council,
        "budget_id": e.budget_id,
        "provider": e.provider_ref,
        "invoice_number": e.invoice_number,
        "period_start": e.period.start.isoformat(),
        "period_end": e.period.end.isoformat(),
        "service_month": e.period.start.strftime("%Y-%m"),
        "amount_pence": e.amount_pence,
        "status": (InvoiceStatus.FLAGGED if e.flags else InvoiceStatus.POSTED).value,
        "flags": ",".join(e.flags),
        "approved_pence": 0,
        "paid_pence": 0,
        "credit_notes_pence": 0,
        "remittance_ref": None,
        "posted_position": position,
    }


def apply_invoice(row: Row | None, event: Any, position: int) -> Row:
    """The invoice's row after one more of its events (``None`` before ``Posted``)."""
    if row is None:
        if not isinstance(event, Invoice.Posted):
            raise ValueError(f"an invoice's first event is Posted, not {type(event).__qualname__}")
        row = _posted(event, position)
    else:
        change = CHANGES.get(type(event))
        row = {**row, **(change(row, event) if change else {})}
    return {**row, "version": event.originator_version, "updated_position": position}


def history_row(row: Row, event: Any, position: int) -> tuple[Any, ...]:
    prov = event.prov
    return (
        row["invoice_id"], event.originator_version, position, row["status"],
        type(event).__qualname__, event.effective_on.isoformat(), prov.actor_role, prov.reason,
        getattr(event, "amount_pence", None),
    )  # fmt: skip


class InvoicesView:
    name = "invoices"
    tables: tuple[str, ...] = ("v_invoices", "v_invoice_history")
    append_only = (("v_invoice_history", "position"),)  # a row per event, never changed
    indexes: tuple[str, ...] = tuple(
        f"CREATE INDEX IF NOT EXISTS v_invoices_{column} ON v_invoices ({column}, posted_position)"
        for column in ("provider", "council", "budget_id")
    )

    writes_versions = ("v_invoices",)

    def create(self, cur: SqlCursor) -> None:
        drop_if_stale(cur, self, {"v_invoices": COLUMNS})
        cur.execute(INVOICES_DDL)
        cur.execute(HISTORY_DDL)
        cur.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS v_invoices_posted ON v_invoices (posted_position)"
        )

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        touched = [i for i in items if isinstance(i.event, Invoice.Event)]
        if not touched:
            return
        rows = INVOICES.rows(cur)
        rows.new((i.aggregate_id,) for i in touched if isinstance(i.event, Invoice.Posted))
        rows.load((i.aggregate_id,) for i in touched)
        history = []
        for item in touched:
            row = apply_invoice(rows.get((item.aggregate_id,)), item.event, item.position)
            rows.put(row, item.stamp)
            history.append(history_row(row, item.event, item.position))
        rows.flush()
        insert_rows(cur, "v_invoice_history", HISTORY_COLUMNS, sorted(history, key=_key))


def get_invoice(db: ViewDb, invoice_id: str) -> Row | None:
    """The invoice's current row with ``history``: one entry per event, oldest first."""
    with db.transaction(write=False) as cur:
        row = cur.execute("SELECT * FROM v_invoices WHERE invoice_id = ?", (invoice_id,)).fetchone()
        if row is None:
            return None
        history = cur.execute(
            "SELECT * FROM v_invoice_history WHERE invoice_id = ? ORDER BY version", (invoice_id,)
        ).fetchall()
    return {**row, "history": history}


def list_invoices(
    db: ViewDb,
    provider: str | None = None,
    council: str | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
    after: int | None = None,
    budget_id: str | None = None,
) -> list[Row]:
    """Invoices in posting order; pass the last row's ``posted_position`` as ``after``."""
    filters = {"provider": provider, "council": council, "status": status, "budget_id": budget_id}
    where = [f"{column} = ?" for column, value in filters.items() if value is not None]
    params: list[Any] = [value for value in filters.values() if value is not None]
    if after is not None:
        where.append("posted_position > ?")
        params.append(after)
    sql = "SELECT * FROM v_invoices"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY posted_position LIMIT ?"
    return db.query(sql, [*params, max(1, min(limit, MAX_LIMIT))])
