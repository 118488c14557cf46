"""Use cases for council finance officers and representatives on personal budgets."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.app_core import LedgerCore, Outcome
from ledger.budget import PersonalBudget
from ledger.errors import (
    RepresentativeNotAppointedError,
)
from ledger.pooled_fund import move_pool_shares
from ledger.provenance import Provenance, Role
from ledger.values import NO_ALLOCATION, Allocation, Deployment, Period, PlanLine

BudgetChange = Callable[[PersonalBudget], list[Aggregate] | None]


class BudgetCommands(LedgerCore):
    def budget_command(
        self,
        command: str,
        budget_id: UUID | str,
        args: dict[str, Any],
        prov: Provenance,
        change: BudgetChange,
        expected_version: int | None = None,
    ) -> Outcome:
        """Load the budget, apply ``change`` (it may return other aggregates it changed), save."""

        def action() -> tuple[list[Aggregate], Outcome]:
            budget = self.budget(budget_id, expected_version)
            others = change(budget) or []
            return [budget, *others], {"budget_id": str(budget.id), "version": budget.version}

        return self.run_command(command, {"budget": str(budget_id), **args}, prov, action)

    def open_budget(
        self,
        council: str,
        person_ref: str,
        support_reason: str,
        effective_on: date,
        prov: Provenance,
        carer_budget: bool = False,
    ) -> Outcome:
        def action() -> tuple[list[PersonalBudget], Outcome]:
            self.council(council)
            budget = PersonalBudget.open(
                council, person_ref, support_reason, effective_on, prov, carer_budget, self.personal
            )
            return [budget], {"budget_id": str(budget.id), "version": budget.version}

        args = {
            "council": council,
            "person": self.personal.pseudonym("person", person_ref),
            "psr": support_reason,
            "carer": carer_budget,
            "on": effective_on,
        }
        return self.run_command("open_budget", args, prov, action)

    def set_indicative_budget(
        self,
        budget_id: UUID | str,
        ras_score: int,
        weekly_pence: int,
        ras_version: str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        args = {"score": ras_score, "weekly": weekly_pence, "ras": ras_version, "on": effective_on}
        return self.budget_command(
            "set_indicative_budget",
            budget_id,
            args,
            prov,
            lambda b: b.set_indicative_budget(
                ras_score, weekly_pence, ras_version, effective_on, prov
            ),
            expected_version,
        )

    def agree_support_plan(
        self,
        budget_id: UUID | str,
        lines: tuple[PlanLine, ...],
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        args = {"lines": list(lines), "on": effective_on}
        return self.budget_command(
            "agree_support_plan",
            budget_id,
            args,
            prov,
            lambda b: b.agree_support_plan(tuple(lines), effective_on, prov),
            expected_version,
        )

    def approve_budget(
        self,
        budget_id: UUID | str,
        allocation: Allocation,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        def change(budget: PersonalBudget) -> list[Aggregate]:
            policy = self.council(budget.council).max_contingency_bp
            budget.approve(allocation, effective_on, prov, policy)
            return self._move_pool_money(budget, NO_ALLOCATION, allocation, effective_on, prov)

        args = {"allocation": allocation, "on": effective_on}
        return self.budget_command(
            "approve_budget", budget_id, args, prov, change, expected_version
        )

    def revise_budget(
        self,
        budget_id: UUID | str,
        allocation: Allocation,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        def change(budget: PersonalBudget) -> list[Aggregate]:
            policy = self.council(budget.council).max_contingency_bp
            before, after = budget.revise(allocation, effective_on, prov, policy)
            return self._move_pool_money(budget, before, after, effective_on, prov)

        args = {"allocation": allocation, "on": effective_on}
        return self.budget_command("revise_budget", budget_id, args, prov, change, expected_version)

    def _move_pool_money(
        self,
        budget: PersonalBudget,
        before: Allocation,
        after: Allocation,
        effective_on: date,
        prov: Provenance,
    ) -> list[Aggregate]:
        """Rule 11: the pools' share moves in the same atomic save as the budget."""
        return list(
            move_pool_shares(
                str(budget.id),
                before,
                after,
                effective_on,
                prov,
                lambda fund_ref: self.pooled_fund(budget.council, fund_ref),
            )
        )

    def choose_deployment(
        self,
        budget_id: UUID | str,
        deployment: Deployment,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        args = {"deployment": deployment, "on": effective_on}
        return self.budget_command(
            "choose_deployment",
            budget_id,
            args,
            prov,
            lambda b: b.choose_deployment(deployment, effective_on, prov),
            expected_version,
        )

    def suspend_budget(
        self,
        budget_id: UUID | str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        return self.budget_command(
            "suspend_budget",
            budget_id,
            {"on": effective_on},
            prov,
            lambda b: b.suspend(effective_on, prov),
            expected_version,
        )

    def resume_budget(
        self,
        budget_id: UUID | str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        return self.budget_command(
            "resume_budget",
            budget_id,
            {"on": effective_on},
            prov,
            lambda b: b.resume(effective_on, prov),
            expected_version,
        )

    def end_budget(
        self,
        budget_id: UUID | str,
        end_reason: str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        return self.budget_command(
            "end_budget",
            budget_id,
            {"reason": end_reason, "on": effective_on},
            prov,
            lambda b: b.end(end_reason, effective_on, prov),
            expected_version,
        )

    def review_budget(
        self,
        budget_id: UUID | str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        return self.budget_command(
            "review_budget",
            budget_id,
            {"on": effective_on},
            prov,
            lambda b: b.review(effective_on, prov),
            expected_version,
        )

    def appoint_representative(
        self,
        budget_id: UUID | str,
        representative_id: str,
        kind: str,
        basis: str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        rep = self.personal.pseudonym("representative", representative_id)
        args = {"rep": rep, "kind": kind, "basis": basis, "on": effective_on}
        return self.budget_command(
            "appoint_representative",
            budget_id,
            args,
            prov,
            lambda b: b.appoint_representative(
                representative_id, kind, basis, effective_on, prov, self.personal
            ),
            expected_version,
        )

    def revoke_representative(
        self,
        budget_id: UUID | str,
        representative_id: str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        rep = self.personal.pseudonym("representative", representative_id)
        args = {"rep": rep, "on": effective_on}
        return self.budget_command(
            "revoke_representative",
            budget_id,
            args,
            prov,
            lambda b: b.revoke_representative(representative_id, effective_on, prov, self.personal),
            expected_version,
        )

    def record_decision(
        self,
        budget_id: UUID | str,
        representative_id: str,
        decision: str,
        subject_ref: str | None,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        """A representative's decision, recorded as made on behalf of the budget's person."""

        def change(budget: PersonalBudget) -> None:
            if prov.actor_role == Role.REPRESENTATIVE and prov.actor_id != representative_id:
                raise RepresentativeNotAppointedError(
                    "a representative records only their own decisions",
                    budget_id=str(budget.id),
                    representative_id=representative_id,
                )
            stored = self.stored_provenance(prov)
            acting = dataclasses.replace(stored, on_behalf_of=budget.person)
            budget.record_decision(
                representative_id, decision, subject_ref, effective_on, acting, self.personal
            )

        args = {
            "rep": self.personal.pseudonym("representative", representative_id),
            "decision": decision,
            "subject": subject_ref,
            "on": effective_on,
        }
        return self.budget_command(
            "record_decision", budget_id, args, prov, change, expected_version
        )

    def issue_cash_payment(
        self,
        budget_id: UUID | str,
        amount_pence: int,
        period: Period,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        args = {"pence": amount_pence, "period": period, "on": effective_on}
        return self.budget_command(
            "issue_cash_payment",
            budget_id,
            args,
            prov,
            lambda b: b.issue_cash_payment(amount_pence, period, effective_on, prov),
            expected_version,
        )

    def report_direct_payment_spend(
        self,
        budget_id: UUID | str,
        amount_pence: int,
        period: Period,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        args = {"pence": amount_pence, "period": period, "on": effective_on}
        return self.budget_command(
            "report_direct_payment_spend",
            budget_id,
            args,
            prov,
            lambda b: b.report_direct_payment_spend(amount_pence, period, effective_on, prov),
            expected_version,
        )

    def assess_contribution(
        self,
        budget_id: UUID | str,
        weekly_pence: int,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        return self.budget_command(
            "assess_contribution",
            budget_id,
            {"weekly": weekly_pence, "on": effective_on},
            prov,
            lambda b: b.assess_contribution(weekly_pence, effective_on, prov),
            expected_version,
        )

    def receive_contribution(
        self,
        budget_id: UUID | str,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        return self.budget_command(
            "receive_contribution",
            budget_id,
            {"pence": amount_pence, "on": effective_on},
            prov,
            lambda b: b.receive_contribution(amount_pence, effective_on, prov),
            expected_version,
        )

    def identify_surplus(
        self,
        budget_id: UUID | str,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        def change(budget: PersonalBudget) -> None:
            budget.identify_surplus(self.council(budget.council).surplus_weeks, effective_on, prov)

        return self.budget_command(
            "identify_surplus", budget_id, {"on": effective_on}, prov, change, expected_version
        )

    def recover_surplus(
        self,
        budget_id: UUID | str,
        amount_pence: int | None,
        effective_on: date,
        prov: Provenance,
        expected_version: int | None = None,
    ) -> Outcome:
        """Recover ``amount_pence`` of the identified surplus (None: all of it). When nothing
        identified is outstanding, the surplus is identified first, in the same atomic save."""

        def change(budget: PersonalBudget) -> None:
            if budget.surplus_outstanding_pence == 0:
                weeks = self.council(budget.council).surplus_weeks
                budget.identify_surplus(weeks, effective_on, prov)
            amount = budget.surplus_outstanding_pence if amount_pence is None else amount_pence
            budget.recover_surplus(amount, effective_on, prov)

        args = {"pence": amount_pence, "on": effective_on}
        return self.budget_command(
            "recover_surplus", budget_id, args, prov, change, expected_version
        )
