"""Endings that settle (rule 12): after an ending, final invoices for care delivered before it
are received, approved and paid; the direct-payment balance left is recovered by its own entry;
an ending recorded in error is reversed by a reinstatement that references it. Mixed into
``ledger.budget.PersonalBudget``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ledger.budget_rules import check_in_life
from ledger.errors import (
    BudgetNotEndedError,
    EffectiveDateOutsideBudgetError,
    InvalidCommandError,
    NotAnEndingError,
    RecoveryExceedsBalanceError,
)
from ledger.money import check_pence
from ledger.provenance import Provenance
from ledger.values import BudgetStatus, Period

if TYPE_CHECKING:
    from ledger.budget import PersonalBudget


class BudgetEndingCommands:
    def check_settles(
        self: PersonalBudget,
        entry: str,
        period: Period,
        effective_on: date,
        *,
        dated: bool = True,
    ) -> None:
        """An invoice entry (receipt, approval, payment): on a running budget, the budget is
        active (rules 4, 7); after the end, the care was delivered by the end (rule 12). A
        ``dated`` entry is not effective before the approval (a receipt's period is flagged
        instead, rule 4)."""
        if self.status is not BudgetStatus.ENDED:
            self.check_active()
        if dated or self.status is BudgetStatus.ENDED:
            self.check_in_life(entry, settles=True, effective_on=effective_on)
        if self.status is BudgetStatus.ENDED:
            days = {"period.end": period.end}
            check_in_life(str(self.id), entry, days, self.approved_on, self.ended_on)

    def _check_ended(self: PersonalBudget, command: str) -> date:
        if self.status is not BudgetStatus.ENDED or self.ended_on is None:
            raise BudgetNotEndedError(
                f"{command}: the budget is {self.status.value}, not ended",
                budget_id=str(self.id),
                status=self.status.value,
            )
        return self.ended_on

    def recover_balance(
        self: PersonalBudget, amount_pence: int | None, effective_on: date, prov: Provenance
    ) -> tuple[int, int]:
        """Recover ``amount_pence`` (None: all) of the direct-payment balance held after the
        ending; over-paid client contribution is refunded first. Returns (refunded, recovered)."""
        ended_on = self._check_ended("balance recovery")
        if effective_on < ended_on:
            raise EffectiveDateOutsideBudgetError(
                f"balance recovery: effective_on {effective_on} precedes the ending {ended_on}",
                budget_id=str(self.id),
                entry="balance recovery",
                date_field="effective_on",
                date=effective_on.isoformat(),
                budget_ends_on=ended_on.isoformat(),
            )
        amount = self.held_pence if amount_pence is None else amount_pence
        if amount_pence is not None:
            check_pence("amount_pence", amount_pence)
        if amount > self.held_pence or amount <= 0:
            raise RecoveryExceedsBalanceError(
                f"{amount}p asked; the direct-payment account holds {self.held_pence}p",
                budget_id=str(self.id),
                amount_pence=amount,
                held_pence=self.held_pence,
            )
        overpaid = (
            self.contributions_received_pence
            - self.refunded_pence
            - self.contribution_due_pence(ended_on)
        )
        refunded = min(amount, max(0, overpaid))
        self._balance_recovered(
            refunded_pence=refunded,
            recovered_pence=amount - refunded,
            effective_on=effective_on,
            prov=prov,
        )
        return refunded, amount - refunded

    def reinstate(
        self: PersonalBudget, ending_version: int, effective_on: date, prov: Provenance
    ) -> None:
        """Reverse the ending in force, recorded in error: the budget returns to the status it
        had before it. Only that ending is reinstated, with a reason."""
        self._check_ended("reinstatement")
        if ending_version != self.ending_version:
            raise NotAnEndingError(
                f"entry {ending_version} is not the budget's ending in force"
                f" (version {self.ending_version})",
                budget_id=str(self.id),
                entry_version=ending_version,
                ending_version=self.ending_version,
            )
        if prov.reason is None:
            raise InvalidCommandError("a reinstatement states its reason", field="reason")
        self._reinstated(
            ending_version=ending_version,
            status=self.status_before_end.value,
            effective_on=effective_on,
            prov=prov,
        )
