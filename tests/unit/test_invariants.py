"""Hypothesis: random command sequences never overdraw, keep the trial balance at zero, write
nothing when refused, and a fresh replay of the stored events rebuilds identical state.

The commands: budgets opened, revised (with a pooled share), suspended, resumed, ended and
reinstated; cash paid, spend reported, contributions assessed and received, surplus identified and
recovered, the balance left recovered after an ending; budget years rolled over or re-assessed,
payment bases (net or gross) chosen, payment runs (cash with contributions charged) and
contributions paid against what is owed; invoices posted, approved in full or
short-paid, paid and credited; pooled-fund contributions; and corrections of any entry of a
budget, an invoice or a pooled fund.

An independent reference model (plain integers, written apart from the aggregate) predicts the
balances from the accepted commands only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.errors import LedgerError
from ledger.ids import entry_id, pooled_fund_id
from ledger.invoice import Invoice
from ledger.postings import Account, postings_for
from ledger.values import BudgetStatus
from tests.support import COUNCIL, FOUR_WEEKS, POOL, PROVIDER, World, allocation

# What a correction of each budget entry changes in the reference model (None: nothing it holds).
CORRECTED = {
    "CashPaymentIssued": "cash",
    "ContributionPaid": None,  # paid to the council (gross), against what is owed
    "ContributionPaidIntoAccount": None,
    "ContributionCharged": None,
    "ContributionChargedNet": None,  # drawn back (DRAWN_BACK)
    "ContributionReceived": "contributions",
    "DirectPaymentSpendReported": "spend",
    "ContributionAssessed": None,
    "SurplusIdentified": None,
    "SurplusRecovered": None,
    "BalanceRecovered": None,
}
CONTRIBUTION_ENTRIES = (
    "ContributionCharged", "ContributionChargedNet", "ContributionPaid",
    "ContributionPaidIntoAccount",
)  # fmt: skip
# Budget entries whose correction gives the budget back what they drew.
DRAWN_BACK = ("CashPaymentIssued", "ContributionChargedNet")
# What a reversal of each invoice entry does to the budget's drawn total.
INVOICE_DRAWN = {"Approved": -1, "Paid": 0, "CreditNoteIssued": 1}

amounts = st.integers(min_value=1, max_value=3_000_00)


@dataclass
class Expected:
    allocated: int = 10_000_00
    contingency: int = 500_00
    drawn: int = 0
    cash: int = 0
    spend: int = 0
    contributions: int = 0


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.net: dict[str, bool] = {}  # budgets paid net (True) or gross (False)

    @initialize()
    def start(self) -> None:
        self.app = CareLedger("memory://")
        self.world = World(self.app).setup()
        self.budgets: list[str] = []
        self.expected: dict[str, Expected] = {}
        self.invoices: list[tuple[str, str]] = []  # (invoice id, budget id)
        self.cash_entries: list[tuple[str, int]] = []  # (entry id, pence)
        self.day = self.day_zero()

    @staticmethod
    def day_zero() -> date:
        return date(2010, 4, 6)

    def teardown(self) -> None:
        self.app.close()

    def _attempt(self, command: object, *args: object) -> bool:
        """Run a command; a refusal must write nothing."""
        before = self.world.event_count()
        try:
            command(*args)  # type: ignore[operator]
        except LedgerError:
            assert self.world.event_count() == before
            return False
        self.day += timedelta(days=1)
        return True

    @rule()
    def open_budget(self) -> None:
        budget_id = self.world.active_budget(allocation(total=10_000_00, contingency=500_00))
        self.budgets.append(budget_id)
        self.expected[budget_id] = Expected()

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), pence=amounts)
    def pay_cash(self, data: st.DataObject, pence: int) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        version = self.app.budget(budget_id).version + 1
        if self._attempt(
            self.app.issue_cash_payment, budget_id, pence, FOUR_WEEKS, self.day, self.world.prov()
        ):
            self.expected[budget_id].drawn += pence
            self.expected[budget_id].cash += pence
            self.cash_entries.append((entry_id(self.app.budget(budget_id).id, version), pence))

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), pence=amounts, share=st.integers(min_value=0, max_value=100))
    def report_spend(self, data: st.DataObject, pence: int, share: int) -> None:
        """Spend of ``pence``, or (with a ``share``) that share of the cash held."""
        budget_id = data.draw(st.sampled_from(self.budgets))
        held = self.app.budget(budget_id).held_pence
        if share and held:
            pence = max(1, held * share // 100)
        if self._attempt(
            self.app.report_direct_payment_spend,
            budget_id,
            pence,
            FOUR_WEEKS,
            self.day,
            self.world.prov(),
        ):
            self.expected[budget_id].spend += pence

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), pence=amounts)
    def receive_contribution(self, data: st.DataObject, pence: int) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        if (
            self._attempt(
                self.app.receive_contribution, budget_id, pence, self.day, self.world.prov()
            )
            and budget_id not in self.net
        ):  # with a payment basis: paid against what is owed
            self.expected[budget_id].contributions += pence

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), hours=st.integers(min_value=1, max_value=300))
    def invoice_approve_pay(self, data: st.DataObject, hours: int) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        draft = self.world.draft(budget_id, f"INV-{len(self.invoices)}", hours * 100)
        try:
            posted = self.app.post_invoice(PROVIDER, draft, self.world.as_provider())
        except LedgerError:
            return  # e.g. the budget is suspended; refusals are checked in the other rules
        invoice_id = posted["invoice_id"]
        override = self.world.prov(reason="checked-against-visits")
        if self._attempt(self.app.approve_invoice, invoice_id, self.day, override):
            self.expected[budget_id].drawn += posted["amount_pence"]
            self.invoices.append((invoice_id, budget_id))
            assert self._attempt(
                self.app.pay_invoice, invoice_id, "BACS-1", self.day, self.world.prov()
            )

    @precondition(lambda self: self.invoices)
    @rule(data=st.data(), pence=amounts)
    def credit(self, data: st.DataObject, pence: int) -> None:
        invoice_id, budget_id = data.draw(st.sampled_from(self.invoices))
        number = f"CN-{self.world.event_count()}"
        if self._attempt(
            self.app.issue_credit_note,
            invoice_id,
            number,
            pence,
            self.day,
            self.world.as_provider(),
        ):
            self.expected[budget_id].drawn -= pence

    @precondition(lambda self: self.cash_entries)
    @rule(data=st.data(), pence=amounts)
    def correct_cash(self, data: st.DataObject, pence: int) -> None:
        entry, _ = data.draw(st.sampled_from(self.cash_entries))
        budget_id = entry.split("/")[0]
        prov = self.world.prov(reason="paid-in-error")
        if self._attempt(self.app.correct_entry, entry, pence, self.day, prov):
            self.expected[budget_id].drawn -= pence
            self.expected[budget_id].cash -= pence

    @precondition(lambda self: self.budgets)
    @rule(data=st.data())
    def suspend_or_resume(self, data: st.DataObject) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        if self.app.budget(budget_id).status is BudgetStatus.ENDED:
            return
        if not self._attempt(self.app.suspend_budget, budget_id, self.day, self.world.prov()):
            assert self._attempt(self.app.resume_budget, budget_id, self.day, self.world.prov())

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), total=st.sampled_from([8_000_00, 10_000_00, 14_000_00]),
          pooled=st.sampled_from([0, 1_000_00, 3_000_00]))  # fmt: skip
    def revise(self, data: st.DataObject, total: int, pooled: int) -> None:
        """A revision, its pooled share drawn from (or released to) the pool (rule 11)."""
        budget_id = data.draw(st.sampled_from(self.budgets))
        alloc = allocation(total=total, pooled=pooled)
        self._attempt(self.app.revise_budget, budget_id, alloc, self.day, self.world.prov())

    @rule(pence=st.integers(min_value=1, max_value=5_000_00))
    def pool_contribution(self, pence: int) -> None:
        if not self.app.exists(pooled_fund_id(COUNCIL, POOL)):
            self.app.establish_pooled_fund(
                COUNCIL, POOL, ("NHS-RV3",), self.day_zero(), self.world.admin()
            )
        self._attempt(
            self.app.receive_pool_contribution,
            COUNCIL,
            POOL,
            "NHS-RV3",
            pence,
            self.day,
            self.world.admin(),
        )

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), weekly=st.integers(min_value=0, max_value=50_00))
    def assess_contribution(self, data: st.DataObject, weekly: int) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        self._attempt(self.app.assess_contribution, budget_id, weekly, self.day, self.world.prov())

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), share=st.integers(min_value=0, max_value=100))
    def identify_and_recover_surplus(self, data: st.DataObject, share: int) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        self._attempt(self.app.identify_surplus, budget_id, self.day, self.world.prov())
        outstanding = self.app.budget(budget_id).surplus_outstanding_pence
        if outstanding and share:
            amount = max(1, outstanding * share // 100)
            prov = self.world.prov()
            self._attempt(self.app.recover_surplus, budget_id, amount, self.day, prov)

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), hours=st.integers(min_value=1, max_value=300),
          share=st.integers(min_value=1, max_value=99),
          rest=st.sampled_from(["disputed", "rejected"]))  # fmt: skip
    def short_pay(self, data: st.DataObject, hours: int, share: int, rest: str) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        draft = self.world.draft(budget_id, f"INV-S{self.world.event_count()}", hours * 100)
        try:
            posted = self.app.post_invoice(PROVIDER, draft, self.world.as_provider())
        except LedgerError:
            return
        part = max(1, posted["amount_pence"] * share // 100)
        prov = self.world.prov(reason="missed-visits")
        approve = self.app.approve_invoice
        if self._attempt(
            lambda: approve(posted["invoice_id"], self.day, prov, approved_pence=part, rest=rest)
        ):
            self.expected[budget_id].drawn += part
            self.invoices.append((posted["invoice_id"], budget_id))

    def _ended(self, ended: bool) -> list[str]:
        return (
            [b for b in self.budgets if self.app.budget(b).ended_on is not None]
            if ended
            else [b for b in self.budgets if self.app.budget(b).ended_on is None]
        )

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), reason=st.sampled_from(["death", "moved-away"]), ended=st.booleans())
    def end_budget(self, data: st.DataObject, reason: str, ended: bool) -> None:
        """End a running budget (or, now and then, try one already ended)."""
        budget_id = data.draw(st.sampled_from(self._ended(ended) or self.budgets))
        self._attempt(self.app.end_budget, budget_id, reason, self.day, self.world.prov())

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), whole=st.booleans(), pence=amounts)
    def recover_balance(self, data: st.DataObject, whole: bool, pence: int) -> None:
        budget_id = data.draw(st.sampled_from(self._ended(True) or self.budgets))
        amount = None if whole else pence
        self._attempt(self.app.recover_balance, budget_id, amount, self.day, self.world.prov())

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), other=st.booleans())
    def reinstate(self, data: st.DataObject, other: bool) -> None:
        """Reinstate an ended budget by its ending (or, with ``other``, name another entry)."""
        budget = self.app.budget(data.draw(st.sampled_from(self._ended(True) or self.budgets)))
        version = budget.version if other or not budget.ending_version else budget.ending_version
        ending = entry_id(budget.id, version)
        prov = self.world.prov(reason="ended-in-error")
        self._attempt(self.app.reinstate_budget, str(budget.id), ending, self.day, prov)

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), pence=amounts)
    def reverse_any_entry(self, data: st.DataObject, pence: int) -> None:
        """A correction of any money entry: of a budget, an invoice or the pooled fund."""
        records: list[object] = [self.app.budget(b) for b in self.budgets]
        records += [self.app.invoice(i) for i, _ in self.invoices]
        if self.app.exists(pooled_fund_id(COUNCIL, POOL)):
            records.append(self.app.pooled_fund(COUNCIL, POOL))
        record = records[data.draw(st.integers(min_value=0, max_value=len(records) - 1))]
        entries: dict[int, tuple[str, int]] = getattr(record, "entries", {})
        if not entries:
            return
        version = data.draw(st.sampled_from(sorted(entries)))
        entry_type = entries[version][0]
        entry = entry_id(record.id, version)  # type: ignore[attr-defined]
        prov = self.world.prov(reason="keying-error")
        if not self._attempt(self.app.correct_entry, entry, pence, self.day, prov):
            return
        if isinstance(record, PersonalBudget):
            self._budget_entry_reversed(str(record.id), entry_type, pence)
        elif isinstance(record, Invoice):
            self.expected[record.budget_id].drawn += INVOICE_DRAWN[entry_type] * pence

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), net=st.booleans())
    def choose_payment_basis(self, data: st.DataObject, net: bool) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        if self._attempt(
            self.app.choose_payment_basis, budget_id, net, self.day, self.world.prov()
        ):
            self.net[budget_id] = net

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), reassess=st.booleans(), total=st.integers(8_000_00, 12_000_00))
    def allocate_next_year(self, data: st.DataObject, reassess: bool, total: int) -> None:
        budget_id = data.draw(st.sampled_from(self.budgets))
        year = self.app.budget(budget_id).next_year_start()
        figures = allocation(total=total, contingency=total // 20) if reassess else None
        basis = "re-assessed" if reassess else "rolled-over"
        self._attempt(
            self.app.allocate_year, budget_id, year, basis, self.day, self.world.prov(), figures
        )

    @precondition(lambda self: self.budgets)
    @rule(weeks=st.integers(min_value=0, max_value=120))
    def run_payments(self, weeks: int) -> None:
        run_date = self.day + timedelta(weeks=weeks)
        before = self.world.event_count()
        outcome = self.app.run_payments(COUNCIL, run_date, self.world.prov())
        if outcome.get("replayed"):
            assert self.world.event_count() == before  # a repeated run pays nothing twice
            return
        for line in outcome["results"]:
            want = self.expected[line["budget_id"]]
            want.cash += line["run_cash_paid_pence"]
            want.drawn += line["run_cash_paid_pence"]
            if self.net.get(line["budget_id"], False):  # the client's share, paid into the account
                want.drawn += line["contributions_charged_pence"]
        self.day += timedelta(days=1)

    def _budget_entry_reversed(self, budget_id: str, entry_type: str, pence: int) -> None:
        want = self.expected[budget_id]
        figure = CORRECTED[entry_type]
        if figure is not None:
            setattr(want, figure, getattr(want, figure) - pence)
        if entry_type in DRAWN_BACK:
            want.drawn -= pence

    @precondition(lambda self: self.budgets)
    @rule(data=st.data(), net=st.booleans(), weeks=st.integers(min_value=0, max_value=12),
          share=st.integers(min_value=1, max_value=100))  # fmt: skip
    def net_or_gross_payer_corrected(
        self, data: st.DataObject, net: bool, weeks: int, share: int
    ) -> None:
        """A budget paid net or gross, a run, the contribution paid, and a correction of (part
        of) one of its contribution entries: charged (net or gross) or paid (into the account or
        to the council)."""
        budget_id = data.draw(st.sampled_from(self.budgets))
        if self._attempt(
            self.app.choose_payment_basis, budget_id, net, self.day, self.world.prov()
        ):
            self.net[budget_id] = net
        self.run_payments(weeks)
        budget = self.app.budget(budget_id)
        paying = max(1, budget.contributions_owed_pence * share // 100)
        if (
            self._attempt(
                self.app.receive_contribution, budget_id, paying, self.day, self.world.prov()
            )
            and budget.net_payments is None  # with a basis: paid against what is owed
        ):
            self.expected[budget_id].contributions += paying
        budget = self.app.budget(budget_id)
        kinds = [v for v, (t, _) in budget.entries.items() if t in CONTRIBUTION_ENTRIES]
        if not kinds:
            return
        version = data.draw(st.sampled_from(kinds))
        entry_type, original = budget.entries[version]
        pence = max(1, (original - budget.corrected.get(version, 0)) * share // 100)
        prov = self.world.prov(reason="keying-error")
        if self._attempt(
            self.app.correct_entry, entry_id(budget.id, version), pence, self.day, prov
        ):
            self._budget_entry_reversed(budget_id, entry_type, pence)

    @invariant()
    def never_overdrawn_and_matches_the_model(self) -> None:
        for budget_id in getattr(self, "budgets", []):
            budget = self.app.budget(budget_id)
            want = self.expected[budget_id]
            for year in budget.budget_years():  # rule 14: each year within its own funds
                assert year.available_pence + year.contingency_pence >= 0, year
            assert budget.held_pence >= 0
            assert budget.drawn_pence == want.drawn
            assert budget.cash_paid_pence == want.cash
            assert budget.dp_spend_pence == want.spend
            assert budget.contributions_received_pence == want.contributions

    @invariant()
    def trial_balance_is_zero_and_agrees_with_the_budgets(self) -> None:
        if not hasattr(self, "world"):
            return
        for event in self.world.events():
            assert sum(p.amount_pence for p in postings_for(event)) == 0, event
        balance = self.world.trial_balance()
        assert sum(balance.values()) == 0
        budgets = [self.app.budget(b) for b in self.budgets]
        assert balance.get(Account.AVAILABLE, 0) == sum(b.available_pence for b in budgets)
        assert balance.get(Account.DP_ACCOUNTS, 0) == sum(b.held_pence for b in budgets)
        posted = {e.originator_id for e in self.world.events() if isinstance(e, Invoice.Posted)}
        owed = sum(i.approved_pence - i.paid_pence for i in map(self.app.invoice, posted))
        assert -balance.get(Account.PAYABLE, 0) == owed  # approved, not paid: nothing stuck

    @invariant()
    def replaying_the_log_rebuilds_identical_state(self) -> None:
        if not hasattr(self, "world"):
            return
        replayed: dict[object, PersonalBudget] = {}
        for event in self.world.events():
            if isinstance(event, PersonalBudget.Event):
                replayed[event.originator_id] = event.mutate(replayed.get(event.originator_id))
        for budget_id in self.budgets:
            loaded = self.app.budget(budget_id)
            assert vars(replayed[loaded.id]) == vars(loaded)


LedgerMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerInvariants = LedgerMachine.TestCase
