"""Spend by provider: per council, provider and service month, invoices by stage, counts and pence.

Each measure counts the invoices that ever reached that stage (an invoice disputed and later
approved counts in both; a short-pay counts as approved for the part approved and as disputed
or rejected for the rest), in the month its service period starts; ``credit_notes`` counts
credit notes. A page adds up its deltas in Python and writes each (council, provider, month) once.
The view keeps each invoice's amount (``v_spend_invoices``) for the events that do not carry it
(disputes and rejections), so it never depends on another view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ledger.invoice import Invoice
from projections.bulk import insert_rows
from projections.db import SqlCursor, ViewDb
from projections.refs import RefsView
from projections.versions import Table
from projections.views.stale import drop_if_stale

if TYPE_CHECKING:
    from projections.runner import Item

TABLE = "v_spend_by_provider"
KEY = ("council", "provider", "month")
MEASURES = ("invoiced", "flagged", "approved", "disputed", "rejected", "paid", "credit_notes")
AMOUNTS = tuple(f"{m}_{unit}" for m in MEASURES for unit in ("count", "pence"))
COLUMNS = KEY + AMOUNTS

Key = tuple[str, str, str]
_ZERO = dict.fromkeys(AMOUNTS, 0)


def _ddl() -> str:
    amounts = ", ".join(f"{c} BIGINT NOT NULL" for c in AMOUNTS)
    return (
        f"CREATE TABLE IF NOT EXISTS {TABLE} (council TEXT NOT NULL, provider TEXT NOT NULL,"
        f" month TEXT NOT NULL, {amounts}, PRIMARY KEY (council, provider, month))"
    )


SPEND = Table(TABLE, COLUMNS, KEY)
INVOICES_DDL = (
    "CREATE TABLE IF NOT EXISTS v_spend_invoices (invoice_id TEXT PRIMARY KEY,"
    " amount_pence BIGINT NOT NULL)"
)


class SpendByProviderView:
    name = "spend"
    tables: tuple[str, ...] = (TABLE, "v_spend_invoices")
    # Each invoice's amount, written once and read by key by this view alone: no history needed.
    history_free = ("v_spend_invoices",)
    writes_versions = (TABLE,)
    indexes: tuple[str, ...] = ()

    def create(self, cur: SqlCursor) -> None:
        drop_if_stale(cur, self, {TABLE: COLUMNS})
        cur.execute(_ddl())
        cur.execute(INVOICES_DDL)

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        touched = [i for i in items if isinstance(i.event, Invoice.Event)]
        if not touched:
            return
        posted = {
            i.aggregate_id: i.event.amount_pence
            for i in touched
            if isinstance(i.event, Invoice.Posted)
        }
        amounts = {**self.amounts(cur, touched, posted), **posted}
        changes: list[tuple[Key, int | None, list[tuple[str, int]]]] = []
        for item in touched:
            measures = _measures(item, amounts)
            if measures:
                ref = refs.get(item.aggregate_id)
                key = (str(ref.council), str(ref.provider), str(ref.service_month))
                changes.append((key, item.stamp, measures))
        # In key order: each index page is visited once, in turn.
        invoices = sorted(posted.items())
        insert_rows(cur, "v_spend_invoices", ("invoice_id", "amount_pence"), invoices)
        rows = SPEND.rows(cur)
        rows.load(key for key, _, _ in changes)
        for key, stamp, measures in changes:
            totals = rows.get(key) or {**dict(zip(KEY, key, strict=True)), **_ZERO}
            for measure, pence in measures:
                totals[f"{measure}_count"] += 1
                totals[f"{measure}_pence"] += pence
            rows.put(totals, stamp)
        rows.flush()

    @staticmethod
    def amounts(cur: SqlCursor, items: list[Item], posted: dict[str, int]) -> dict[str, int]:
        """The amounts of invoices posted in earlier pages that this page disputes or rejects."""
        wanted = sorted(
            {
                i.aggregate_id
                for i in items
                if isinstance(i.event, Invoice.Disputed | Invoice.Rejected)
                and i.aggregate_id not in posted
            }
        )
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        rows = cur.execute(
            f"SELECT invoice_id, amount_pence FROM v_spend_invoices"  # noqa: S608
            f" WHERE invoice_id IN ({marks})",
            wanted,
        ).fetchall()
        return {r["invoice_id"]: int(r["amount_pence"]) for r in rows}


def _measures(item: Item, amounts: dict[str, int]) -> list[tuple[str, int]]:
    """The (measure, pence) pairs one invoice event adds to its provider's month."""
    event = item.event
    if isinstance(event, Invoice.Posted):
        flagged = [("flagged", event.amount_pence)] if event.flags else []
        return [("invoiced", event.amount_pence), *flagged]
    if isinstance(event, Invoice.Disputed | Invoice.Rejected):
        measure = "disputed" if isinstance(event, Invoice.Disputed) else "rejected"
        return [(measure, amounts[item.aggregate_id])]
    if isinstance(event, Invoice.Approved):
        # a short-pay: the part not approved is disputed or rejected in the same command
        rest = [(event.short_pay_rest, event.short_paid_pence)] if event.short_pay_rest else []
        return [("approved", event.amount_pence), *rest]
    if isinstance(event, Invoice.Paid):
        return [("paid", event.amount_pence)]
    if isinstance(event, Invoice.CreditNoteIssued):
        return [("credit_notes", event.amount_pence)]
    return []


def spend_by_provider(
    db: ViewDb,
    council: str | None = None,
    month_from: str | None = None,
    month_to: str | None = None,
    *,
    provider: str | None = None,
    by_month: bool = False,
) -> list[dict[str, Any]]:
    """Totals per council and provider over service months ``month_from``..``month_to``
    ('YYYY-MM', both inclusive); with ``by_month``, one row per month as well."""
    conditions = [
        ("council = ?", council),
        ("provider = ?", provider),
        ("month >= ?", month_from),
        ("month <= ?", month_to),
    ]
    where = [sql for sql, value in conditions if value is not None]
    params = [value for _, value in conditions if value is not None]
    group = "council, provider, month" if by_month else "council, provider"
    sums = ", ".join(f"CAST(SUM({c}) AS BIGINT) AS {c}" for c in AMOUNTS)
    sql = f"SELECT {group}, {sums} FROM {TABLE}"  # noqa: S608
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" GROUP BY {group} ORDER BY {group}"
    rows = db.query(sql, params)
    return [{**r, **{c: int(r[c]) for c in AMOUNTS}} for r in rows]
