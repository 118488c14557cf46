"""Money is integer pence inside the ledger. Pounds exist only at the edges."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ledger.errors import InvalidCommandError

# £10 million: far above any personal budget or invoice; a larger figure is a typo or an attack.
MAX_AMOUNT_PENCE = 1_000_000_000

_POUNDS = re.compile(r"^(-?)£?(\d{1,9})(?:\.(\d{1,2}))?$")


def check_pence(field: str, value: int, *, allow_zero: bool = False) -> int:
    """Refuse a non-integer, negative, zero (unless allowed) or absurd amount."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidCommandError(f"{field} must be an integer number of pence", field=field)
    low = 0 if allow_zero else 1
    if not low <= value <= MAX_AMOUNT_PENCE:
        raise InvalidCommandError(
            f"{field} must be between {low} and {MAX_AMOUNT_PENCE} pence",
            field=field,
            value=value,
        )
    return value


def parse_pounds(text: str) -> int:
    """'12.5' → 1250; '£1,000.00' → 100000. Refuses more than two decimal places."""
    match = _POUNDS.match(text.strip().replace(",", ""))
    if match is None:
        raise InvalidCommandError(f"not an amount in pounds: {text!r}", field="amount")
    sign, whole, frac = match.groups()
    pence = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return -pence if sign else pence


def format_pounds(pence: int, *, symbol: str = "") -> str:
    """1250 → '12.50'; -5 → '-0.05'."""
    sign = "-" if pence < 0 else ""
    whole, frac = divmod(abs(pence), 100)
    return f"{sign}{symbol}{whole}.{frac:02d}"


def split_pence(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights``; leftover pence go to the largest remainders.

    The parts always add up to ``total`` exactly.
    """
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise InvalidCommandError("split needs non-negative weights with a positive sum")
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts
