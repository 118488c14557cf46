"""Rule 10, the checks every reversal shares: a correction references one money entry of the
record it is on, states its reason, and with the reversals before it never exceeds the entry.
What else a reversal needs (the money still there to take back, the order of dependent entries)
is checked by the record that holds the entry."""

from __future__ import annotations

from ledger.errors import (
    CorrectionExceedsOriginalError,
    EntryNotCorrectableError,
    EntryNotFoundError,
    InvalidCommandError,
)
from ledger.money import check_pence
from ledger.provenance import Provenance

Entries = dict[int, tuple[str, int]]  # version → (event type, pence)


def check_reversal(
    record: dict[str, str],
    entries: Entries,
    reversed_pence: dict[int, int],
    entry_version: int,
    amount_pence: int,
    prov: Provenance,
    *,
    version: int,
    not_correctable: str,
) -> str:
    """The entry's type, once the shared checks pass. ``record`` names the record (e.g.
    ``{"budget_id": …}``) in every error's facts; ``version`` is the record's version, so an
    entry that exists but moves no money is told apart from none at all."""
    check_pence("amount_pence", amount_pence)
    if prov.reason is None:
        raise InvalidCommandError("a correction states its reason", field="reason")
    entry = entries.get(entry_version)
    if entry is None:
        if 1 <= entry_version <= version:
            raise EntryNotCorrectableError(not_correctable, entry_version=entry_version, **record)
        raise EntryNotFoundError("no such entry", entry_version=entry_version, **record)
    entry_type, original = entry
    remaining = original - reversed_pence.get(entry_version, 0)
    if amount_pence > remaining:
        raise CorrectionExceedsOriginalError(
            f"{amount_pence}p exceeds the {remaining}p left of the original {entry_type}"
            f" entry ({original}p, {original - remaining}p already reversed)",
            entry_version=entry_version,
            entry_type=entry_type,
            amount_pence=amount_pence,
            original_pence=original,
            remaining_pence=remaining,
            **record,
        )
    return entry_type
