"""Reading the exceptions: the stored ones, then those computed at query time for a date ``on``.

* **review-overdue**: a budget approved on or before ``on`` and not ended by then whose review
  is due before ``on`` — the first 6 months after approval, then 12 months after the latest
  review on or before ``on`` (due dates are worked out when the events are projected).
* **surplus-above-threshold**: cash held in a direct-payment account, less surplus already
  identified, above the council's threshold (its surplus weeks times the weekly direct payment).
  It reads the budget balances view (``v_budget_balances``) and the councils' policy
  (``v_councils``, the progress view) as they stand now, whatever ``on``; when either view is
  missing the kind is skipped and the answer says so.

Pages run in one order: stored rows by position, then overdue reviews, then surpluses, each by
budget id; ``next`` is an opaque cursor for the following page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ledger.errors import InvalidCommandError
from ledger.values import DeploymentKind, InvoiceFlag
from projections.db import ViewDb

FLAGS = tuple(f.value for f in InvoiceFlag)
STORED_KINDS = (
    *FLAGS,
    "flag-overridden",
    "dispute",
    "correction",
    "surplus-identified",
    "payment-after-ending",
)
REVIEW_OVERDUE, SURPLUS = "review-overdue", "surplus-above-threshold"
DUPLICATE = "duplicate-invoice-attempt"
KINDS = (*STORED_KINDS, REVIEW_OVERDUE, SURPLUS, DUPLICATE)
MAX_LIMIT = 1000
DIRECT = (DeploymentKind.DIRECT_PAYMENT.value, DeploymentKind.MIXED.value)
FIELDS = ("position", "seq", "council", "kind", "budget_id", "invoice_id", "provider",
          "amount_pence", "effective_on", "detail")  # fmt: skip

STORED_SQL = (
    "SELECT * FROM v_exceptions WHERE effective_on <= ?"
    " AND (CAST(? AS TEXT) IS NULL OR council = ?) AND (CAST(? AS TEXT) IS NULL OR kind = ?)"
    " AND (position > ? OR (position = ? AND seq > ?)) ORDER BY position, seq LIMIT ?"
)
REVIEWS_SQL = (
    "SELECT * FROM (SELECT s.budget_id, s.council,"
    " COALESCE((SELECT MAX(r.next_due_on) FROM v_exception_reviews r"
    " WHERE r.budget_id = s.budget_id AND r.effective_on <= ?), s.first_review_due_on) AS due_on,"
    " (SELECT MAX(r.effective_on) FROM v_exception_reviews r"
    " WHERE r.budget_id = s.budget_id AND r.effective_on <= ?) AS last_review_on"
    " FROM v_exception_budget_state s WHERE s.approved_on <= ?"
    " AND (s.ended_on IS NULL OR s.ended_on > ?) AND (CAST(? AS TEXT) IS NULL OR s.council = ?)"
    " AND s.budget_id > ?) due WHERE due.due_on < ? ORDER BY due.budget_id LIMIT ?"
)
SURPLUS_SQL = (
    "SELECT * FROM (SELECT b.budget_id, b.council, b.held_pence AS held,"
    " b.surplus_outstanding_pence AS surplus_outstanding, CASE WHEN b.deployment IN (?, ?)"
    " THEN b.weekly_funding_pence * c.surplus_weeks ELSE 0 END"
    " AS threshold FROM v_budget_balances b JOIN v_councils c ON c.code = b.council"
    " WHERE (CAST(? AS TEXT) IS NULL OR b.council = ?) AND b.budget_id > ?) s"
    " WHERE s.held - s.surplus_outstanding - s.threshold > 0 ORDER BY s.budget_id LIMIT ?"
)


def _item(**values: Any) -> dict[str, Any]:
    return {f: values.get(f) for f in FIELDS}


def _stored(db: ViewDb, f: dict[str, Any], after: str, limit: int) -> list[dict[str, Any]]:
    position, seq = (int(x) for x in after.split(".")) if after else (0, -1)
    rows = db.query(
        STORED_SQL,
        (f["on"], f["council"], f["council"], f["kind"], f["kind"], position, position, seq, limit),
    )
    return [_item(**{**r, "position": int(r["position"]), "seq": int(r["seq"])}) for r in rows]


def _reviews(db: ViewDb, f: dict[str, Any], after: str, limit: int) -> list[dict[str, Any]]:
    on, council = f["on"], f["council"]
    rows = db.query(REVIEWS_SQL, (on, on, on, on, council, council, after, on, limit))
    return [
        _item(
            council=r["council"],
            kind=REVIEW_OVERDUE,
            budget_id=r["budget_id"],
            effective_on=r["due_on"],
            detail=f"last review {r['last_review_on']}" if r["last_review_on"] else "no review",
        )
        for r in rows
    ]


def _surpluses(db: ViewDb, f: dict[str, Any], after: str, limit: int) -> list[dict[str, Any]]:
    rows = db.query(SURPLUS_SQL, (*DIRECT, f["council"], f["council"], after, limit))
    return [
        _item(
            council=r["council"],
            kind=SURPLUS,
            budget_id=r["budget_id"],
            amount_pence=int(r["held"]) - int(r["surplus_outstanding"]) - int(r["threshold"]),
            detail=f"held {r['held']} threshold {r['threshold']} (current balance)",
        )
        for r in rows
    ]


DUPLICATES_SQL = (
    "SELECT f.recorded_at, f.refusal_key, f.provider, f.invoice_number, f.invoice_id,"
    " r.council, r.budget_id FROM careledger_refusals f"
    " LEFT JOIN v_refs r ON r.aggregate_id = f.invoice_id"
    " WHERE f.error = 'duplicate-invoice' AND f.recorded_at < ?"
    " AND (CAST(? AS TEXT) IS NULL OR r.council = ?)"
    " AND (f.recorded_at > ? OR (f.recorded_at = ? AND f.refusal_key > ?))"
    " ORDER BY f.recorded_at, f.refusal_key LIMIT ?"
)


def _duplicates(db: ViewDb, f: dict[str, Any], after: str, limit: int) -> list[dict[str, Any]]:
    """Refused second postings of an invoice number (from the refusal log, by recorded date)."""
    stamp, _, key = after.partition("/")
    before = (date.fromisoformat(f["on"]) + timedelta(days=1)).isoformat()
    params = (before, f["council"], f["council"], stamp, stamp, key, limit)
    return [
        {
            **_item(
                council=r["council"],
                kind=DUPLICATE,
                budget_id=r["budget_id"],
                invoice_id=r["invoice_id"],
                provider=r["provider"],
                effective_on=r["recorded_at"][:10],
                detail=f"invoice {r['invoice_number']} posted again",
            ),
            "cursor": f"{r['recorded_at']}/{r['refusal_key']}",
        }
        for r in db.query(DUPLICATES_SQL, params)
    ]


Source = Callable[[ViewDb, dict[str, Any], str, int], list[dict[str, Any]]]
PHASES: tuple[tuple[str, Source], ...] = (
    ("s", _stored),
    ("r", _reviews),
    ("t", _surpluses),
    ("d", _duplicates),
)


def has_tables(db: ViewDb, *names: str) -> bool:
    """Whether every named table exists in the views' database (schema)."""
    if db.dialect == "postgres":
        sql = (
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name = ?"
        )
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
    return all(db.query(sql, (name,)) for name in names)


def _parse(after: str | None) -> tuple[int, str]:
    if after is None:
        return 0, ""
    tag, _, key = after.partition(":")
    tags = [t for t, _ in PHASES]
    valid = tag in tags and (tag != "s" or _is_position(key))
    if not valid or len(key) > (200 if tag == "d" else 64):
        raise InvalidCommandError("not a cursor from an earlier page", field="after")
    return tags.index(tag), key


def _is_position(key: str) -> bool:
    parts = key.split(".")
    return len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts)


def _cursor(phase: int, item: dict[str, Any]) -> str:
    tag = PHASES[phase][0]
    if tag == "d":
        return f"d:{item['cursor']}"
    return f"s:{item['position']}.{item['seq']}" if tag == "s" else f"{tag}:{item['budget_id']}"


def exceptions(
    db: ViewDb,
    council: str | None = None,
    kind: str | None = None,
    *,
    on: date,
    limit: int = 100,
    after: str | None = None,
) -> dict[str, Any]:
    """A page of exceptions known for business date ``on``, optionally one council's or kind's.

    Returns ``items``, ``next`` (the cursor for the following page, None at the end) and
    ``skipped`` (kinds that could not be computed because a view they read is missing).
    """
    if kind is not None and kind not in KINDS:
        raise InvalidCommandError(f"kind must be one of: {', '.join(KINDS)}", field="kind")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidCommandError(f"limit must be 1..{MAX_LIMIT}", field="limit")
    start, key = _parse(after)
    wanted = _wanted(kind)
    skipped = [] if has_tables(db, "v_budget_balances", "v_councils") else [SURPLUS]
    if not has_tables(db, "careledger_refusals"):
        skipped.append(DUPLICATE)
    filters = {"on": on.isoformat(), "council": council, "kind": kind}
    page: list[tuple[int, dict[str, Any]]] = []
    for phase in range(start, len(PHASES)):
        if PHASES[phase][0] not in wanted or (phase == 2 and SURPLUS in skipped):
            continue
        if phase == 3 and DUPLICATE in skipped:
            continue
        found = PHASES[phase][1](db, filters, key if phase == start else "", limit + 1 - len(page))
        page.extend((phase, item) for item in found)
        if len(page) > limit:
            break
    more = len(page) > limit
    page = page[:limit]
    return {
        "items": [{k: v for k, v in item.items() if k != "cursor"} for _, item in page],
        "next": _cursor(*page[-1]) if more else None,
        "skipped": [s for s in skipped if kind in (None, s)],
    }


def _wanted(kind: str | None) -> set[str]:
    special = {REVIEW_OVERDUE: "r", SURPLUS: "t", DUPLICATE: "d"}
    if kind is None:
        return {"s", "r", "t", "d"}
    return {special.get(kind, "s")}
