"""Use cases for a council's year: budget years (rule 14), net or gross direct payments and the
payment run that pays every direct payment due."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.app_budgets import BudgetCommands
from ledger.app_core import Outcome
from ledger.budget import PersonalBudget
from ledger.budget_runs import RunResult
from ledger.provenance import Provenance
from ledger.values import NO_ALLOCATION, Allocation

PAGE = 1000
_INDEX_LOCK = threading.Lock()


@dataclass
class OpenedIndex:
    """The budgets each council opened, in log order, as read up to log position ``through``."""

    through: int = 0
    by_council: dict[str, list[UUID]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def result_outcome(r: RunResult) -> dict[str, Any]:
    return {
        "budget_id": r.budget_id,
        "run_cash_paid_pence": r.paid_pence,
        "contributions_charged_pence": r.contributions_charged_pence,
        "periods_paid": len(r.periods),
        "paid_through": r.periods[-1].end.isoformat() if r.periods else None,
        "skipped_reason": r.skipped,
        "skipped_detail": r.detail,
    }


class RunCommands(BudgetCommands):
    def allocate_year(
        self,
        budget_id: UUID | str,
        year_starts_on: date,
        basis: str,
        effective_on: date,
        prov: Provenance,
        allocation: Allocation | None = None,
        expected_version: int | None = None,
    ) -> Outcome:
        """Rule 14: the next financial year's allocation; the pools' share moves with it."""

        def change(budget: PersonalBudget) -> list[Aggregate]:
            policy = self.council(budget.council).max_contingency_bp
            year = budget.allocate_year(
                year_starts_on, basis, effective_on, prov, allocation, policy
            )
            return self._move_pool_money(budget, NO_ALLOCATION, year, effective_on, prov)

        args = {"year": year_starts_on, "basis": basis, "allocation": allocation}
        return self.budget_command(
            "allocate_year", budget_id, {**args, "on": effective_on}, prov, change,
            expected_version,
        )  # fmt: skip

    def choose_payment_basis(
        self,
        budget_id: UUID | str,
        net: bool,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        return self.budget_command(
            "choose_payment_basis",
            budget_id,
            {"net": net, "on": effective_on},
            prov,
            lambda b: b.choose_payment_basis(net, effective_on, prov),
            expected_version,
        )

    _opened: OpenedIndex | None = None

    def council_budget_ids(self, council: str) -> list[UUID]:
        """Every budget the council opened, in log order: read from the application's index of
        openings by council, brought up to date with the openings logged since it was last read
        (the log stays the source of truth; a new process reads it all once)."""
        self.council(council)
        with _INDEX_LOCK:
            if self._opened is None:
                self._opened = OpenedIndex()
            index = self._opened
        with index.lock:
            start = index.through + 1
            while page := self.recorder.select_notifications(
                start, PAGE, topics=("careledger.budget:Opened",)
            ):
                for n in page:
                    opened = self.mapper.to_domain_event(n)
                    if isinstance(opened, PersonalBudget.Opened):
                        index.by_council.setdefault(opened.council, []).append(opened.originator_id)
                index.through = page[-1].id
                start = index.through + 1
            return list(index.by_council.get(council, ()))

    def run_payments(self, council: str, run_date: date, prov: Provenance) -> Outcome:
        """Pay every direct payment of ``council`` due on or before ``run_date``: one command
        per council and run date (a repeat returns the first run's results and pays nothing),
        saved at once; a result per direct-payment budget, paid or skipped and why."""
        prov = dataclasses.replace(
            prov,
            command_id=f"payment-run-{run_date.isoformat()}",
            idempotency_scope=f"council:{council}",
        )

        def action() -> tuple[list[Aggregate], Outcome]:
            changed: list[Aggregate] = []
            results = []
            for budget_id in self.council_budget_ids(council):
                budget = self.budget(budget_id)
                if budget.dp_started_on is None:
                    continue  # never paid as a direct payment
                result = budget.pay_due(run_date, prov)
                results.append(result_outcome(result))
                if result.periods:
                    changed.append(budget)
            paid = sum(r["run_cash_paid_pence"] for r in results)
            outcome = {
                "council": council,
                "run_date": run_date.isoformat(),
                "run_cash_paid_pence": paid,
                "budgets_paid": sum(1 for r in results if r["periods_paid"]),
                "budgets_skipped": sum(1 for r in results if not r["periods_paid"]),
                "results": results,
            }
            return changed, outcome

        args = {"council": council, "run_date": run_date}
        return self.run_command("payment_run", args, prov, action)
