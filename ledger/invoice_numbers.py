"""Rule 13: how invoice (and credit-note) numbers are compared.

A number is compared by its *key*: Unicode NFKC (full-width digits, ligatures and other
compatibility look-alikes become their plain forms), every whitespace character removed
(leading, trailing *and* inner: ``"INV 1"``, ``"INV1"`` and ``"INV\u00a01"`` are one number),
every format character removed (zero-width space U+200B, zero-width joiners, BOM U+FEFF, bidi
marks), then case-folded and upper-cased. Upper case is the key's case so that the numbers care
firms actually send (``INV-2010-0417``) are their own key: their identity (``ledger.ids
.invoice_id`` of the key) is the one they always had. The posted form is kept as sent.

Numbers may use any printable Unicode; control, surrogate, private-use and unassigned code
points are refused, as is a number whose key is empty.
"""

from __future__ import annotations

import unicodedata

from ledger.errors import InvalidCommandError

MAX_NUMBER_LENGTH = 64
REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})


def invoice_number_key(number: str) -> str:
    """The form two numbers are compared in: equal keys, one number (rule 13)."""
    plain = unicodedata.normalize("NFKC", number)
    kept = "".join(c for c in plain if not c.isspace() and unicodedata.category(c) != "Cf")
    folded = unicodedata.normalize("NFKC", kept.casefold()).upper()
    return unicodedata.normalize("NFKC", folded)


def check_invoice_number(field: str, number: str) -> str:
    """Refuse a number that is empty, too long, holds control characters or has an empty key."""
    if not isinstance(number, str) or not 1 <= len(number) <= MAX_NUMBER_LENGTH:
        raise InvalidCommandError(
            f"{field} must be 1..{MAX_NUMBER_LENGTH} characters",
            field=field,
            max_length=MAX_NUMBER_LENGTH,
        )
    if any(unicodedata.category(c) in REFUSED_CATEGORIES for c in number):
        raise InvalidCommandError(f"{field} holds control or unassigned characters", field=field)
    if not invoice_number_key(number):
        raise InvalidCommandError(f"{field} is only spaces or invisible characters", field=field)
    return number
