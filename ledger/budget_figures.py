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
        return self.allocation.total_pence - self.drawn_pence

    @property
    def held_pence(self: PersonalBudget) -> int:
        """Cash held in the person's direct-payment account, unspent and unrecovered."""
        return (
            self.cash_paid_pence - self.dp_spend_pence - self.recovered_pence - self.refunded_pence
        )

    @property
    def outstanding_invoices_pence(self: PersonalBudget) -> int:
        return sum(i.amount_pence for i in self.invoices.values() if i.state == "received")

    @property
    def weekly_direct_payment_pence(self: PersonalBudget) -> int:
        if self.deployment is None or not self.deployment.pays_cash:
            return 0
        annual = self.deployment.direct_payment_pence or self.allocation.total_pence
        return annual // WEEKS_PER_YEAR

    def contribution_due_pence(self: PersonalBudget, day: date) -> int:
        """What the person owes by ``day``: the assessed weekly charge for each whole week."""
        if self.approved_on is None:
            return 0
        weekly = self.contribution_weekly_pence
        if weekly is None:
            weekly = self.allocation.client_contribution_pence // WEEKS_PER_YEAR
        return weekly * weeks_between(self.approved_on, day)
