"""Test helpers: a small world of councils, providers and budgets built through the application."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.app_invoices import InvoiceDraft
from ledger.application import CareLedger
from ledger.postings import postings_for
from ledger.provenance import Provenance
from ledger.values import Allocation, Deployment, FundingStream, InvoiceLine, Period, PlanLine

COUNCIL = "E09000033"
OTHER_COUNCIL = "E08000025"
PROVIDER = "1-101234567"
POOL = "MH-S75-POOL"
START = date(2010, 4, 5)
FOUR_WEEKS = Period(START, date(2010, 5, 2))

# 10 hours a week of home care at £13.00 an hour: £130 a week, £6,760 a year.
HOME_CARE = PlanLine("home-care", 1000, 13_00, PROVIDER)


def allocation(
    total: int = 10_000_00,
    client: int = 1_000_00,
    pooled: int = 0,
    contingency: int = 500_00,
) -> Allocation:
    council_part = total - client
    streams = (
        [FundingStream("council-fund", council_part - pooled)] if council_part - pooled else []
    )
    if pooled:
        streams.append(FundingStream("pooled-fund", pooled, POOL))
    return Allocation(total, client, council_part, tuple(streams), contingency)


def count_events(app: CareLedger) -> int:
    return len(app.recorder.select_notifications(1, 10_000_000))


@dataclass
class World:
    app: CareLedger
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def prov(
        self, role: str = "council", actor: str = "officer-1", reason: str | None = None
    ) -> Provenance:
        return Provenance(actor, role, f"cmd-{next(self.counter)}", reason=reason)

    def admin(self) -> Provenance:
        return self.prov("admin", "admin-1")

    def as_provider(self, reason: str | None = None) -> Provenance:
        return self.prov("provider", PROVIDER, reason)

    def setup(self, pool_pence: int = 0) -> World:
        self.app.register_council(COUNCIL, "Westminster", date(2010, 4, 1), self.admin())
        self.app.register_provider(PROVIDER, "Acme Home Care Ltd", date(2009, 1, 1), self.admin())
        if pool_pence:
            self.app.establish_pooled_fund(
                COUNCIL, POOL, ("NHS-RV3",), date(2010, 4, 1), self.admin()
            )
            self.app.receive_pool_contribution(
                COUNCIL, POOL, "NHS-RV3", pool_pence, date(2010, 4, 1), self.admin()
            )
        return self

    def opened_budget(
        self, reason: str = "physical", plan: tuple[PlanLine, ...] = (HOME_CARE,)
    ) -> str:
        budget_id: str = self.app.open_budget(
            COUNCIL, f"person-{next(self.counter)}", reason, START, self.prov()
        )["budget_id"]
        self.app.set_indicative_budget(budget_id, 150, 180_00, "RAS-2010-v2", START, self.prov())
        self.app.agree_support_plan(budget_id, plan, START, self.prov())
        return budget_id

    def active_budget(
        self,
        alloc: Allocation | None = None,
        deployment: Deployment | None = None,
        reason: str = "physical",
    ) -> str:
        budget_id = self.opened_budget(reason)
        self.app.approve_budget(budget_id, alloc or allocation(), START, self.prov())
        self.app.choose_deployment(
            budget_id, deployment or Deployment("mixed", None, 5_000_00), START, self.prov()
        )
        return budget_id

    def draft(
        self,
        budget_id: str,
        number: str = "INV-0001",
        hours_hundredths: int = 4000,
        period: Period = FOUR_WEEKS,
    ) -> InvoiceDraft:
        lines = (InvoiceLine("home-care", hours_hundredths, 13_00),)
        return InvoiceDraft(number, budget_id, period, lines, period.end)

    def event_count(self) -> int:
        """How many events are stored (not the highest position: PostgreSQL's sequence leaves
        gaps where a transaction rolled back)."""
        return count_events(self.app)

    def events(self) -> list[Any]:
        notifications = self.app.recorder.select_notifications(1, 1_000_000)
        return [self.app.mapper.to_domain_event(n) for n in notifications]

    def trial_balance(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for event in self.events():
            for posting in postings_for(event):
                totals[posting.account] = totals.get(posting.account, 0) + posting.amount_pence
        return totals
