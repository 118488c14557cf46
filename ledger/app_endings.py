"""Use cases for endings that settle (rule 12) and for corrections of any entry (rule 10)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.app_budgets import BudgetCommands
from ledger.app_core import Outcome, _check_version
from ledger.budget import PersonalBudget
from ledger.errors import EntryNotCorrectableError, EntryNotFoundError, PooledFundNotFoundError
from ledger.ids import parse_entry_id
from ledger.invoice import Invoice
from ledger.pooled_fund import PooledFund, share_moved_to_council_fund
from ledger.provenance import Provenance


class EndingCommands(BudgetCommands):
    def recover_balance(
        self,
        budget_id: UUID | str,
        amount_pence: int | None,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        """After an ending, recover ``amount_pence`` (None: all) of the direct-payment balance
        left; over-paid client contribution is refunded first."""

        def action() -> tuple[list[Aggregate], Outcome]:
            budget = self.budget(budget_id, expected_version)
            refunded, recovered = budget.recover_balance(amount_pence, effective_on, prov)
            outcome = {"budget_id": str(budget.id), "version": budget.version}
            return [budget], {**outcome, "refunded_pence": refunded, "recovered_pence": recovered}

        args = {"budget": str(budget_id), "pence": amount_pence, "on": effective_on}
        return self.run_command("recover_balance", args, prov, action)

    def reinstate_budget(
        self,
        budget_id: UUID | str,
        ending_entry_id: str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        """Reverse an ending recorded in error, by the ending's entry id, with a reason."""
        originator_id, version = parse_entry_id(ending_entry_id)

        def change(budget: PersonalBudget) -> None:
            if originator_id != budget.id:
                raise EntryNotFoundError(
                    "the ending is not on this budget", entry_id=ending_entry_id
                )
            budget.reinstate(version, effective_on, prov)

        args = {"ending": ending_entry_id, "on": effective_on}
        return self.budget_command(
            "reinstate_budget", budget_id, args, prov, change, expected_version
        )

    def correct_entry(
        self,
        entry_id: str,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        """Rule 10: reverse (part of) an earlier money entry by its id, whatever record holds
        it (a budget, an invoice, a pooled fund); the original stays."""
        originator_id, version = parse_entry_id(entry_id)
        try:
            original = self.get_aggregate(originator_id)
        except AggregateNotFoundError:
            raise EntryNotFoundError("no entry with that id", entry_id=entry_id) from None
        args = {"entry": entry_id, "pence": amount_pence, "on": effective_on}
        if isinstance(original, PersonalBudget):
            return self.budget_command(
                "correct_entry",
                originator_id,
                args,
                prov,
                lambda b: b.correct(version, amount_pence, effective_on, prov),
                expected_version,
            )
        if isinstance(original, Invoice):
            return self._correct_invoice(originator_id, version, args, prov, expected_version)
        if isinstance(original, PooledFund):
            return self._correct_pool(originator_id, version, args, prov, expected_version)
        raise EntryNotCorrectableError(
            "corrections reverse money entries of budgets, invoices and pooled funds",
            entry_id=entry_id,
        )

    def _correct_invoice(
        self,
        invoice_id: UUID,
        version: int,
        args: dict[str, Any],
        prov: Provenance,
        expected_version: int | None,
    ) -> Outcome:
        pence, on = args["pence"], args["on"]

        def action() -> tuple[list[Aggregate], Outcome]:
            invoice = self.invoice(invoice_id, expected_version)
            budget = self.budget(invoice.budget_id)
            entry_type = invoice.check_reversal(version, pence, prov)
            after = invoice.status_after_reversal(entry_type, pence)
            reopened = invoice.amount_pence if after.value in ("posted", "flagged") else 0
            budget.reverse_invoice_entry(str(invoice.id), entry_type, pence, reopened, on, prov)
            invoice.reverse_entry(version, pence, on, prov)
            return [invoice, budget], {"invoice_id": str(invoice.id), "version": invoice.version}

        return self.run_command("correct_entry", args, prov, action)

    def _correct_pool(
        self,
        fund_id: UUID,
        version: int,
        args: dict[str, Any],
        prov: Provenance,
        expected_version: int | None,
    ) -> Outcome:
        def action() -> tuple[list[Aggregate], Outcome]:
            pool = self._load(fund_id, PooledFund, PooledFundNotFoundError)
            _check_version(pool, expected_version)
            pence, on = args["pence"], args["on"]
            changed: list[Aggregate] = [pool]
            if pool.check_reversal(version, pence, prov) == "DrawnDown":
                # the budget's pooled share was drawn in error: the council fund pays it instead
                budget = self.budget(pool.entry_budgets[version])
                moved = share_moved_to_council_fund(budget.allocation, pool.fund_ref, pence)
                policy = self.council(budget.council).max_contingency_bp
                budget.revise(moved, on, prov, policy)
                changed.append(budget)
            pool.reverse_entry(version, pence, on, prov)
            return changed, {"pooled_fund_id": str(pool.id), "version": pool.version}

        return self.run_command("correct_entry", args, prov, action)
