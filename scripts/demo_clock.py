"""When the demo's entries were recorded: a simulated clock, so the demo's history can be asked
as at any instant of 2010-11 (DESIGN.md §7).

The demo builds each person's year on the aggregates in memory; this module gives every event
the instant a council would have recorded it, then the loader saves the whole log in that
order (``Timeline``), so the log grows as it would have:

* most entries on their business date: a payment on its run day, an approval on its day;
* an invoice when it arrives, 2-9 days after its date; a direct-payment return 1-3 weeks late;
* a correction (a back-dated entry) 3-8 weeks after the date it corrects; one cash payment in
  twenty-five keyed in 2-6 weeks after its run day; the year's gross spend (the outturn) in
  June 2011 — so what was known on 1 May 2011 differs from what is known now;
* nothing before the ledger went live (``LIVE``): councils and care firms registered earlier
  are recorded then.

Every entry of one day is stamped at 09:00 UTC (late ones on their own day): a day's entries
are known together, as a council's daily batch would be. Each aggregate's entries stay in
version order (an entry is never recorded before the one it follows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.council import Council
from ledger.invoice import Invoice

LIVE = date(2010, 3, 1)  # the ledger went live a month before the financial year
OUTTURN = date(2011, 6, 15)  # when the year's gross spend was recorded
AT = time(9, 0, tzinfo=UTC)


def _spread(key: str, low: int, high: int) -> int:
    """A deterministic whole number in low..high for ``key``."""
    digest = hashlib.sha256(key.encode()).digest()
    return low + int.from_bytes(digest[:4]) % (high - low + 1)


def recorded_on(event: Any) -> date:
    """The day a council would have recorded ``event``."""
    day: date = event.effective_on
    key = f"{event.originator_id}/{event.originator_version}"
    if isinstance(event, Invoice.Posted):
        day += timedelta(days=_spread(str(event.originator_id), 2, 9))
    elif isinstance(event, PersonalBudget.InvoiceReceived):
        day += timedelta(days=_spread(event.invoice_id, 2, 9))  # with its invoice
    elif isinstance(event, PersonalBudget.DirectPaymentSpendReported):
        day += timedelta(days=_spread(key, 7, 21))
    elif isinstance(event, PersonalBudget.Corrected):
        day += timedelta(weeks=_spread(key, 3, 8))
    elif isinstance(event, PersonalBudget.CashPaymentIssued) and _spread(key, 1, 25) == 1:
        day += timedelta(weeks=_spread(key + "late", 2, 6))
    elif isinstance(event, Council.GrossSpendRecorded):
        day = max(day, OUTTURN)
    return max(day, LIVE)


class Timeline:
    """Every aggregate's new events, stamped, saved at the end in recorded order."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.last: dict[Any, datetime] = {}  # each aggregate's latest stamp so far

    def add(self, aggregates: Iterable[Aggregate]) -> int:
        count = 0
        for aggregate in aggregates:
            events = list(aggregate.collect_events())
            self.stamp(aggregate.id, events)
            self.events.extend(events)
            count += len(events)
        return count

    def stamp(self, aggregate_id: Any, events: list[Any]) -> None:
        """Give each event (the aggregate's next ones, in version order) its simulated instant,
        never before the one it follows."""
        last = self.last.get(aggregate_id, datetime.min.replace(tzinfo=UTC))
        for event in events:
            last = max(datetime.combine(recorded_on(event), AT), last)
            object.__setattr__(event, "timestamp", last)  # not yet stored: its stamp is ours
        self.last[aggregate_id] = last

    def save(self, app: CareLedger, batch: int) -> datetime | None:
        """Save in recorded order (a stable sort: one instant keeps its build order), ``batch``
        events a transaction; return the last instant."""
        ordered = sorted(self.events, key=lambda e: e.timestamp)
        for start in range(0, len(ordered), batch):
            app.save(*ordered[start : start + batch])
        self.events = []
        return ordered[-1].timestamp if ordered else None
