"""The journal as plain-text accounting: hledger or beancount, one transaction per ledger entry.

Read from the postings view (``v_postings``), in log order, optionally one council's and only up
to a log position (what the ledger knew at an instant). Each transaction is dated with the
entry's effective (business) date and carries the entry id, the actor, and the budget or
provider it concerns as tags (hledger) or metadata (beancount). Amounts are pounds with two
decimals, printed from integer pence — never through a float.

Accounts are the ledger's own, per council, under the five roots both tools know (Assets,
Liabilities, Equity, Income, Expenses), each declared with its type (hledger's ``account … ;
type:``; beancount's ``open``) so ``hledger bs`` and ``hledger is`` give a balance sheet and an
income statement per council. ``Assets:Bank`` of council E09000033 is ``Assets:Bank:E09000033``.
The ledger's other roots are placed as a public-sector accountant would (README, "Exports"):

* the budget book is a memorandum book, off the balance sheet in substance: ``Funding:*`` (where
  each budget's money comes from) → ``Equity:Funding:*`` and ``Budgets:*`` (allocated, drawn,
  recovered) → ``Equity:Budgets:*``. Its entries balance among themselves, so equity nets to
  zero and changes no total;
* a Section 75 pooled fund the council hosts: ``Pool:Held`` (its money) → ``Assets:Pool:Held``;
  ``Pool:PartnerContributions`` (held for the partners' purposes) and ``Pool:Disentangled``
  (contributions applied to personal budgets, reducing that) → ``Liabilities:Pool:*``.

Every entry's postings balance, so both tools accept the file and its per-account totals are
the trial balance; assets less liabilities equal income less expenses. Beancount files open each
account on the first date it is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from ledger.money import format_pounds
from projections.db import ViewDb

Format = Literal["hledger", "beancount"]
FORMATS: tuple[Format, ...] = ("hledger", "beancount")
WINDOW = 2000  # log positions per query: the file streams in bounded pages
END = 2**62  # past any log position
# The ledger's account (prefix) → the exported one; the rest keep their names.
EXPORTED_ROOTS = {
    "Funding:": "Equity:Funding:",
    "Budgets:": "Equity:Budgets:",
    "Pool:Held": "Assets:Pool:Held",
    "Pool:": "Liabilities:Pool:",
}
# hledger's account types by root: Asset, Liability, Equity, Revenue (income), eXpense.
ACCOUNT_TYPES = {"Assets": "A", "Liabilities": "L", "Equity": "E", "Income": "R", "Expenses": "X"}
_COMPONENT = re.compile(r"[A-Z0-9][A-Za-z0-9-]*")
_SAFE_TEXT = re.compile(r"[^ -~]|[\"\\]")

ROWS_SQL = (
    "SELECT position, seq, council, account, amount_pence, effective_on, entry_id, event_type,"
    " actor_id, budget_id, provider FROM v_postings WHERE position > ? AND position <= ?"
    " AND (CAST(? AS TEXT) IS NULL OR council = ?) ORDER BY position, seq"
)
OPENS_SQL = (
    "SELECT council, account, MIN(effective_on) AS first_on FROM v_postings WHERE position <= ?"
    " AND (CAST(? AS TEXT) IS NULL OR council = ?) GROUP BY council, account"
)
HEAD_SQL = (
    "SELECT MAX(position) AS head FROM v_postings WHERE position <= ?"
    " AND (CAST(? AS TEXT) IS NULL OR council = ?)"
)


def council_component(code: str) -> str:
    """A council code as an account component both tools accept (ONS codes pass unchanged;
    anything else is hex-encoded behind an ``X``, so distinct codes stay distinct)."""
    if _COMPONENT.fullmatch(code):
        return code
    return "X" + code.encode().hex().upper()


def account_name(account: str, council: str) -> str:
    """The exported name of one of the ledger's accounts for one council (both formats)."""
    for prefix, exported in EXPORTED_ROOTS.items():
        if account.startswith(prefix):
            account = exported + account[len(prefix) :]
            break
    return f"{account}:{council_component(council)}"


def account_type(name: str) -> str:
    """An exported account's hledger type (A, L, E, R or X), from its root."""
    return ACCOUNT_TYPES[name.split(":", 1)[0]]


def _text(value: str) -> str:
    """A string safe inside the file's quotes and comments (ids and codes are printable ASCII)."""
    return _SAFE_TEXT.sub("?", value)


def _amount(pence: int, fmt: Format) -> str:
    return f"{format_pounds(pence)} GBP" if fmt == "beancount" else format_pounds(pence, symbol="£")


def _header(fmt: Format, council: str | None, stop_position: int | None) -> list[str]:
    scope = f"council {_text(council)}" if council else "every council"
    upto = f"log position {stop_position}" if stop_position is not None else "the head of the log"
    lines = [f"; CareLedger journal: {scope}, up to {upto}"]
    if fmt == "beancount":
        lines.append('option "operating_currency" "GBP"')
    return [*lines, ""]


def _declarations(db: ViewDb, fmt: Format, council: str | None, stop: int) -> list[str]:
    """Every account used: beancount opens it on its first date; hledger declares its type."""
    rows = db.query(OPENS_SQL, (stop, council, council))
    used = sorted((r["first_on"], account_name(r["account"], r["council"])) for r in rows)
    if fmt == "beancount":
        lines = [f"{day} open {name} GBP" for day, name in used]
    else:
        names = sorted(name for _, name in used)
        lines = [f"account {name}  ; type: {account_type(name)}" for name in names]
    return [*lines, ""] if lines else []


def _transaction(rows: list[dict[str, Any]], fmt: Format) -> list[str]:
    """One entry's postings as one transaction."""
    first = rows[0]
    entry, actor = _text(first["entry_id"]), _text(first["actor_id"])
    about = [(k, _text(first[k])) for k in ("budget_id", "provider") if first[k]]
    pairs = (("entry", entry), ("actor", actor), *about)
    if fmt == "beancount":
        head = [f'{first["effective_on"]} * "{_text(first["event_type"])}"']
        head.extend(f'  {k}: "{v}"' for k, v in pairs)
    else:
        tags = ", ".join(f"{k}:{v.replace(',', '?')}" for k, v in pairs)  # a comma ends a tag
        head = [f"{first['effective_on']} {_text(first['event_type'])}  ; {tags}"]
    width = max(len(account_name(r["account"], r["council"])) for r in rows) + 4
    postings = [
        f"  {account_name(r['account'], r['council']):<{width}}"
        f"{_amount(int(r['amount_pence']), fmt):>16}"
        for r in rows
    ]
    return [*head, *postings, ""]


def _entries(db: ViewDb, council: str | None, stop: int) -> Iterator[list[dict[str, Any]]]:
    """Each entry's posting rows, in log order, read a window of positions at a time."""
    start = 0
    while start < stop:
        end = min(start + WINDOW, stop)
        rows = db.query(ROWS_SQL, (start, end, council, council))
        group: list[dict[str, Any]] = []
        for row in rows:
            if group and row["position"] != group[0]["position"]:
                yield group
                group = []
            group.append(row)
        if group:
            yield group
        start = end


def journal_lines(
    db: ViewDb, fmt: str, council: str | None = None, stop_position: int | None = None
) -> Iterator[str]:
    """The journal, line by line (no line endings), up to ``stop_position`` (default: all)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    chosen: Format = "beancount" if fmt == "beancount" else "hledger"
    limit = stop_position if stop_position is not None else END
    head = db.query(HEAD_SQL, (limit, council, council))[0]["head"]
    yield from _header(chosen, council, stop_position)
    yield from _declarations(db, chosen, council, limit)
    for rows in _entries(db, council, int(head or 0)):
        yield from _transaction(rows, chosen)
