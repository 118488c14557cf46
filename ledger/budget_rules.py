"""Pure checks and figures for personal budgets, kept apart so the aggregate stays readable."""

from __future__ import annotations

from datetime import date

from ledger.errors import (
    ContingencyExceedsPolicyError,
    ContributionMismatchError,
    EffectiveDateOutsideBudgetError,
    FundingMismatchError,
    InsufficientBudgetError,
    InvalidCommandError,
    NoAgreedPlanError,
)
from ledger.money import check_pence
from ledger.values import Allocation, FundingSource, PlanLine, plan_weekly_cost

WEEKS_PER_YEAR = 52


def check_allocation(
    budget_id: str, allocation: Allocation, plan: tuple[PlanLine, ...] | None
) -> None:
    """Rules 1 and 2: the figures add up, the streams cover the council's share, the plan fits."""
    check_pence("total_pence", allocation.total_pence)
    check_pence("client_contribution_pence", allocation.client_contribution_pence, allow_zero=True)
    check_pence(
        "council_contribution_pence", allocation.council_contribution_pence, allow_zero=True
    )
    check_pence("contingency_pence", allocation.contingency_pence, allow_zero=True)
    if len(allocation.streams) > 10:
        raise InvalidCommandError("at most 10 funding streams", field="streams")
    stated = allocation.client_contribution_pence + allocation.council_contribution_pence
    if stated != allocation.total_pence:
        raise ContributionMismatchError(
            f"total {allocation.total_pence}p ≠ client {allocation.client_contribution_pence}p"
            f" + council {allocation.council_contribution_pence}p",
            budget_id=budget_id,
            total_pence=allocation.total_pence,
            client_contribution_pence=allocation.client_contribution_pence,
            council_contribution_pence=allocation.council_contribution_pence,
        )
    streams = sum(s.amount_pence for s in allocation.streams)
    if streams != allocation.council_contribution_pence:
        raise FundingMismatchError(
            f"funding streams add up to {streams}p, council contribution is"
            f" {allocation.council_contribution_pence}p",
            budget_id=budget_id,
            streams_pence=streams,
            council_contribution_pence=allocation.council_contribution_pence,
        )
    if not plan:
        raise NoAgreedPlanError("agree a support plan before approving", budget_id=budget_id)
    annual_cost = plan_weekly_cost(plan) * WEEKS_PER_YEAR
    if allocation.total_pence < annual_cost:
        raise InsufficientBudgetError(
            f"budget {allocation.total_pence}p a year does not cover the plan's"
            f" {plan_weekly_cost(plan)}p a week ({annual_cost}p a year)",
            budget_id=budget_id,
            total_pence=allocation.total_pence,
            plan_weekly_cost_pence=plan_weekly_cost(plan),
            plan_annual_cost_pence=annual_cost,
        )


def check_contingency(budget_id: str, allocation: Allocation, max_contingency_bp: int) -> None:
    """Councils set their own contingency: a budget's stays within the council's share."""
    allowed = allocation.total_pence * max_contingency_bp // 10_000
    if allocation.contingency_pence > allowed:
        raise ContingencyExceedsPolicyError(
            f"contingency {allocation.contingency_pence}p exceeds the council's"
            f" {max_contingency_bp / 100:g}% of the budget ({allowed}p)",
            budget_id=budget_id,
            contingency_pence=allocation.contingency_pence,
            allowed_pence=allowed,
        )


def weeks_between(start: date, end: date) -> int:
    """Whole weeks from ``start`` to ``end`` (zero if ``end`` is earlier)."""
    return max(0, (end - start).days // 7)


def surplus_threshold(weekly_funding_pence: int, surplus_weeks: int) -> int:
    return weekly_funding_pence * surplus_weeks


def pooled_share(allocation: Allocation) -> int:
    return allocation.source_total(FundingSource.POOLED_FUND)


def check_in_life(
    budget_id: str,
    entry: str,
    dates: dict[str, date],
    starts_on: date | None,
    ends_on: date | None,
    *,
    settles: bool = False,
) -> None:
    """Rule 12: each of ``dates`` (named, e.g. ``effective_on``, ``period.start``) lies in the
    budget's life, ``starts_on`` .. ``ends_on`` (None: not ended). An entry that ``settles``
    care delivered before the end (invoice approval, payment and credit, contributions, spend
    reported, surplus recovery, corrections) may be dated after the end, never before the start.
    """
    for name, day in dates.items():
        before = starts_on is None or day < starts_on
        after = not settles and ends_on is not None and day > ends_on
        if before or after:
            life = f"{starts_on} .. {ends_on or 'open'}"
            raise EffectiveDateOutsideBudgetError(
                f"{entry}: {name} {day} lies outside the budget's life ({life})",
                budget_id=budget_id,
                entry=entry,
                date_field=name,
                date=day.isoformat(),
                budget_starts_on=starts_on.isoformat() if starts_on else None,
                budget_ends_on=ends_on.isoformat() if ends_on else None,
            )
