"""A personal budget's money commands: cash payments, spend reports, contributions and surplus
(corrections, rule 10, are in ``ledger.budget_reversals``). Mixed into
``ledger.budget.PersonalBudget``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ledger.budget_rules import (
    surplus_threshold,
)
from ledger.errors import (
    DeploymentError,
    InsufficientFundsError,
    SurplusExceededError,
)
from ledger.money import check_pence
from ledger.provenance import Provenance
from ledger.values import (
    Period,
)

if TYPE_CHECKING:
    from ledger.budget import PersonalBudget


class BudgetMoneyCommands:
    def issue_cash_payment(
        self: PersonalBudget,
        amount_pence: int,
        period: Period,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        check_pence("amount_pence", amount_pence)
        self.check_active()
        if self.deployment is None or not self.deployment.pays_cash:
            raise DeploymentError(
                "the budget is not deployed as a direct payment", budget_id=str(self.id)
            )
        self.check_in_life("cash payment", period, effective_on=effective_on)
        self.check_funds(amount_pence, effective_on)
        self._cash_payment_issued(
            amount_pence=amount_pence, period=period, effective_on=effective_on, prov=prov
        )

    def report_direct_payment_spend(
        self: PersonalBudget,
        amount_pence: int,
        period: Period,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        check_pence("amount_pence", amount_pence)
        self.check_in_life("spend report", period, settles=True, effective_on=effective_on)
        if amount_pence > self.held_pence:
            raise InsufficientFundsError(
                f"reported spend {amount_pence}p exceeds the {self.held_pence}p held",
                budget_id=str(self.id),
                amount_pence=amount_pence,
                held_pence=self.held_pence,
            )
        self._direct_payment_spend_reported(
            amount_pence=amount_pence, period=period, effective_on=effective_on, prov=prov
        )

    def assess_contribution(
        self: PersonalBudget, weekly_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        check_pence("weekly_pence", weekly_pence, allow_zero=True)
        self._check_not_ended()
        self._contribution_assessed(weekly_pence=weekly_pence, effective_on=effective_on, prov=prov)

    def receive_contribution(
        self: PersonalBudget, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        check_pence("amount_pence", amount_pence)
        self.check_in_life("contribution", settles=True, effective_on=effective_on)
        if self.net_payments is not None:  # owed as a receivable: paid against it
            self._contribution_paid(
                amount_pence=amount_pence,
                into_account=self.net_payments,
                effective_on=effective_on,
                prov=prov,
            )
            return
        self._contribution_received(amount_pence=amount_pence, effective_on=effective_on, prov=prov)

    def identify_surplus(
        self: PersonalBudget, surplus_weeks: int, effective_on: date, prov: Provenance
    ) -> int:
        """Rule 9: the balance held above ``surplus_weeks`` of direct-payment funding."""
        self.check_in_life("surplus identification", settles=True, effective_on=effective_on)
        weekly = self.weekly_direct_payment_on(effective_on)  # the year's rate (rule 14)
        threshold = surplus_threshold(weekly, surplus_weeks)
        surplus = self.held_pence - self.surplus_outstanding_pence - threshold
        if surplus <= 0:
            raise SurplusExceededError(
                f"no surplus: {self.held_pence}p held, threshold {threshold}p",
                budget_id=str(self.id),
                held_pence=self.held_pence,
                threshold_pence=threshold,
            )
        self._surplus_identified(
            amount_pence=surplus,
            held_pence=self.held_pence,
            threshold_pence=threshold,
            effective_on=effective_on,
            prov=prov,
        )
        return surplus

    def recover_surplus(
        self: PersonalBudget, amount_pence: int, effective_on: date, prov: Provenance
    ) -> tuple[int, int]:
        """Recover identified surplus; over-paid client contribution is refunded first."""
        check_pence("amount_pence", amount_pence)
        self.check_in_life("surplus recovery", settles=True, effective_on=effective_on)
        if amount_pence > min(self.surplus_outstanding_pence, self.held_pence):
            raise SurplusExceededError(
                f"{amount_pence}p exceeds the {self.surplus_outstanding_pence}p surplus identified",
                budget_id=str(self.id),
                amount_pence=amount_pence,
                surplus_pence=self.surplus_outstanding_pence,
            )
        overpaid = (
            self.contributions_received_pence
            + self.contributions_paid_pence
            - self.contributions_into_account_pence
            - self.refunded_pence
            - self.contribution_due_pence(effective_on)
        )
        refunded = min(amount_pence, max(0, overpaid))
        recovered = amount_pence - refunded
        self._surplus_recovered(
            refunded_pence=refunded, recovered_pence=recovered, effective_on=effective_on, prov=prov
        )
        return refunded, recovered
