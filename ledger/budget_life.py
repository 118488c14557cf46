"""A personal budget's life: planning, approval, deployment, revision, status and the guards
every money entry passes. Mixed into ``ledger.budget.PersonalBudget``, whose ``@event`` methods
record what these commands decide."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ledger.budget_rules import (
    WEEKS_PER_YEAR,
    check_allocation,
    check_contingency,
    check_in_life,
)
from ledger.council import DEFAULT_MAX_CONTINGENCY_BP
from ledger.errors import (
    BudgetEndedError,
    BudgetNotActiveError,
    BudgetSuspendedError,
    DeploymentError,
    InsufficientBudgetError,
    InsufficientFundsError,
    InvalidCommandError,
    InvalidTransitionError,
)
from ledger.money import check_pence
from ledger.provenance import Provenance, check_ref
from ledger.values import (
    Allocation,
    BudgetStatus,
    Deployment,
    EndReason,
    Period,
    PlanLine,
    parse_enum,
    plan_weekly_cost,
)

if TYPE_CHECKING:
    from ledger.budget import PersonalBudget

MAX_RAS_SCORE = 10_000


class BudgetLifeCommands:
    def set_indicative_budget(
        self: PersonalBudget,
        ras_score: int,
        weekly_pence: int,
        ras_version: str,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self._check_not_ended()
        if not 0 <= ras_score <= MAX_RAS_SCORE:
            raise InvalidCommandError(f"RAS score must be 0..{MAX_RAS_SCORE}", field="ras_score")
        check_pence("weekly_pence", weekly_pence)
        check_ref("ras_version", ras_version, max_length=32)
        self._indicative_budget_set(
            ras_score=ras_score,
            weekly_pence=weekly_pence,
            ras_version=ras_version,
            effective_on=effective_on,
            prov=prov,
        )

    def agree_support_plan(
        self: PersonalBudget, lines: tuple[PlanLine, ...], effective_on: date, prov: Provenance
    ) -> None:
        self._check_not_ended()
        if not 1 <= len(lines) <= 50:
            raise InvalidCommandError("a support plan has 1..50 lines", field="lines")
        annual = plan_weekly_cost(lines) * WEEKS_PER_YEAR
        if self.status is not BudgetStatus.OPENED and annual > self.allocation.total_pence:
            raise InsufficientBudgetError(
                "revise the budget before agreeing a dearer plan",
                budget_id=str(self.id),
                total_pence=self.allocation.total_pence,
                plan_annual_cost_pence=annual,
            )
        self._support_plan_agreed(lines=tuple(lines), effective_on=effective_on, prov=prov)

    def approve(
        self: PersonalBudget,
        allocation: Allocation,
        effective_on: date,
        prov: Provenance,
        max_contingency_bp: int = DEFAULT_MAX_CONTINGENCY_BP,
    ) -> None:
        if self.status is not BudgetStatus.OPENED:
            raise InvalidTransitionError(
                f"budget is {self.status.value}; use a revision", budget_id=str(self.id)
            )
        check_allocation(str(self.id), allocation, self.plan)
        check_contingency(str(self.id), allocation, max_contingency_bp)
        check_in_life(
            str(self.id), "approval", {"effective_on": effective_on}, self.opened_on, None
        )
        self._approved(allocation=allocation, effective_on=effective_on, prov=prov)

    def choose_deployment(
        self: PersonalBudget, deployment: Deployment, effective_on: date, prov: Provenance
    ) -> None:
        self._check_approved()
        self._check_not_ended()
        if deployment.direct_payment_pence > self.allocation.total_pence:
            raise DeploymentError(
                "the direct-payment share exceeds the budget",
                budget_id=str(self.id),
                direct_payment_pence=deployment.direct_payment_pence,
                total_pence=self.allocation.total_pence,
            )
        self._deployment_chosen(deployment=deployment, effective_on=effective_on, prov=prov)

    def revise(
        self: PersonalBudget,
        allocation: Allocation,
        effective_on: date,
        prov: Provenance,
        max_contingency_bp: int = DEFAULT_MAX_CONTINGENCY_BP,
    ) -> None:
        self._check_approved()
        self._check_not_ended()
        check_allocation(str(self.id), allocation, self.plan)
        check_contingency(str(self.id), allocation, max_contingency_bp)
        self.check_in_life("revision", effective_on=effective_on)
        headroom = allocation.total_pence - self.drawn_pence + allocation.contingency_pence
        if headroom < 0:
            raise InsufficientFundsError(
                "the revised budget is below what has already been spent",
                budget_id=str(self.id),
                total_pence=allocation.total_pence,
                drawn_pence=self.drawn_pence,
            )
        self._revised(
            allocation=allocation, previous=self.allocation, effective_on=effective_on, prov=prov
        )

    def suspend(self: PersonalBudget, effective_on: date, prov: Provenance) -> None:
        self.check_active()
        self._suspended(effective_on=effective_on, prov=prov)

    def resume(self: PersonalBudget, effective_on: date, prov: Provenance) -> None:
        if self.status is not BudgetStatus.SUSPENDED:
            raise InvalidTransitionError(
                f"budget is {self.status.value}, not suspended", budget_id=str(self.id)
            )
        self._resumed(effective_on=effective_on, prov=prov)

    def end(self: PersonalBudget, end_reason: str, effective_on: date, prov: Provenance) -> None:
        self._check_not_ended()
        reason = parse_enum(EndReason, "end reason", end_reason)
        self._ended(end_reason=reason.value, effective_on=effective_on, prov=prov)

    def review(self: PersonalBudget, effective_on: date, prov: Provenance) -> None:
        self._check_approved()
        self._check_not_ended()
        self._reviewed(effective_on=effective_on, prov=prov)

    def check_active(self: PersonalBudget) -> None:
        """Rule 7: no payment after ending or while suspended; nothing before approval."""
        self._check_not_ended()
        if self.status is BudgetStatus.SUSPENDED:
            raise BudgetSuspendedError("budget is suspended", budget_id=str(self.id))
        if self.status is not BudgetStatus.ACTIVE:
            raise BudgetNotActiveError("budget is not yet approved", budget_id=str(self.id))

    def check_funds(self: PersonalBudget, amount_pence: int) -> None:
        """Rule 3: never beyond available balance plus contingency."""
        if amount_pence > self.available_pence + self.allocation.contingency_pence:
            raise InsufficientFundsError(
                f"{amount_pence}p exceeds available {self.available_pence}p"
                f" + contingency {self.allocation.contingency_pence}p",
                budget_id=str(self.id),
                amount_pence=amount_pence,
                available_pence=self.available_pence,
                contingency_pence=self.allocation.contingency_pence,
            )

    def _check_not_ended(self: PersonalBudget) -> None:
        if self.status is BudgetStatus.ENDED:
            raise BudgetEndedError(
                f"budget ended on {self.ended_on}",
                budget_id=str(self.id),
                ended_on=str(self.ended_on),
            )

    def _check_approved(self: PersonalBudget) -> None:
        if self.approved_on is None:
            raise BudgetNotActiveError("budget is not yet approved", budget_id=str(self.id))

    def check_in_life(
        self: PersonalBudget,
        entry: str,
        period: Period | None = None,
        *,
        settles: bool = False,
        effective_on: date,
    ) -> None:
        """Rule 12 for a money entry: effective from the approval (the allocation's date) and,
        unless it ``settles`` care delivered before the end, not after the end. A service
        ``period`` lies wholly inside the life, whatever the entry."""
        self._check_approved()
        ends_on = self.ended_on
        check_in_life(
            str(self.id), entry, {"effective_on": effective_on}, self.approved_on, ends_on,
            settles=settles,
        )  # fmt: skip
        if period is not None:
            days = {"period.start": period.start, "period.end": period.end}
            check_in_life(str(self.id), entry, days, self.approved_on, ends_on)
