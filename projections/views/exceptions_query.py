"""Reading the exceptions: the stored ones, then those computed at query time for a date ``on``.

* **review-overdue**: a budget approved on or before ``on`` and not ended by then whose review
  is due before ``on`` — the first 6 months after approval, then 12 months after the latest
  review on or before ``on`` (due dates are worked out when the events are projected).
* **surplus-above-threshold**: cash held in a direct-payment account, less surplus already
  identified, above the council's threshold (its surplus weeks times the weekly direct payment).
  It reads the budget balances view (``v_budget_balances``) and the councils' policy
  (``v_councils``, the progress view) as they stand now, whatever ``on``; when either view is
  missing the kind is skipped and the answer says so.
* **contribution-arrears**: assessed contributions owed (on budgets paid net or gross) beyond the
  latest period's charge, from the budget balances view as it stands now (like a surplus: no
  dates, left out when the answer is limited by either time).

Every item carries its business date (``effective_on``) and the instant the ledger learned of it
(``recorded_at``): for a stored row, the recorded time of the event at its position; for an
overdue review, the review due date and the recorded time of the approval or review that set it;
for a refused duplicate, the refused invoice's date and the instant it was refused. A surplus
above the threshold is worked out from the current balance, so it has neither, and is left out
when the answer is limited by either time. ``on`` keeps its meaning (stored exceptions effective
on or before it; reviews overdue as of it); ``effective_from``/``effective_to`` (dates) and
``recorded_from``/``recorded_to`` (instants) narrow every kind, all bounds inclusive.

Pages run in one order: stored rows by position, then overdue reviews, then surpluses, each by
budget id; ``next_cursor`` is an opaque cursor (``projections/cursor.py``) for the following page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from ledger.errors import InvalidCommandError
from ledger.values import DeploymentKind, InvoiceFlag
from projections.cursor import UUID_TEXT, CursorKind, Int, Position, Tag, Text
from projections.db import ViewDb
from projections.views.audit import utc_stamp

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
ARREARS = "contribution-arrears"
KINDS = (*STORED_KINDS, REVIEW_OVERDUE, SURPLUS, DUPLICATE, ARREARS)
MAX_LIMIT = 1000
DIRECT = (DeploymentKind.DIRECT_PAYMENT.value, DeploymentKind.MIXED.value)
FIELDS = ("position", "seq", "council", "kind", "budget_id", "invoice_id", "provider",
          "amount_pence", "effective_on", "recorded_at", "detail")  # fmt: skip

STORED_SQL = (
    "SELECT * FROM v_exceptions WHERE effective_on <= ?"
    " AND (CAST(? AS TEXT) IS NULL OR council = ?) AND (CAST(? AS TEXT) IS NULL OR kind = ?)"
    " AND (CAST(? AS TEXT) IS NULL OR effective_on >= ?)"
    " AND (CAST(? AS TEXT) IS NULL OR effective_on <= ?)"
    " AND (CAST(? AS TEXT) IS NULL OR recorded_at >= ?)"
    " AND (CAST(? AS TEXT) IS NULL OR recorded_at <= ?)"
    " AND (position > ? OR (position = ? AND seq > ?)) ORDER BY position, seq LIMIT ?"
)
REVIEWS_SQL = (
    "SELECT * FROM (SELECT s.budget_id, s.council,"
    " COALESCE((SELECT MAX(r.next_due_on) FROM v_exception_reviews r"
    " WHERE r.budget_id = s.budget_id AND r.effective_on <= ?), s.first_review_due_on) AS due_on,"
    " (SELECT MAX(r.effective_on) FROM v_exception_reviews r"
    " WHERE r.budget_id = s.budget_id AND r.effective_on <= ?) AS last_review_on,"
    " COALESCE((SELECT r.recorded_at FROM v_exception_reviews r WHERE r.budget_id = s.budget_id"
    " AND r.effective_on <= ? ORDER BY r.effective_on DESC LIMIT 1), s.approved_recorded_at)"
    " AS recorded_at"
    " FROM v_exception_budget_state s WHERE s.approved_on <= ?"
    " AND (s.ended_on IS NULL OR s.ended_on > ?) AND (CAST(? AS TEXT) IS NULL OR s.council = ?)"
    " AND s.budget_id > ?) due WHERE due.due_on < ?"
    " AND (CAST(? AS TEXT) IS NULL OR due.due_on >= ?)"
    " AND (CAST(? AS TEXT) IS NULL OR due.due_on <= ?)"
    " AND (CAST(? AS TEXT) IS NULL OR due.recorded_at >= ?)"
    " AND (CAST(? AS TEXT) IS NULL OR due.recorded_at <= ?)"
    " ORDER BY due.budget_id LIMIT ?"
)
SURPLUS_SQL = (
    "SELECT * FROM (SELECT b.budget_id, b.council, b.held_pence AS held,"
    " b.surplus_outstanding_pence AS surplus_outstanding, CASE WHEN b.deployment IN (?, ?)"
    " THEN b.weekly_funding_pence * c.surplus_weeks ELSE 0 END"
    " AS threshold FROM v_budget_balances b JOIN v_councils c ON c.code = b.council"
    " WHERE (CAST(? AS TEXT) IS NULL OR b.council = ?) AND b.budget_id > ?) s"
    " WHERE s.held - s.surplus_outstanding - s.threshold > 0 ORDER BY s.budget_id LIMIT ?"
)


ARREARS_SQL = (
    "SELECT budget_id, council, contribution_arrears_pence, contributions_owed_pence"
    " FROM v_budget_balances WHERE contribution_arrears_pence > 0"
    " AND (CAST(? AS TEXT) IS NULL OR council = ?) AND budget_id > ?"
    " ORDER BY budget_id LIMIT ?"
)


def _item(**values: Any) -> dict[str, Any]:
    return {f: values.get(f) for f in FIELDS}


def _bounds(f: dict[str, Any]) -> tuple[Any, ...]:
    """The parameters of the two times' bounds in each query (business date from/to, recorded
    instant from/to, each skipped when NULL): each bound twice (the NULL test, the comparison)."""
    names = ("effective_from", "effective_to", "recorded_from", "recorded_to")
    return tuple(f[name] for name in names for _ in (0, 1))


def _stored(db: ViewDb, f: dict[str, Any], after: Position, limit: int) -> list[dict[str, Any]]:
    position, seq = after or (0, -1)
    rows = db.query(
        STORED_SQL,
        (f["on"], f["council"], f["council"], f["kind"], f["kind"], *_bounds(f),
         position, position, seq, limit),
    )  # fmt: skip
    return [_item(**{**r, "position": int(r["position"]), "seq": int(r["seq"])}) for r in rows]


def _reviews(db: ViewDb, f: dict[str, Any], after: Position, limit: int) -> list[dict[str, Any]]:
    on, council = f["on"], f["council"]
    start = after[0] if after else ""
    params = (on, on, on, on, on, council, council, start, on, *_bounds(f), limit)
    rows = db.query(REVIEWS_SQL, params)
    return [
        _item(
            council=r["council"],
            kind=REVIEW_OVERDUE,
            budget_id=r["budget_id"],
            effective_on=r["due_on"],
            recorded_at=r["recorded_at"],
            detail=f"last review {r['last_review_on']}" if r["last_review_on"] else "no review",
        )
        for r in rows
    ]


def _surpluses(db: ViewDb, f: dict[str, Any], after: Position, limit: int) -> list[dict[str, Any]]:
    start = after[0] if after else ""
    rows = db.query(SURPLUS_SQL, (*DIRECT, f["council"], f["council"], start, limit))
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
    "SELECT * FROM (SELECT f.recorded_at, f.refusal_key, f.provider, f.invoice_number,"
    " f.invoice_id, r.council, r.budget_id,"
    " COALESCE(f.effective_on, SUBSTR(f.recorded_at, 1, 10)) AS effective_on"
    " FROM careledger_refusals f LEFT JOIN v_refs r ON r.aggregate_id = f.invoice_id"
    " WHERE f.error = 'duplicate-invoice') d WHERE d.effective_on <= ?"
    " AND (CAST(? AS TEXT) IS NULL OR d.council = ?)"
    " AND (CAST(? AS TEXT) IS NULL OR d.effective_on >= ?)"
    " AND (CAST(? AS TEXT) IS NULL OR d.effective_on <= ?)"
    " AND (CAST(? AS TEXT) IS NULL OR d.recorded_at >= ?)"
    " AND (CAST(? AS TEXT) IS NULL OR d.recorded_at <= ?)"
    " AND (d.recorded_at > ? OR (d.recorded_at = ? AND d.refusal_key > ?))"
    " ORDER BY d.recorded_at, d.refusal_key LIMIT ?"
)


def _duplicates(db: ViewDb, f: dict[str, Any], after: Position, limit: int) -> list[dict[str, Any]]:
    """Refused second postings of an invoice number (from the refusal log), by the refused
    invoice's date (rows from before it was logged: the date refused), in recorded order."""
    stamp, key = after or ("", "")
    params = (f["on"], f["council"], f["council"], *_bounds(f), stamp, stamp, key, limit)
    return [
        {
            **_item(
                council=r["council"],
                kind=DUPLICATE,
                budget_id=r["budget_id"],
                invoice_id=r["invoice_id"],
                provider=r["provider"],
                effective_on=r["effective_on"],
                recorded_at=r["recorded_at"],
                detail=f"invoice {r['invoice_number']} posted again",
            ),
            "cursor": (r["recorded_at"], r["refusal_key"]),
        }
        for r in db.query(DUPLICATES_SQL, params)
    ]


def _arrears(db: ViewDb, f: dict[str, Any], after: Position, limit: int) -> list[dict[str, Any]]:
    """Assessed contributions owed beyond the latest period's charge (current balance)."""
    start = after[0] if after else ""
    rows = db.query(ARREARS_SQL, (f["council"], f["council"], start, limit))
    return [
        _item(
            council=r["council"],
            kind=ARREARS,
            budget_id=r["budget_id"],
            amount_pence=int(r["contribution_arrears_pence"]),
            detail=f"owed {r['contributions_owed_pence']} (current balance)",
        )
        for r in rows
    ]


Source = Callable[[ViewDb, dict[str, Any], Position, int], list[dict[str, Any]]]
PHASES: tuple[tuple[str, Source], ...] = (
    ("s", _stored),
    ("r", _reviews),
    ("t", _surpluses),
    ("d", _duplicates),
    ("a", _arrears),
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


PRINTABLE = r"[ -~]+"
CURSORS = CursorKind(
    "exceptions",
    (
        (Tag("s"), Int(), Int()),  # a stored row: (position, seq)
        (Tag("r"), UUID_TEXT),  # an overdue review: budget id
        (Tag("t"), UUID_TEXT),  # a surplus: budget id
        (Tag("d"), Text(PRINTABLE, 40), Text(PRINTABLE, 200)),  # a refusal: (when, key)
        (Tag("a"), UUID_TEXT),  # contributions in arrears: budget id
    ),
)


def _parse(cursor: str | None) -> tuple[int, Position]:
    """The phase and the position within it that a cursor names (phase 0 from the start)."""
    position = CURSORS.decode(cursor)
    if position is None:
        return 0, ()
    tags = [t for t, _ in PHASES]
    return tags.index(str(position[0])), position[1:]


def _cursor(phase: int, item: dict[str, Any]) -> str:
    tag = PHASES[phase][0]
    if tag == "d":
        return CURSORS.encode(tag, *item["cursor"])
    if tag == "s":
        return CURSORS.encode(tag, item["position"], item["seq"])
    return CURSORS.encode(tag, item["budget_id"])


def exceptions(
    db: ViewDb,
    council: str | None = None,
    kind: str | None = None,
    *,
    on: date,
    limit: int = 100,
    cursor: str | None = None,
    effective_from: date | None = None,
    effective_to: date | None = None,
    recorded_from: datetime | None = None,
    recorded_to: datetime | None = None,
) -> dict[str, Any]:
    """A page of exceptions known for business date ``on``, optionally one council's or kind's,
    with business dates and recorded instants within the bounds given (inclusive).

    Returns ``items``, ``next_cursor`` (the cursor for the following page, None at the end),
    ``has_more`` and ``skipped`` (kinds that could not be computed because a view they read is
    missing).
    """
    if kind is not None and kind not in KINDS:
        raise InvalidCommandError(f"kind must be one of: {', '.join(KINDS)}", field="kind")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidCommandError(f"limit must be 1..{MAX_LIMIT}", field="limit")
    start, key = _parse(cursor)
    wanted = _wanted(kind)
    skipped = [] if has_tables(db, "v_budget_balances", "v_councils") else [SURPLUS]
    if not has_tables(db, "careledger_refusals"):
        skipped.append(DUPLICATE)
    if not has_tables(db, "v_budget_balances"):
        skipped.append(ARREARS)
    filters = {
        "on": on.isoformat(),
        "council": council,
        "kind": kind,
        "effective_from": effective_from.isoformat() if effective_from else None,
        "effective_to": effective_to.isoformat() if effective_to else None,
        "recorded_from": utc_stamp(recorded_from) if recorded_from else None,
        "recorded_to": utc_stamp(recorded_to) if recorded_to else None,
    }
    timed = any((effective_from, effective_to, recorded_from, recorded_to))
    page: list[tuple[int, dict[str, Any]]] = []
    for phase in range(start, len(PHASES)):
        if PHASES[phase][0] not in wanted or (phase == 2 and (SURPLUS in skipped or timed)):
            continue
        if phase == 3 and DUPLICATE in skipped:
            continue
        if phase == 4 and (ARREARS in skipped or timed):
            continue
        found = PHASES[phase][1](db, filters, key if phase == start else (), limit + 1 - len(page))
        page.extend((phase, item) for item in found)
        if len(page) > limit:
            break
    more = len(page) > limit
    page = page[:limit]
    return {
        "items": [{k: v for k, v in item.items() if k != "cursor"} for _, item in page],
        "next_cursor": _cursor(*page[-1]) if more else None,
        "has_more": more,
        "skipped": [s for s in skipped if kind in (None, s)],
    }


def _wanted(kind: str | None) -> set[str]:
    special = {REVIEW_OVERDUE: "r", SURPLUS: "t", DUPLICATE: "d", ARREARS: "a"}
    if kind is None:
        return {"s", "r", "t", "d", "a"}
    return {special.get(kind, "s")}
