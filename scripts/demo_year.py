"""One person's year, built on the aggregates in memory: assessment (RAS), support plan, approval,
deployment, then 4-weekly cash, contributions, care firms' invoices, returns, reviews, and the
odd suspension, revision, correction, surplus recovery or ending."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from eventsourcing.domain import Aggregate

from ledger.app_invoices import InvoiceDraft
from ledger.budget import PersonalBudget
from ledger.budget_rules import surplus_threshold
from ledger.council import Council
from ledger.invoice import Invoice
from ledger.personal import IN_THE_CLEAR, PersonalData
from ledger.pooled_fund import PooledFund
from ledger.provider import Provider
from ledger.values import (
    Allocation,
    BudgetStatus,
    DecisionKind,
    Deployment,
    DeploymentKind,
    FundingStream,
    Period,
    PlanLine,
    plan_weekly_cost,
)
from scripts.demo_england import CouncilPlan
from scripts.demo_invoicing import invoice_period
from scripts.demo_ops import (
    Actors,
    allocate_year,
    approve_budget,
    decide,
    revise_budget,
    seal_reasons,
)
from scripts.demo_people import Person

DAY = timedelta(days=1)
CYCLE = timedelta(days=28)
RUNS_FROM = date(2010, 4, 5)  # each council's payment run: every 4 weeks from this Monday
NEXT_YEAR = date(2011, 4, 1)  # people who carry on are rolled over (or re-assessed) into 2011-12
ROLLOVER_ON = date(2011, 3, 14)
SERVICE = {
    "learning-disability": "supported-living",
    "mental-health": "community-support",
    "social": "community-support",
}
LEGAL_BASIS = {
    "attorney": "lpa-registered",
    "deputy": "court-of-protection-order",
    "council-approved": "dp-regs-2009-suitable-person",
    "person-nominated": "nominated-by-person",
    "none": "carers-assessment",
}


def plan_lines(p: Person, hours: int) -> tuple[PlanLine, ...]:
    """The support plan: what the budget buys each week, and from which care firm."""
    if p.carer:
        return (PlanLine("carer-break", 100, p.rate_pence),)
    firm = None if p.kind == DeploymentKind.DIRECT_PAYMENT else p.provider
    if p.kind == DeploymentKind.MIXED:
        cash = max(25, hours // 50 * 25)
        lines = [
            PlanLine("personal-assistant", cash, p.rate_pence - 2_00),
            PlanLine("home-care", max(25, hours - cash), p.rate_pence, firm),
        ]
    else:
        name = "personal-assistant" if firm is None else SERVICE.get(p.reason, "home-care")
        lines = [PlanLine(name, hours, p.rate_pence, firm)]
    if p.day_units:
        lines.append(PlanLine("day-opportunities", p.day_units, p.day_rate_pence, firm))
    return tuple(lines)


def allocation(p: Person, lines: tuple[PlanLine, ...], fund_ref: str) -> Allocation:
    """The plan's annual cost plus a little headroom, rounded up to £10: the client's assessed
    contribution, the council's part (some of it from the mental-health pool), a contingency."""
    annual = plan_weekly_cost(lines) * 52 * (10_000 + p.headroom_bp) // 10_000
    total = -(-annual // 10_00) * 10_00
    client = p.weekly_charge * 52
    pooled = (total - client) * p.pooled_bp // 10_000
    streams = [FundingStream("council-fund", total - client - pooled)]
    if pooled:
        streams.append(FundingStream("pooled-fund", pooled, fund_ref))
    contingency = total * p.contingency_bp // 10_000
    return Allocation(total, client, total - client, tuple(streams), contingency)


@dataclass
class Books:
    """One council's aggregates, held in memory while its people's years are built."""

    plan: CouncilPlan
    council: Council
    pool: PooledFund
    providers: dict[str, Provider]
    actors: Actors
    rng: random.Random
    last_day: date
    resend: list[tuple[str, InvoiceDraft]] = field(default_factory=list)
    # Seals personal fields as the application's commands do (``CareLedger.personal``).
    personal: PersonalData = IN_THE_CLEAR


class Year:
    """One person's budget through the year, built event by event on the aggregate."""

    def __init__(self, books: Books, person: Person) -> None:
        self.books, self.p, self.rng, self.act = books, person, books.rng, books.actors
        self.invoices: list[Invoice] = []
        self.rep_id = f"rep-{books.plan.code}-{person.ref}" if person.rep else None
        self.hours = person.hours
        self.lines = plan_lines(person, person.hours)
        self.unreported = 0  # direct-payment cash not yet accounted for in a return
        self.return_from = person.approve_on
        self.deployment: Deployment  # chosen on approval
        code = books.plan.code
        self.budget = PersonalBudget.open(
            code,
            f"PB-{code}-{person.ref}",
            person.reason,
            self.assessed_on,
            self.act.officer(),
            person.carer,
            books.personal,
        )

    @property
    def assessed_on(self) -> date:
        return self.p.approve_on - timedelta(days=7 + self.p.n % 21)

    def build(self) -> list[Aggregate]:
        self.assess_and_approve()
        if self.p.carer:
            self.one_off()
        else:
            final: list[tuple[int, Period]] = []  # invoiced after the ending (rule 12)
            for k, period in enumerate(self.periods()):
                if k == self.p.suspend:
                    self.suspension(period)
                    continue
                self.cycle(k, period)
                if self.deployment.takes_invoices and self.invoiceable(period):
                    if self.final_invoice(period):
                        final.append((k, period))
                    else:
                        invoice_period(self, k, period)
            self.finish()
            for k, period in final:  # care delivered before the end, billed and paid after it
                invoice_period(self, k, period)
        self.seal()
        return [self.budget, *self.invoices]

    def seal(self) -> None:
        """Every reason given for this person's commands, sealed under their key: in their
        budget's and invoices' events and in the council pool's events the commands caused."""
        mine = [self.budget, *self.invoices]
        provs = (getattr(e, "prov", None) for a in mine for e in a.pending_events)
        commands = {p.command_id for p in provs if p is not None}
        books = self.books
        seal_reasons(books.personal, self.budget.person, commands, [*mine, books.pool])

    # --- the start ---------------------------------------------------------------------------

    def assess_and_approve(self) -> None:
        p, b, books = self.p, self.budget, self.books
        weekly = plan_weekly_cost(self.lines)
        per_point = 80 + p.n % 41  # the council's RAS: pence a point
        points = max(1, weekly * (90 + p.n % 26) // 100 // per_point)
        b.set_indicative_budget(
            points, points * per_point, "RAS-2010-v3", self.assessed_on, self.act.officer()
        )
        if p.rep is not None and self.rep_id is not None:
            basis = LEGAL_BASIS[p.rep[1]]
            b.appoint_representative(
                self.rep_id,
                *p.rep,
                self.assessed_on,
                self.act.officer(reason=basis),
                books.personal,
            )
        planned_on = p.approve_on - timedelta(days=p.n % 5)
        self.decision(DecisionKind.AGREE_PLAN, None, planned_on)
        b.agree_support_plan(self.lines, planned_on, self.act.officer())
        approve_budget(
            b,
            allocation(p, self.lines, books.pool.fund_ref),
            p.approve_on,
            self.act.officer(),
            books.council,
            books.pool,
        )
        self.deployment = self.choose_deployment()
        if p.weekly_charge:
            b.assess_contribution(p.weekly_charge, p.approve_on, self.act.officer())
        if self.deployment.pays_cash and not p.carer:  # half the councils' payers net
            b.choose_payment_basis(p.n % 2 == 0, p.approve_on, self.act.officer())

    def choose_deployment(self) -> Deployment:
        p = self.p
        if p.kind == DeploymentKind.MIXED:
            deployment = Deployment(p.kind, None, plan_weekly_cost(self.lines[:1]) * 52)
        else:
            deployment = Deployment(p.kind, p.provider if p.kind == DeploymentKind.ISF else None)
        if deployment.pays_cash:
            self.decision(DecisionKind.OPT_FOR_CASH, None, p.approve_on)
        else:
            self.decision(DecisionKind.CHOOSE_PROVIDER, p.provider, p.approve_on)
        self.budget.choose_deployment(deployment, p.approve_on, self.act.officer())
        return deployment

    def decision(self, kind: str, subject: str | None, on: date) -> None:
        """The representative's decision; none once the budget has ended (rule 8: their
        authority ends with it — a final invoice after an ending is the council's alone)."""
        if self.rep_id is not None and self.budget.status is not BudgetStatus.ENDED:
            prov = self.act.representative(self.rep_id, self.budget.person)
            decide(self.budget, self.rep_id, kind, subject, on, prov, self.books.personal)

    # --- each 4-week cycle ---------------------------------------------------------------------

    def periods(self) -> Iterator[Period]:
        p, start = self.p, self.p.approve_on
        stop = self.books.last_day
        if p.end_on is not None:  # a late-reported death is paid on for a cycle
            stop = min(stop, p.end_on + CYCLE if p.back_dated_end else p.end_on - DAY)
        while start <= stop:
            yield Period(start, start + CYCLE - DAY)
            start += CYCLE

    def invoiceable(self, period: Period) -> bool:
        """Care delivered by the end (and by the demo's last day) is invoiced."""
        if period.end > self.books.last_day:
            return False
        end = self.p.end_on
        return end is None or self.p.back_dated_end or period.end <= end

    def final_invoice(self, period: Period) -> bool:
        """An invoice the care firm sends after the ending: its care ended within five weeks
        of the end (a back-dated ending is learned of only after everything was paid)."""
        end = self.p.end_on
        return end is not None and not self.p.back_dated_end and period.end + 35 * DAY >= end

    def cycle(self, k: int, period: Period) -> None:
        if self.deployment.pays_cash:
            self.cash(k, period)
        if self.p.weekly_charge and not (self.p.misses_payments and self.rng.random() < 0.3):
            self.contribution(period)
        if k == self.p.revise and not self.budget.year_allocations:  # none once rolled over
            self.revision(period.start)
        if self.deployment.pays_cash and k % 3 == 2:
            self.spend_return(period)
        review_on = self.p.approve_on + timedelta(days=150 + self.p.n % 30)
        if period.start <= review_on <= min(period.end, self.books.last_day):
            self.budget.review(review_on, self.act.officer())
            if self.p.underspend:
                self.surplus(review_on + DAY)
        if period.start <= ROLLOVER_ON <= period.end:
            self.rollover()

    def cash(self, k: int, period: Period) -> None:
        """The council's 4-weekly payment run falls once in each cycle: it pays what is due."""
        b = self.budget
        runs = (period.start - RUNS_FROM).days // CYCLE.days
        run_on = RUNS_FROM + CYCLE * (runs + (period.start > RUNS_FROM + CYCLE * runs))
        if run_on <= min(period.end, self.books.last_day):
            self.unreported += b.pay_due(run_on, self.act.officer()).paid_pence
        amount = b.weekly_direct_payment_pence * 4
        if k == self.p.correct:  # paid twice by mistake, then reversed
            b.issue_cash_payment(amount, period, period.start, self.act.officer())
            reason = self.act.officer(reason="duplicate-payment-reversed")
            b.correct(b.version, amount, period.start + 3 * DAY, reason)

    def contribution(self, period: Period) -> None:
        """The person pays four weeks' contribution; where it is owed (paid net or gross), no
        more than is owed (a missed payment stays in arrears)."""
        b, amount = self.budget, self.p.weekly_charge * 4
        if b.net_payments is not None:
            amount = min(amount, b.contributions_owed_pence)
        if amount > 0:
            b.receive_contribution(amount, period.start + timedelta(days=10), self.act.officer())

    def spend_return(self, period: Period) -> None:
        share = self.rng.uniform(0.55, 0.75) if self.p.underspend else self.rng.uniform(0.93, 1.0)
        amount = min(self.budget.held_pence, int(self.unreported * share))
        if amount <= 0:
            return
        self.decision(DecisionKind.APPROVE_TIMESHEET, None, period.end + 10 * DAY)
        covered = Period(self.return_from, period.end)
        self.budget.report_direct_payment_spend(
            amount, covered, period.end + 14 * DAY, self.act.officer()
        )
        self.unreported, self.return_from = 0, period.end + DAY

    def revision(self, on: date) -> None:
        self.hours = self.hours * self.rng.randint(110, 125) // 100 // 25 * 25
        lines = plan_lines(self.p, self.hours)
        books = self.books
        prov = self.act.officer(reason="needs-increased-at-review")
        change = allocation(self.p, lines, books.pool.fund_ref)
        revise_budget(self.budget, change, on, prov, books.council, books.pool)
        self.decision(DecisionKind.AGREE_PLAN, None, on)
        self.budget.agree_support_plan(lines, on, self.act.officer())
        self.lines = lines

    def rollover(self) -> None:
        """Year end: 2011-12 rolled over, or re-assessed against the plan as it stands."""
        p, books = self.p, self.books
        if p.carer or (p.end_on is not None and p.end_on < NEXT_YEAR):
            return
        figures = allocation(p, self.lines, books.pool.fund_ref) if p.n % 4 == 0 else None
        prov = self.act.officer(reason="annual-review" if figures else "year-end-rollover")
        allocate_year(self.budget, NEXT_YEAR, figures, ROLLOVER_ON, prov, books.council, books.pool)

    def suspension(self, period: Period) -> None:
        """A hospital stay: nothing is paid for the cycle."""
        self.budget.suspend(period.start, self.act.officer(reason="hospital-admission"))
        self.budget.resume(period.end + DAY, self.act.officer(reason="discharged-home"))

    def surplus(self, on: date) -> None:
        """Rule 9: recover cash held above the council's threshold (refunding any over-paid
        contribution first)."""
        b, weeks = self.budget, self.books.council.surplus_weeks
        threshold = surplus_threshold(b.weekly_direct_payment_pence, weeks)
        if b.held_pence - b.surplus_outstanding_pence - threshold <= 0:
            return
        amount = b.identify_surplus(weeks, on, self.act.officer())
        b.recover_surplus(amount, on + 14 * DAY, self.act.officer(reason="surplus-above-threshold"))

    # --- the end -------------------------------------------------------------------------------

    def finish(self) -> None:
        p = self.p
        if p.end_on is None or p.end_reason is None:
            return
        self.budget.end(p.end_reason, p.end_on, self.act.officer())
        if self.deployment.pays_cash:
            self.recover_balance(p.end_on + 14 * DAY)

    def recover_balance(self, on: date) -> None:
        """Rule 12: after the ending, the last spend return, then the direct-payment balance
        left is recovered by its own entry (over-paid contribution refunded first)."""
        b = self.budget
        if self.unreported and b.held_pence:
            spent = min(b.held_pence, self.unreported * self.rng.randint(80, 95) // 100)
            # A back-dated ending can fall inside the last return's period: nothing is left
            # to report then (that return already covered the days up to the ending).
            last = min(b.ended_on or on, on)
            if spent and self.return_from <= last:
                covered = Period(self.return_from, last)
                b.report_direct_payment_spend(spent, covered, on, self.act.officer())
        if b.held_pence > 0:
            b.recover_balance(None, on + 14 * DAY, self.act.officer(reason="ended-balance-left"))

    def one_off(self) -> None:
        """A carer's own budget: one payment for a break, then a return of what it bought."""
        b, on = self.budget, self.p.approve_on
        amount = b.allocation.total_pence
        b.issue_cash_payment(amount, Period(on, on + CYCLE - DAY), on, self.act.officer())
        returned_on = on + 6 * CYCLE // 4
        if returned_on <= self.books.last_day:
            spent = amount * self.rng.randint(85, 100) // 100
            b.report_direct_payment_spend(
                spent, Period(on, returned_on), returned_on, self.act.officer()
            )
