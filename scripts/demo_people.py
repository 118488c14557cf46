"""The people of one council in the demo: who they are, when their budget starts (and ends), how it
is deployed, what it pays for, and which of the year's events happen to them.

Only plans here; ``scripts.demo_year`` turns a plan into events on the aggregates.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.values import AuthorityBasis, DeploymentKind, EndReason, RepresentativeKind
from scripts.demo_england import CouncilPlan

FY_END = date(2011, 3, 31)  # the 2011 picture is taken at 31 March
DEPLOYMENTS = (  # 1/3 of holders on direct payments (direct-payment or mixed), as in 2011
    (DeploymentKind.DIRECT_PAYMENT, 0.26),
    (DeploymentKind.MIXED, 0.09),
    (DeploymentKind.COUNCIL_MANAGED, 0.50),
    (DeploymentKind.ISF, 0.15),
)
HOURS_FACTOR = {  # care hours a week relative to physical support
    "physical": 1.0,
    "learning-disability": 2.2,
    "memory-cognition": 0.9,
    "mental-health": 0.7,
    "sensory": 0.5,
    "social": 0.5,
}
REPRESENTED = {"learning-disability": 0.35, "memory-cognition": 0.45}  # others 0.08
ENDINGS = ((EndReason.DEATH, 0.55), (EndReason.RESIDENTIAL_CARE, 0.35), (EndReason.MOVED_AWAY, 0.1))


@dataclass
class Person:
    """One person's budget for the year, planned."""

    n: int
    reason: str
    carer: bool
    approve_on: date
    kind: str
    hours: int  # hundredths of an hour a week on the main plan line
    rate_pence: int
    provider: str  # the care firm commissioned (unused for a pure direct payment)
    day_units: int = 0  # learning disability: days a week of day opportunities (hundredths)
    day_rate_pence: int = 0
    weekly_charge: int = 0  # assessed client contribution a week
    pooled_bp: int = 0  # share of the council's part drawn from the mental-health pool
    contingency_bp: int = 0
    headroom_bp: int = 200
    end_on: date | None = None
    end_reason: str | None = None
    back_dated_end: bool = False
    rep: tuple[str, str] | None = None  # (kind, basis)
    suspend: int = -1  # the 4-week cycle in which something happens (-1: never)
    revise: int = -1
    correct: int = -1
    over_plan: int = -1
    credit: int = -1
    late: int = -1
    underspend: bool = False
    misses_payments: bool = False

    @property
    def ref(self) -> str:
        return f"{self.n:05d}"


def _deployment(rng: random.Random) -> str:
    return str(rng.choices([k for k, _ in DEPLOYMENTS], [w for _, w in DEPLOYMENTS])[0])


def _hours(rng: random.Random, reason: str, kind: str) -> int:
    """Hours a week, heavy-tailed (1/5 of budgets under £1k a year, 1/4 over £10k in 2011)."""
    hours = math.exp(rng.gauss(math.log(3.6), 1.3)) * HOURS_FACTOR[reason]
    if kind in (DeploymentKind.DIRECT_PAYMENT, DeploymentKind.MIXED):
        hours *= 2.0  # direct payments were 1/3 of holders but about 1/2 of the money
    return max(50, min(5600, round(hours * 4) * 25))


def _start(rng: random.Random, first: date, last: date) -> date:
    """Nearly half already had a budget as the year opened; the rest joined through the year."""
    span = (last - first).days
    days = rng.randint(0, min(27, span)) if rng.random() < 0.45 else rng.randint(0, span)
    return first + timedelta(days=days)


def _events(rng: random.Random, p: Person) -> None:
    """Which of the year's less common events happen to this person, and in which cycle."""
    cash = p.kind in (DeploymentKind.DIRECT_PAYMENT, DeploymentKind.MIXED)
    invoiced = p.kind != DeploymentKind.DIRECT_PAYMENT
    p.suspend = rng.randint(2, 8) if rng.random() < 0.03 else -1
    p.revise = rng.randint(3, 7) if rng.random() < 0.06 and not p.pooled_bp else -1
    p.correct = rng.randint(0, 5) if cash and rng.random() < 0.03 else -1
    p.over_plan = rng.randint(1, 9) if invoiced and rng.random() < 0.05 else -1
    p.credit = rng.randint(0, 9) if invoiced and rng.random() < 0.06 else -1
    p.late = rng.randint(0, 6) if invoiced and rng.random() < 0.03 else -1
    p.underspend = cash and rng.random() < 0.2
    p.misses_payments = rng.random() < 0.1


def _money(rng: random.Random, p: Person, plan: CouncilPlan) -> None:
    weekly = p.hours * p.rate_pence // 100
    if rng.random() < 0.45 and weekly >= 20_00:
        p.weekly_charge = min(rng.randrange(5_00, 80_00), weekly * 35 // 100)
    if p.reason == "mental-health" and rng.random() < 0.5:
        p.pooled_bp = rng.randrange(3000, 8001, 500)
    p.contingency_bp = min(plan.contingency_bp, rng.choice((0, 0, 250, 500)))
    p.headroom_bp = rng.randrange(200, 601, 50)


def _representative(rng: random.Random, reason: str) -> tuple[str, str] | None:
    if rng.random() >= REPRESENTED.get(reason, 0.08):
        return None
    if reason in REPRESENTED:
        if rng.random() < 0.7:
            basis = rng.choice(
                (AuthorityBasis.DEPUTY, AuthorityBasis.ATTORNEY, AuthorityBasis.COUNCIL_APPROVED)
            )
            return RepresentativeKind.AUTHORISED.value, basis.value
        return RepresentativeKind.CARER.value, AuthorityBasis.NONE.value
    if rng.random() < 0.5:
        return RepresentativeKind.NOMINATED.value, AuthorityBasis.PERSON_NOMINATED.value
    return RepresentativeKind.CARER.value, AuthorityBasis.NONE.value


def person(
    rng: random.Random, plan: CouncilPlan, n: int, reason: str, first: date, last: date
) -> Person:
    kind = _deployment(rng)
    rate = plan.rate_pence
    if kind == DeploymentKind.DIRECT_PAYMENT:
        rate -= rng.randrange(150, 351, 10)  # personal assistants cost less than agencies
    p = Person(
        n,
        reason,
        False,
        _start(rng, first, min(last, FY_END)),
        kind,
        _hours(rng, reason, kind),
        rate,
        rng.choice(plan.providers),
    )
    if reason == "learning-disability" and rng.random() < 0.4:
        p.day_units = rng.choice((100, 200, 300))
        p.day_rate_pence = rng.randrange(28_00, 42_01, 50)
    _money(rng, p, plan)
    p.rep = _representative(rng, reason)
    _events(rng, p)
    return p


def people_of(rng: random.Random, plan: CouncilPlan, first: date, last: date) -> list[Person]:
    """Everyone with a budget in the council during the year: those still holding one at
    31 March, those whose budget ended, and carers with their own (one-off) budgets."""
    reasons = [r for r, count in sorted(plan.holders.items()) for _ in range(count)]
    rng.shuffle(reasons)
    everyone = [person(rng, plan, n, r, first, last) for n, r in enumerate(reasons)]
    for _ in range(plan.ended):
        p = person(rng, plan, len(everyone), rng.choice(reasons or ["physical"]), first, last)
        _ending(rng, p, min(last, FY_END))
        everyone.append(p)
    for _ in range(plan.carers):
        carer = person(rng, plan, len(everyone), rng.choice(reasons or ["physical"]), first, last)
        carer.carer, carer.kind, carer.rep = True, DeploymentKind.DIRECT_PAYMENT.value, None
        carer.hours, carer.weekly_charge, carer.pooled_bp = 100, 0, 0
        carer.rate_pence = rng.randrange(4_00, 20_01, 50)  # a break a year: £200-£1,000
        everyone.append(carer)
    return everyone


def _ending(rng: random.Random, p: Person, last: date) -> None:
    """An ending within the year, on or before 31 March (so the person no longer counts)."""
    p.approve_on = min(p.approve_on, last - timedelta(days=2))
    p.end_on = p.approve_on + timedelta(days=rng.randint(1, (last - p.approve_on).days))
    p.end_reason = str(rng.choices([r for r, _ in ENDINGS], [w for _, w in ENDINGS])[0])
    p.back_dated_end = p.end_reason == EndReason.DEATH and rng.random() < 0.1
