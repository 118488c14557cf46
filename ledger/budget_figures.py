"""A personal budget's figures, derived from its state. Mixed into ``PersonalBudget``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ledger.budget_rules import (
    WEEKS_PER_YEAR,
    weeks_between,
)

if TYPE_CHECKING:
    from ledger.budget import PersonalBudget


class BudgetFigures:
    @property
    def available_pence(self: PersonalBudget) -> int:
        """Allocated, in every budget year (rule 14), less what is drawn."""
        return self.allocated_pence - self.drawn_pence

    @property
    def allocated_pence(self: PersonalBudget) -> int:
        if not self.year_allocations:
            return self.allocation.total_pence
        return sum(a.total_pence for a in self.year_allocations.values())

    @property
    def held_pence(self: PersonalBudget) -> int:
        """Cash held in the person's direct-payment account, unspent and unrecovered."""
        return (
            self.cash_paid_pence
            + self.contributions_into_account_pence
            - self.dp_spend_pence
            - self.recovered_pence
            - self.refunded_pence
        )

    @property
    def contributions_owed_pence(self: PersonalBudget) -> int:
        """Assessed contributions charged and not yet paid (a receivable)."""
        return self.contributions_charged_pence - self.contributions_paid_pence

    @property
    def contribution_arrears_pence(self: PersonalBudget) -> int:
        """Owed beyond the latest period's charge: contributions overdue."""
        return max(0, self.contributions_owed_pence - self.last_contribution_charge_pence)

    @property
    def annual_direct_payment_pence(self: PersonalBudget) -> int:
        if self.deployment is None or not self.deployment.pays_cash:
            return 0
        return self.deployment.direct_payment_pence or self.allocation.total_pence

    @property
    def outstanding_invoices_pence(self: PersonalBudget) -> int:
        return sum(i.amount_pence for i in self.invoices.values() if i.state == "received")

    @property
    def weekly_direct_payment_pence(self: PersonalBudget) -> int:
        if self.deployment is None or not self.deployment.pays_cash:
            return 0
        return self.annual_direct_payment_pence // WEEKS_PER_YEAR

    def weekly_direct_payment_on(self: PersonalBudget, day: date) -> int:
        """The weekly direct-payment funding of the budget year ``day`` falls in (rule 14): that
        year's annual figure, not a later year's; without years, the approval's as revised."""
        key = self.year_key(day)
        annual = self.year_annuals.get(key) if key is not None else None
        if annual is None or self.deployment is None or not self.deployment.pays_cash:
            return self.weekly_direct_payment_pence
        return (self.deployment.direct_payment_pence or annual.total_pence) // WEEKS_PER_YEAR

    def contribution_due_pence(self: PersonalBudget, day: date) -> int:
        """What the person owes by ``day``: the assessed weekly charge for each whole week."""
        if self.approved_on is None:
            return 0
        weekly = self.contribution_weekly_pence
        if weekly is None:
            weekly = self.allocation.client_contribution_pence // WEEKS_PER_YEAR
        return weekly * weeks_between(self.approved_on, day)
