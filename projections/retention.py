"""Retention: who has passed a council's retention period, so their personal data is erased.

The default policy, common among councils for financial records: six years after the end of the
financial year (1 April to 31 March) in which the person's last budget ended. A person with a
budget still open is never due. People are found by pseudonym in ``v_people``; their references
are not needed (nor known) to erase them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from projections.db import ViewDb

DEFAULT_YEARS = 6


def financial_year_end(day: date) -> date:
    """31 March closing the financial year that holds ``day``."""
    return date(day.year + 1 if day.month >= 4 else day.year, 3, 31)


def retained_until(ended_on: date, years: int = DEFAULT_YEARS) -> date:
    """The last day a budget ended on ``ended_on`` is kept."""
    end = financial_year_end(ended_on)
    return end.replace(year=end.year + years)


@dataclass(frozen=True)
class Due:
    person: str  # pseudonym
    councils: tuple[str, ...]
    budgets: int
    last_ended_on: date
    retained_until: date


def due_people(
    db: ViewDb, today: date, years: int = DEFAULT_YEARS, policy: Mapping[str, int] | None = None
) -> list[Due]:
    """People not yet erased whose every budget ended and whose retention ran out before
    ``today``, oldest first. ``policy`` gives a council's own period in years (others take
    ``years``); a budget is kept for its council's period."""
    rows = db.query(
        "SELECT person, council, ended_on FROM v_people WHERE erased_on IS NULL"
        " ORDER BY person, budget_id"
    )
    found = _due(_by_person(rows), today, years, policy or {})
    return sorted(found, key=lambda d: (d.retained_until, d.person))


def _by_person(rows: Iterable[dict[str, str | None]]) -> dict[str, list[dict[str, str | None]]]:
    people: dict[str, list[dict[str, str | None]]] = {}
    for row in rows:
        people.setdefault(str(row["person"]), []).append(row)
    return people


def _due(
    people: dict[str, list[dict[str, str | None]]],
    today: date,
    years: int,
    policy: Mapping[str, int],
) -> list[Due]:
    found = []
    for person, budgets in people.items():
        if any(b["ended_on"] is None for b in budgets):
            continue  # a budget still open: kept
        last = max(date.fromisoformat(str(b["ended_on"])) for b in budgets)
        until = max(
            retained_until(
                date.fromisoformat(str(b["ended_on"])), policy.get(str(b["council"]), years)
            )
            for b in budgets
        )
        if until < today:
            councils = tuple(sorted({str(b["council"]) for b in budgets}))
            found.append(Due(person, councils, len(budgets), last, until))
    return found
