"""Budget years (DESIGN.md rule 14): each financial year, 1 April to 31 March, has its own
allocation, funds check and figures. Mixed into ``ledger.budget.PersonalBudget``.

A budget without year events keeps its old meaning: one allocation, the approval's, for a year
from the approval. Once the next financial year is allocated (rolled over or re-assessed), the
approval year runs from the approval to the day before its anniversary and closes with the figures
it had; the first financial year is pro-rated by day over the part of it after the anniversary;
later years run whole, 1 April to 31 March.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ledger.budget_rules import check_allocation, check_contingency
from ledger.council import DEFAULT_MAX_CONTINGENCY_BP
from ledger.errors import (
    BudgetNotActiveError,
    BudgetYearClosedError,
    BudgetYearError,
    BudgetYearNotAllocatedError,
    InsufficientFundsError,
    InvalidCommandError,
)
from ledger.provenance import Provenance
from ledger.values import Allocation

if TYPE_CHECKING:
    from ledger.budget import PersonalBudget

ROLLED_OVER = "rolled-over"
RE_ASSESSED = "re-assessed"
REVISED = "revised"
YEAR_BASES = (ROLLED_OVER, RE_ASSESSED)


def fy_start(day: date) -> date:
    """The 1 April that starts ``day``'s financial year."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def fy_end(start: date) -> date:
    return date(start.year + 1, 3, 31)


def fy_label(start: date) -> str:
    """``2011-12`` for the year from 1 April 2011."""
    return f"{start.year}-{(start.year + 1) % 100:02d}"


def fy_days(start: date) -> int:
    return (fy_end(start) - start).days + 1


def anniversary(day: date) -> date:
    """A year after ``day`` (29 February's anniversary is 1 March)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)


def prorate(a: Allocation, days: int, year_days: int) -> Allocation:
    """An annual allocation for ``days`` of a ``year_days`` year, every figure rounded down and
    the parts still adding up (rule 1): the council's rounding goes to its largest stream."""
    if days >= year_days:
        return a
    total = a.total_pence * days // year_days
    client = a.client_contribution_pence * days // year_days
    council = total - client
    streams = [replace(s, amount_pence=s.amount_pence * days // year_days) for s in a.streams]
    if streams:
        big = max(range(len(streams)), key=lambda i: streams[i].amount_pence)
        short = council - sum(s.amount_pence for s in streams)
        streams[big] = replace(streams[big], amount_pence=streams[big].amount_pence + short)
    kept = tuple(s for s in streams if s.amount_pence > 0)
    return Allocation(total, client, council, kept, a.contingency_pence * days // year_days)


@dataclass(frozen=True, slots=True)
class BudgetYear:
    """One budget year's figures: the approval year, or a financial year."""

    starts_on: date  # the key: the approval date, or 1 April
    ends_on: date | None  # None: the approval year of a budget without year events
    label: str
    allocated_pence: int
    drawn_pence: int
    contingency_pence: int
    closed: bool

    @property
    def available_pence(self) -> int:
        return self.allocated_pence - self.drawn_pence


class BudgetYearCommands:
    def year_key(self: PersonalBudget, day: date) -> date | None:
        """The budget year an entry dated ``day`` is charged to (None before approval)."""
        if self.approved_on is None:
            return None
        if not self.year_allocations or day < anniversary(self.approved_on):
            return self.approved_on
        return fy_start(day)

    def year_allocation(self: PersonalBudget, key: date) -> Allocation | None:
        if not self.year_allocations:
            return self.allocation if key == self.approved_on else None
        return self.year_allocations.get(key)

    def budget_years(self: PersonalBudget) -> list[BudgetYear]:
        """Every budget year, oldest first, with its figures."""
        if self.approved_on is None:
            return []
        keys = sorted(self.year_allocations) or [self.approved_on]
        years = []
        for i, key in enumerate(keys):
            alloc = self.year_allocation(key)
            if alloc is None:
                continue
            later = i + 1 < len(keys)
            if key == self.approved_on:
                ends_on = anniversary(key) - timedelta(days=1) if later else None
                label = f"{key.isoformat()} approval year"
            else:
                ends_on, label = fy_end(key), fy_label(key)
            years.append(
                BudgetYear(
                    key, ends_on, label, alloc.total_pence, self.year_drawn.get(key, 0),
                    alloc.contingency_pence, later,
                )
            )  # fmt: skip
        return years

    def check_year_funds(self: PersonalBudget, amount_pence: int, day: date) -> date:
        """Rule 14 with rule 3: the entry's year is allocated and has the money. The year."""
        key = self.year_key(day)
        alloc = None if key is None else self.year_allocation(key)
        if key is None or alloc is None:
            raise BudgetYearNotAllocatedError(
                f"no allocation for {fy_label(fy_start(day))}: roll the budget over or"
                " re-assess it for that year",
                budget_id=str(self.id),
                date=day.isoformat(),
                year=fy_label(fy_start(day)),
                allocated_years=[y.label for y in self.budget_years()],
            )
        available = alloc.total_pence - self.year_drawn.get(key, 0)
        if amount_pence > available + alloc.contingency_pence:
            raise InsufficientFundsError(
                f"{amount_pence}p exceeds the year's available {available}p"
                f" + contingency {alloc.contingency_pence}p",
                budget_id=str(self.id),
                amount_pence=amount_pence,
                available_pence=available,
                contingency_pence=alloc.contingency_pence,
                year=self.budget_year_label(key),
            )
        return key

    def approved_day(self: PersonalBudget) -> date:
        if self.approved_on is None:
            raise BudgetNotActiveError("budget is not yet approved", budget_id=str(self.id))
        return self.approved_on

    def entry_year_label(self: PersonalBudget, entry_id: str, day: date) -> str | None:
        """The budget year an entry (``ledger.ids.entry_id``: the budget's or an invoice's event,
        dated ``day``) is charged to: the one it drew on when recorded (an invoice's: its
        service period's), else the year ``day`` falls in (None before the approval)."""
        aggregate_id, version = entry_id.rsplit("/", 1)
        if aggregate_id == str(self.id):
            key = self.entry_years.get(int(version))
        else:
            key = self.invoice_years.get(aggregate_id)
        key = key or self.year_key(day)
        return None if key is None else self.budget_year_label(key)

    def budget_year_label(self: PersonalBudget, key: date) -> str:
        return f"{key.isoformat()} approval year" if key == self.approved_on else fy_label(key)

    def next_year_start(self: PersonalBudget) -> date:
        last = max(self.year_allocations, default=self.approved_day())
        return date(fy_start(last).year + 1, 4, 1)

    def allocate_year(
        self: PersonalBudget,
        year_starts_on: date,
        basis: str,
        effective_on: date,
        prov: Provenance,
        allocation: Allocation | None = None,
        max_contingency_bp: int = DEFAULT_MAX_CONTINGENCY_BP,
    ) -> Allocation:
        """Rule 14: the next financial year's allocation, rolled over (the annual figures as
        they stand) or re-assessed (new figures, checked like an approval). The year's share,
        pro-rated by day for a part year. Returns the year's allocation."""
        self._check_approved()
        self._check_not_ended()
        if basis not in YEAR_BASES:
            raise InvalidCommandError(f"basis is one of {', '.join(YEAR_BASES)}", field="basis")
        if (basis == RE_ASSESSED) != (allocation is not None):
            raise InvalidCommandError(
                "a re-assessed year states its allocation; a rolled-over year does not",
                field="allocation",
            )
        expected = self.next_year_start()
        if year_starts_on != expected:
            raise BudgetYearError(
                f"the next year to allocate starts on {expected} ({fy_label(expected)})",
                budget_id=str(self.id),
                year_starts_on=year_starts_on.isoformat(),
                expected_year_starts_on=expected.isoformat(),
            )
        annual = allocation or self.allocation
        if allocation is not None:
            check_allocation(str(self.id), allocation, self.plan)
            check_contingency(str(self.id), allocation, max_contingency_bp)
        live_from = max(year_starts_on, anniversary(self.approved_day()))
        days = (fy_end(year_starts_on) - live_from).days + 1
        year = prorate(annual, days, fy_days(year_starts_on))
        self._year_allocated(
            year_starts_on=year_starts_on,
            basis=basis,
            annual=annual,
            allocation=year,
            previous=Allocation(0, 0, 0, ()),
            effective_on=effective_on,
            prov=prov,
        )
        return year

    def revise_year(
        self: PersonalBudget, allocation: Allocation, effective_on: date, prov: Provenance
    ) -> tuple[Allocation, Allocation]:
        """A revision of a budget with years re-assesses the latest year: its allocation is the
        new annual figure pro-rated over the year (never below what it has drawn)."""
        key = max(self.year_allocations)
        if fy_start(effective_on) != key or effective_on < key:
            raise BudgetYearClosedError(
                f"revisions now apply to {fy_label(key)}, the budget's latest year",
                budget_id=str(self.id),
                effective_on=effective_on.isoformat(),
                latest_year=fy_label(key),
            )
        live_from = max(key, anniversary(self.approved_day()))
        days = (fy_end(key) - live_from).days + 1
        year = prorate(allocation, days, fy_days(key))
        drawn = self.year_drawn.get(key, 0)
        if year.total_pence + year.contingency_pence < drawn:
            raise InsufficientFundsError(
                "the revised year is below what the year has already drawn",
                budget_id=str(self.id),
                total_pence=year.total_pence,
                drawn_pence=drawn,
                year=fy_label(key),
            )
        previous = self.year_allocations[key]
        self._year_allocated(
            year_starts_on=key,
            basis=REVISED,
            annual=allocation,
            allocation=year,
            previous=previous,
            effective_on=effective_on,
            prov=prov,
        )
        return previous, year
