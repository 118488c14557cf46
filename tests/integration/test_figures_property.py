"""Hypothesis: one meaning per figure (DESIGN.md §4). After random histories over two councils —
cash payments, spend reports, contributions (received, or charged and paid net or gross),
corrections of each, invoices approved (paid or not), credit notes, surplus identified and
recovered (refunds first), revisions, suspensions and years passing — every balance figure of
every budget equals the matching journal accounts of that budget (the journal view,
``v_postings``), and each council's net spend through personal budgets in each financial year,
council by council and nationally, equals the year's movement on the journal's Budgets:Drawn."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from ledger.errors import LedgerError
from ledger.postings import Account
from ledger.values import Deployment
from projections.balance import balance_of
from projections.db import ViewDb
from projections.service import LedgerService
from projections.views.balances import get_balance
from projections.views.progress_measures import council_progress, financial_year, national_progress
from tests.support import (
    COUNCIL,
    FOUR_WEEKS,
    HOME_CARE,
    OTHER_COUNCIL,
    PROVIDER,
    START,
    World,
    allocation,
)
from tests.unit.test_invariants import Expected, LedgerMachine, amounts

COUNCILS = (COUNCIL, OTHER_COUNCIL)
YEARS = ("2010-11", "2011-12", "2012-13")
DEPLOYMENTS = (Deployment("mixed", None, 5_000_00), Deployment("direct-payment"),
               Deployment("council-managed"))  # fmt: skip
MAX_BUDGETS = 4
large = st.integers(min_value=1_000_00, max_value=3_000_00)  # above 8 weeks of funding
RETURNED = (
    "surplus_recovered_pence - surplus_recovered_reversed_pence + surplus_refunded_pence"
    " - surplus_refunded_reversed_pence + balance_recovered_pence"
    " - balance_recovered_reversed_pence + balance_refunded_pence"
    " - balance_refunded_reversed_pence"
)
APPROVED = "invoices_approved_pence - invoices_approved_reversed_pence"
CREDITED = "credit_notes_pence - credit_notes_reversed_pence"
PAID = "invoices_paid_pence - invoices_paid_reversed_pence"
REFUNDED = (
    "surplus_refunded_pence - surplus_refunded_reversed_pence + balance_refunded_pence"
    " - balance_refunded_reversed_pence"
)
RECOVERED = (
    "surplus_recovered_pence - surplus_recovered_reversed_pence + balance_recovered_pence"
    " - balance_recovered_reversed_pence"
)

JOURNAL_SQL = (
    "SELECT budget_id, account, CAST(SUM(amount_pence) AS BIGINT) AS pence FROM v_postings"
    " WHERE budget_id IS NOT NULL GROUP BY budget_id, account"
)
DRAWN_SQL = "SELECT council, effective_on, amount_pence FROM v_postings WHERE account = ?"


def journal_of(db: ViewDb) -> dict[tuple[str, str], int]:
    """Each budget's balance on each journal account: (budget id, account) → pence."""
    return {(r["budget_id"], r["account"]): int(r["pence"]) for r in db.query(JOURNAL_SQL)}


def expected_from_journal(j: dict[tuple[str, str], int], budget_id: str) -> dict[str, int]:
    """The balance figures that are journal accounts (or sums of them), read off the journal."""

    def account(name: str) -> int:
        return j.get((budget_id, name), 0)

    return {
        "allocated_pence": -(
            account(Account.FUNDING_COUNCIL)
            + account(Account.FUNDING_POOL)
            + account(Account.FUNDING_CLIENT)
        ),
        "available_pence": account(Account.AVAILABLE),
        "net_drawn_pence": account(Account.DRAWN),
        RETURNED: account(Account.RECOVERED),
        "held_pence": account(Account.DP_ACCOUNTS),
        "direct_payment_spend_pence - direct_payment_spend_reversed_pence": account(
            Account.DP_EXPENSE
        ),
        f"{APPROVED} - {_negated(CREDITED)}": account(Account.CARE_EXPENSE),
        f"{APPROVED} - {_negated(PAID)}": -account(Account.PAYABLE),
        f"contributions_received_pence - contributions_reversed_pence - {_negated(REFUNDED)}"
        " + contributions_charged_pence - contributions_charged_reversed_pence": -account(
            Account.CONTRIBUTIONS
        ),
        f"{RECOVERED} + {CREDITED} + contributions_received_pence"
        f" - contributions_reversed_pence - cash_paid_pence + cash_reversed_pence"
        f" - {_negated(PAID)} + contributions_paid_pence - contributions_paid_reversed_pence"
        " - contributions_paid_into_account_pence"
        " + contributions_paid_into_account_reversed_pence": account(Account.BANK),
        "contributions_owed_pence": account(Account.CONTRIBUTIONS_OWED),
    }


def _negated(expression: str) -> str:
    """``expression`` for use after a minus sign: its inner signs flipped (no brackets)."""
    flip = {"+": "-", "-": "+"}
    return " ".join(flip.get(token, token) for token in expression.split())


def evaluate(expression: str, figures: dict[str, Any]) -> int:
    """``a + b - c`` over the balance's figures (names and + / - only)."""
    total, sign = 0, 1
    for token in expression.split():
        if token in "+-":
            sign = 1 if token == "+" else -1
        else:
            total += sign * int(figures[token])
    return total


def drawn_by_year(db: ViewDb) -> Counter[tuple[str, str]]:
    """The movement on Budgets:Drawn per (council, financial year of the effective date)."""
    totals: Counter[tuple[str, str]] = Counter()
    for r in db.query(DRAWN_SQL, (Account.DRAWN,)):
        day = date.fromisoformat(r["effective_on"])
        totals[(r["council"], financial_year(day))] += int(r["amount_pence"])
    return totals


class FiguresMachine(LedgerMachine):
    @initialize()
    def start(self) -> None:
        self.service = LedgerService("memory://")
        self.app = self.service.app
        self.world = World(self.app).setup()
        admin = self.world.admin
        self.app.register_council(OTHER_COUNCIL, "Birmingham", date(2010, 4, 1), admin())
        for code in COUNCILS:
            for year in YEARS:
                self.app.record_gross_spend(code, year, 500_000_00, date(2010, 4, 1), admin())
        self.budgets = []
        self.expected = {}
        self.invoices = []
        self.cash_entries = []
        self.day = self.day_zero()

    def teardown(self) -> None:
        self.service.close()

    def open_budget(self) -> None:
        """Not a rule here (``open_budget_in`` is): a few budgets get many entries each."""
        self.open_budget_in(COUNCIL, DEPLOYMENTS[0])

    @precondition(lambda self: len(self.budgets) < MAX_BUDGETS)
    @rule(council=st.sampled_from(COUNCILS), deployment=st.sampled_from(DEPLOYMENTS))
    def open_budget_in(self, council: str, deployment: Deployment) -> None:
        app, prov = self.app, self.world.prov
        budget_id: str = app.open_budget(council, "person-x", "physical", START, prov())[
            "budget_id"
        ]
        app.set_indicative_budget(budget_id, 150, 180_00, "RAS-2010-v2", START, prov())
        app.agree_support_plan(budget_id, (HOME_CARE,), START, prov())
        app.approve_budget(budget_id, allocation(), START, prov())
        app.choose_deployment(budget_id, deployment, START, prov())
        self.budgets.append(budget_id)
        self.expected[budget_id] = Expected()

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), hours=st.integers(min_value=1, max_value=300))
    def invoice_approved_unpaid(self, data: st.DataObject, hours: int) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        draft = self.world.draft(budget_id, f"INV-A{len(self.invoices)}", hours * 100)
        try:
            posted = self.app.post_invoice(PROVIDER, draft, self.world.as_provider())
        except LedgerError:
            return  # e.g. the budget is suspended: refusals are checked in the other rules
        override = self.world.prov(reason="checked-against-visits")
        if self._attempt(self.app.approve_invoice, posted["invoice_id"], self.day, override):
            self.expected[budget_id].drawn += posted["amount_pence"]

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), weekly=st.integers(min_value=0, max_value=50_00))
    def assess_contribution(self, data: st.DataObject, weekly: int) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        self._attempt(self.app.assess_contribution, budget_id, weekly, self.day, self.world.prov())

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), pence=large, share=st.integers(min_value=0, max_value=100))
    def pay_then_identify_and_recover_surplus(
        self, data: st.DataObject, pence: int, share: int
    ) -> None:
        """A cash payment (often above the surplus threshold), the surplus identified, and
        some or none of it recovered (refunding over-paid contribution first): surplus needs
        all three on one budget."""
        budget_id = data.draw(st.sampled_from(self.budgets))
        version = self.app.budget(budget_id).version + 1
        prov = self.world.prov
        if self._attempt(
            self.app.issue_cash_payment, budget_id, pence, FOUR_WEEKS, self.day, prov()
        ):
            self.expected[budget_id].drawn += pence
            self.expected[budget_id].cash += pence
            self.cash_entries.append((f"{budget_id}/{version}", pence))
        self._attempt(self.app.identify_surplus, budget_id, self.day, prov())
        outstanding = self.app.budget(budget_id).surplus_outstanding_pence
        if outstanding and share:
            amount = max(1, outstanding * share // 100)
            self._attempt(self.app.recover_surplus, budget_id, amount, self.day, prov())

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), total=st.sampled_from([8_000_00, 10_000_00, 14_000_00]))
    def revise(self, data: st.DataObject, total: int) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        alloc = allocation(total=total)
        self._attempt(self.app.revise_budget, budget_id, alloc, self.day, self.world.prov())

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), pence=amounts)
    def correct_any_entry(self, data: st.DataObject, pence: int) -> None:
        budget = self.app.budget(data.draw(st.sampled_from(self.budgets)))
        if not budget.entries:
            return
        version = data.draw(st.sampled_from(sorted(budget.entries)))
        entry_type = budget.entries[version][0]
        prov = self.world.prov(reason="keying-error")
        if self._attempt(self.app.correct_entry, f"{budget.id}/{version}", pence, self.day, prov):
            self._budget_entry_reversed(str(budget.id), entry_type, pence)

    @rule(days=st.integers(min_value=20, max_value=240))
    def time_passes(self, days: int) -> None:
        self.day += timedelta(days=days)

    @invariant()
    def every_balance_figure_equals_its_journal_accounts(self) -> None:
        if not hasattr(self, "service"):
            return
        self.service.runner.catch_up()
        db = self.service.db
        journal = journal_of(db)
        for budget_id in self.budgets:
            row = get_balance(db, budget_id)
            assert row == dataclasses.asdict(balance_of(self.app, budget_id))
            for expression, pence in expected_from_journal(journal, budget_id).items():
                assert evaluate(expression, row) == pence, (budget_id, expression)

    @invariant()
    def net_spend_through_budgets_equals_the_journals_drawn(self) -> None:
        if not hasattr(self, "service"):
            return
        db = self.service.db
        drawn = drawn_by_year(db)
        for year in YEARS:
            on = date(int(year[:4]) + 1, 3, 31)
            for code in COUNCILS:
                spend = council_progress(db, code, on)["spend"]
                assert spend["net_budget_spend_pence"] == drawn[(code, year)], (code, year)
            national = national_progress(db, on)["spend"]["net_budget_spend_pence"]
            assert national == sum(drawn[(code, year)] for code in COUNCILS), year


FiguresMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBalanceAndProgressFiguresEqualTheJournal = FiguresMachine.TestCase
