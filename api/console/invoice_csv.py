"""Care firms' invoice spreadsheets: the CSV layout, its template, and reading a file into the
API's own ``InvoiceIn`` models (so every check is the API's) with each problem in words.

One row per invoice line. Rows with the same ``invoice_number`` are one invoice's lines and must
agree on its budget, period and date. Columns, in any order, with this header row:

========================  ====================================================================
``invoice_number``        your invoice number, as printed (1 to 64 characters)
``budget_id``             the personal budget invoiced (its id, a UUID, as on your order)
``period_start``          first day of care invoiced, YYYY-MM-DD
``period_end``            last day of care invoiced, YYYY-MM-DD
``invoice_date``          the invoice's date, YYYY-MM-DD
``service``               the service line, e.g. home-care
``units``                 hours (or units) delivered, up to 2 decimal places, e.g. 40 or 37.5
``rate``                  price per unit in pounds, up to 2 decimal places, e.g. 13.00
========================  ====================================================================
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from api.models import InvoiceIn

COLUMNS = ("invoice_number", "budget_id", "period_start", "period_end", "invoice_date",
           "service", "units", "rate")  # fmt: skip
HEAD = ("invoice_number", "budget_id", "period_start", "period_end", "invoice_date")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


def template() -> str:
    """The header and two example lines of one invoice."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    example = ["INV-2010-0417", "0b8f5f9e-2c1d-5a57-9d1e-4c9f0a6b7e21", "2010-04-05",
               "2010-05-02", "2010-05-03"]  # fmt: skip
    writer.writerow([*example, "home-care", "40", "13.00"])
    writer.writerow([*example, "night-sitting", "7.5", "15.50"])
    return out.getvalue()


@dataclass
class Parsed:
    """The invoices read from a file, the rows each came from, and the rows refused as written."""

    invoices: list[InvoiceIn] = field(default_factory=list)
    rows: list[list[int]] = field(default_factory=list)  # CSV row numbers per invoice
    problems: list[tuple[list[int], str]] = field(default_factory=list)


class FileRefusedError(Exception):
    """The file as a whole cannot be read (not CSV, wrong header, too big)."""


def _decimal(value: str, name: str, scale: int) -> int:
    try:
        amount = Decimal(value.strip().lstrip("£").replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{name} {value!r} is not a number") from None
    scaled = amount * scale
    if scaled != scaled.to_integral_value() or not amount.is_finite():
        raise ValueError(f"{name} {value!r} has more than 2 decimal places")
    return int(scaled)


def read(data: bytes) -> Parsed:
    if len(data) > MAX_BYTES:
        raise FileRefusedError(f"the file is over {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefusedError("the file is not UTF-8 text (save it as CSV UTF-8)") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing or len(header) != len(set(header)):
        raise FileRefusedError(
            f"the header row must name the columns {', '.join(COLUMNS)}"
            + (f" (missing: {', '.join(missing)})" if missing else " (a column is repeated)")
        )
    grouped: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise FileRefusedError(f"the file has more than {MAX_ROWS} rows")
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        grouped.setdefault(row.get("invoice_number", ""), []).append((number, row))
    parsed = Parsed()
    for rows in grouped.values():
        numbers = [n for n, _ in rows]
        try:
            invoice = _invoice([r for _, r in rows])
        except ValueError as error:
            parsed.problems.append((numbers, _words(error)))
            continue
        parsed.invoices.append(invoice)
        parsed.rows.append(numbers)
    return parsed


def _invoice(rows: list[dict[str, str]]) -> InvoiceIn:
    first = rows[0]
    for other in rows[1:]:
        for name in HEAD:
            if other[name] != first[name]:
                raise ValueError(f"the lines of one invoice disagree on {name.replace('_', ' ')}")
    lines = [
        {"service": r["service"], "units_hundredths": _decimal(r["units"], "units", 100),
         "rate_pence": _decimal(r["rate"], "rate", 100)}
        for r in rows
    ]  # fmt: skip
    body: dict[str, Any] = {
        "invoice_number": first["invoice_number"],
        "budget_id": first["budget_id"],
        "period": {"start": first["period_start"], "end": first["period_end"]},
        "lines": lines,
        "invoice_date": first["invoice_date"],
    }
    return InvoiceIn.model_validate(body)


def _words(error: ValueError) -> str:
    if isinstance(error, ValidationError):
        parts = []
        for e in error.errors():
            where = " ".join(str(x) for x in e["loc"] if not isinstance(x, int))
            parts.append(f"{where.replace('_', ' ')}: {e['msg']}")
        return "; ".join(parts)
    return str(error)
