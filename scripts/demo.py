"""The national demo: a deterministic synthetic England for 2010-11 (``careledger demo``).

``load_demo`` plans every council, care firm and person from the seed (``scripts.demo_england``,
``scripts.demo_people``), builds each person's year on the aggregates in memory
(``scripts.demo_year``) and saves a few hundred budgets, their invoices and the council's pooled
fund in one transaction. Only the care firms' resent invoice files go through the use case, so
the refusals reach the refusal log. Then the views catch up, and the headline figures are read
back from the progress view.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.app_invoices import InvoiceDraft
from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.clock import recording_at
from ledger.council import Council
from ledger.pooled_fund import PooledFund
from ledger.provider import Provider
from projections.runner import Runner
from projections.views.progress_measures import financial_year
from scripts.demo_clock import Timeline
from scripts.demo_england import CouncilPlan, plan_england, providers_for
from scripts.demo_ops import Actors
from scripts.demo_people import FY_END, Person, people_of
from scripts.demo_summary import DemoSummary, read_headline
from scripts.demo_year import Books, Year, allocation, plan_lines

START = date(2010, 4, 5)  # the first Monday of the financial year 2010-11
YEAR = "2010-11"
SPEND_SHARE = 0.06  # about 6% of adult social care spend went through personal budgets
# Saved per transaction: budgets with their invoices and the pooled fund they drew on, up to
# about 2,500 events (a few MB; psycopg's pipeline has been seen to stall on much larger inserts).
BATCH_EVENTS = 2500
ONE_DAY = timedelta(days=1)
PEOPLE_PER_COUNCIL = 6  # the default scale: a small England that loads in a minute or two


class Loader:
    """Collects aggregates and saves them together; counts events and FY 2010-11 spend. With a
    ``timeline`` (the simulated clock, ``scripts.demo_clock``) the events are kept and saved at
    the end in the order they would have been recorded."""

    def __init__(
        self,
        app: CareLedger,
        progress: Callable[[int], None] | None,
        timeline: Timeline | None = None,
    ) -> None:
        self.app, self.progress, self.timeline = app, progress, timeline
        self.pending: list[Aggregate] = []
        self.budgets = self.pending_budgets = self.pending_events = self.events = 0
        self.spent: Counter[str] = Counter()

    def add(self, aggregates: Iterable[Aggregate], council: str = "") -> None:
        for aggregate in aggregates:
            if isinstance(aggregate, PersonalBudget):
                self.spent[council] += spend_in_year(aggregate.pending_events)
                self.pending_budgets += 1
            self.pending_events += len(aggregate.pending_events)
            self.pending.append(aggregate)

    def flush(self, *also: Aggregate) -> None:
        """One transaction: the pending aggregates and ``also`` (e.g. a pool they drew on)."""
        if self.timeline is not None:
            self.events += self.timeline.add([*self.pending, *also])
        elif self.pending or also:
            self.events += len(self.app.save(*self.pending, *also))
        self.budgets += self.pending_budgets
        if self.progress is not None and self.pending_budgets:
            self.progress(self.pending_budgets)
        self.pending, self.pending_budgets, self.pending_events = [], 0, 0


def spend_in_year(events: Iterable[Any]) -> int:
    """What the progress view counts as spent in 2010-11: cash paid, invoices approved, less
    credit notes and corrected cash, by the entries' effective dates."""
    total = 0
    for e in events:
        if financial_year(e.effective_on) != YEAR:
            continue
        if isinstance(e, PersonalBudget.CashPaymentIssued | PersonalBudget.InvoiceCharged):
            total += e.amount_pence
        elif isinstance(e, PersonalBudget.InvoiceCredited) or (
            isinstance(e, PersonalBudget.Corrected) and e.entry_type == "CashPaymentIssued"
        ):
            total -= e.amount_pence
    return total


def load_demo(
    app: CareLedger,
    seed: int,
    councils: int = 152,
    people: int | None = None,
    weeks: int = 52,
    progress: Callable[[int], None] | None = None,
    *,
    runner: Runner | None = None,
    on_project: Callable[[int], None] | None = None,
    real_clock: bool = False,
) -> DemoSummary:
    """Load the synthetic England into an empty store; project; read the headline figures.

    ``people``: budget holders at 31 March 2011 across England (default 6 a council);
    ``progress`` is told how many budgets each transaction saved. Refused duplicate invoices
    reach ``app.refusal_listeners`` (a ``LedgerService`` attaches the refusal log). Each entry
    is recorded when a council would have recorded it (``scripts.demo_clock``), unless
    ``real_clock``: then everything is recorded now."""
    if not 1 <= councils <= 152 or not 1 <= weeks <= 52:
        raise ValueError("councils must be 1..152 and weeks 1..52")
    holders = people if people is not None else PEOPLE_PER_COUNCIL * councils
    if holders < 1:
        raise ValueError("people must be at least 1")
    if app.recorder.max_notification_id():
        raise ValueError("the store is not empty: the demo loads only into an empty store")
    started = time.perf_counter()
    loader = Loader(app, progress, None if real_clock else Timeline())
    plans = plan_england(seed, councils, holders)
    providers = register_providers(seed, plans, loader)
    last_day = min(START + (weeks * 7 - 1) * ONE_DAY, FY_END + 3 * ONE_DAY)
    books = [load_council(seed, plan, providers, last_day, loader) for plan in plans]
    record_gross_spend(seed, books, loader)
    last = loader.timeline.save(app, BATCH_EVENTS) if loader.timeline else None
    with recording_at(last + timedelta(hours=1) if last else None):  # the files sent twice
        refused = resend_invoices(app, books)
    written = time.perf_counter() - started
    return read_headline(app, runner, on_project, seed, loader, refused, written)


def demo_budgets(seed: int, councils: int = 152, people: int | None = None) -> int:
    """How many budgets ``load_demo`` will write (for a progress bar)."""
    holders = people if people is not None else PEOPLE_PER_COUNCIL * councils
    return sum(p.people + p.ended + p.carers for p in plan_england(seed, councils, holders))


def register_providers(seed: int, plans: list[CouncilPlan], loader: Loader) -> dict[str, Provider]:
    """Care firms registered with the regulator before the year; a few suspended for six weeks
    in the autumn (their invoices for those weeks are flagged)."""
    rng, actors = random.Random(f"firms-{seed}"), Actors(seed, "ENGLAND")
    firms: dict[str, Provider] = {}
    for ref, name in providers_for(seed, plans).items():
        since = date(rng.randint(2003, 2009), rng.randint(1, 12), 1)
        firm = Provider.register(ref, name, since, actors.admin())
        if rng.random() < 0.04:
            suspended = date(2010, rng.randint(6, 11), rng.randint(1, 28))
            firm.change_status("suspended", suspended, actors.admin())
            firm.change_status("registered", suspended + 42 * ONE_DAY, actors.admin())
        firms[ref] = firm
    loader.add(firms.values())
    return firms


def load_council(
    seed: int, plan: CouncilPlan, providers: dict[str, Provider], last_day: date, loader: Loader
) -> Books:
    """The council, its population and pool, then its people's years, a batch at a time."""
    actors, rng = Actors(seed, plan.code), random.Random(f"council-{seed}-{plan.code}")
    people = people_of(rng, plan, START, last_day)
    council = Council.register(
        plan.code,
        plan.name,
        date(2009, 4, 1),
        actors.admin(),
        plan.surplus_weeks,
        500,
        plan.contingency_bp,
    )
    council.record_eligible_population(plan.eligible, date(2010, 4, 1), actors.admin())
    pool = establish_pool(plan, people, actors)
    books = Books(plan, council, pool, providers, actors, rng, last_day)
    books.personal = loader.app.personal
    loader.add([council])
    for person in people:
        loader.add(Year(books, person).build(), plan.code)
        if loader.pending_events >= BATCH_EVENTS:
            loader.flush(pool)  # the pool is saved with the budgets that drew on it
    loader.flush(pool)
    return books


def establish_pool(plan: CouncilPlan, people: list[Person], actors: Actors) -> PooledFund:
    """The Section 75 mental-health pool with the NHS, only partly disentangled: the partners
    pay in enough that this year's budgets draw down about ``plan.pool_fraction`` of it."""
    fund_ref = f"MH-S75-{plan.code}"
    partners = (f"NHS-PCT-{plan.code[-3:]}", f"LA-{plan.code}")
    pool = PooledFund.establish(plan.code, fund_ref, partners, date(2010, 4, 1), actors.admin())
    drawn = sum(
        allocation(p, plan_lines(p, p.hours), fund_ref).pool_amounts().get(fund_ref, 0)
        for p in people
    )
    total = max(int(drawn / plan.pool_fraction), 2_000_00)
    nhs = total * 7 // 10
    pool.receive_contribution(partners[0], nhs, date(2010, 4, 1), actors.admin())
    pool.receive_contribution(partners[1], total - nhs, date(2010, 4, 1), actors.admin())
    return pool


def record_gross_spend(seed: int, books: list[Books], loader: Loader) -> None:
    """Each council's gross adult-social-care spend for 2010-11 (its outturn at 31 March), set so
    that about 6% went through personal budgets nationally, more where uptake was higher."""
    rng = random.Random(f"spend-{seed}")
    mean_target = sum(float(b.plan.target) for b in books) / len(books)
    shares = {
        b.plan.code: SPEND_SHARE
        * (float(b.plan.target) / mean_target) ** 0.5
        * rng.uniform(0.85, 1.15)
        for b in books
    }
    raw = {code: loader.spent[code] / share for code, share in shares.items()}
    scale = sum(loader.spent.values()) / SPEND_SHARE / max(1.0, sum(raw.values()))
    for b in books:
        gross = max(1, round(raw[b.plan.code] * scale))
        b.council.record_gross_spend(YEAR, gross, FY_END, b.actors.admin())
        loader.add([b.council])
    loader.flush()


def resend_invoices(app: CareLedger, books: list[Books]) -> int:
    """Care firms that send a file of invoices twice: refused as duplicates by the use case."""
    refused = 0
    for b in books:
        by_firm: dict[str, list[InvoiceDraft]] = {}
        for firm, draft in b.resend:
            by_firm.setdefault(firm, []).append(draft)
        for firm, drafts in sorted(by_firm.items()):
            outcome = app.post_invoices(firm, drafts, b.actors.firm(firm))
            refused += int(outcome["refused"])
    return refused
