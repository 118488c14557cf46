"""Direct payments due, and paying them in a run: 4-weekly in advance from the direct payment's
start, each financial year's periods starting afresh on 1 April (the last one ends on 31 March),
at the annual direct-payment rate pro-rated by day, net or gross of the assessed contribution.
Mixed into ``ledger.budget.PersonalBudget``; the council's run is ``ledger.app_runs``.

A period stays paid once a run has paid it, even if that payment is later reversed (rule 10): a
council reverses a run's payment because it should not have been made (a duplicate, a wrong
amount), so the next run does not pay it again; money still owed for the period is paid by hand
(a cash payment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ledger.budget_rules import WEEKS_PER_YEAR
from ledger.budget_years import fy_days, fy_end, fy_start
from ledger.errors import DeploymentError, LedgerError
from ledger.provenance import Provenance
from ledger.values import BudgetStatus, Period

if TYPE_CHECKING:
    from ledger.budget import PersonalBudget

CYCLE_DAYS = 28
MAX_PERIODS_PER_RUN = 30  # a run catches up at most this many periods a budget (over two years)


@dataclass(frozen=True, slots=True)
class DuePayment:
    period: Period
    gross_pence: int
    contribution_pence: int
    net: bool

    @property
    def cash_pence(self) -> int:
        """What the council pays: gross, or net of the person's contribution."""
        return max(0, self.gross_pence - self.contribution_pence) if self.net else self.gross_pence


@dataclass(frozen=True, slots=True)
class RunResult:
    """One budget's line in a payment run."""

    budget_id: str
    paid_pence: int
    contributions_charged_pence: int
    periods: tuple[Period, ...]
    skipped: str | None = None  # why nothing (more) was paid: a reason code
    detail: str | None = None


def next_period(start: date) -> Period:
    """The 4-weekly period from ``start``, cut at 31 March so each year starts afresh."""
    end = min(start + timedelta(days=CYCLE_DAYS - 1), fy_end(fy_start(start)))
    return Period(start, end)


class BudgetRunCommands:
    def choose_payment_basis(
        self: PersonalBudget, net: bool, effective_on: date, prov: Provenance
    ) -> None:
        """Net (the person pays the assessed contribution into the account) or gross."""
        self._check_approved()
        self._check_not_ended()
        if self.deployment is None or not self.deployment.pays_cash:
            raise DeploymentError(
                "only a budget paid as a direct payment is paid net or gross",
                budget_id=str(self.id),
            )
        self._payment_basis_chosen(net=bool(net), effective_on=effective_on, prov=prov)

    def weekly_contribution_pence(self: PersonalBudget) -> int:
        if self.contribution_weekly_pence is not None:
            return self.contribution_weekly_pence
        return self.allocation.client_contribution_pence // WEEKS_PER_YEAR

    def due_payments(self: PersonalBudget, run_date: date) -> list[DuePayment]:
        """Every direct payment due on or before ``run_date`` and not yet paid."""
        if self.dp_started_on is None or self.annual_direct_payment_pence == 0:
            return []
        start = self.dp_started_on
        if self.dp_paid_through is not None:
            start = max(start, self.dp_paid_through + timedelta(days=1))
        due: list[DuePayment] = []
        while start <= run_date and len(due) < MAX_PERIODS_PER_RUN:
            period = next_period(start)
            gross = self.annual_direct_payment_pence * period.days // fy_days(fy_start(start))
            contribution = self.weekly_contribution_pence() * period.days // 7
            due.append(DuePayment(period, gross, contribution, bool(self.net_payments)))
            start = period.end + timedelta(days=1)
        return due

    def pay_due(self: PersonalBudget, run_date: date, prov: Provenance) -> RunResult:
        """Pay what is due by ``run_date``, period by period, each checked like a cash payment;
        the first refusal stops this budget (what was paid before it stands)."""
        bid = str(self.id)
        if self.status is BudgetStatus.ENDED:
            return RunResult(bid, 0, 0, (), "budget-ended", f"ended on {self.ended_on}")
        if self.status is BudgetStatus.SUSPENDED:
            return RunResult(bid, 0, 0, (), "budget-suspended", "suspended")
        paid = charged = 0
        periods: list[Period] = []
        for due in self.due_payments(run_date):
            try:
                self.issue_due(due, prov)
            except LedgerError as error:
                return RunResult(bid, paid, charged, tuple(periods), error.code, error.detail)
            paid += due.cash_pence
            charged += due.contribution_pence if self.net_payments is not None else 0
            periods.append(due.period)
        if not periods:
            return RunResult(bid, 0, 0, (), "nothing-due", f"paid through {self.dp_paid_through}")
        return RunResult(bid, paid, charged, tuple(periods))

    def issue_due(self: PersonalBudget, due: DuePayment, prov: Provenance) -> None:
        """One period: the cash (net or gross) and, when contributions are owed, their charge.
        Checked as a whole before either is recorded."""
        on = due.period.start
        owed = self.net_payments is not None and due.contribution_pence > 0
        drawn = due.cash_pence + (due.contribution_pence if owed and due.net else 0)
        self.check_active()
        self.check_in_life("cash payment", due.period, effective_on=on)
        self.check_funds(drawn, on)
        if due.cash_pence:
            self.issue_cash_payment(due.cash_pence, due.period, on, prov)
        if owed:
            self._contribution_charged(
                amount_pence=due.contribution_pence,
                period=due.period,
                net=due.net,
                effective_on=on,
                prov=prov,
            )
