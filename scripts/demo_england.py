"""A synthetic England for the demo: councils, their eligible people, target uptake and providers.

Everything here is planned before a single event is written, from ``random.Random`` instances
seeded from the demo's seed, so a seed always plans the same England. The headline figures are
planned exactly: each council's people with a personal budget at 31 March 2011 and its eligible
population are chosen together, so the 2011 picture (6 of 152 councils at or above 30%, uptake
from 13% to 60%, mental health lagging) holds whatever the scale.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction

from ledger.values import SupportReason

# Population shares of eligible adults by primary support reason (sum 1), and how readily each
# group took up a personal budget in 2010-11: mental health lagged (money in pooled NHS funds).
POPULATION_SHARE = {
    SupportReason.PHYSICAL: 0.52,
    SupportReason.LEARNING_DISABILITY: 0.14,
    SupportReason.MEMORY_COGNITION: 0.13,
    SupportReason.MENTAL_HEALTH: 0.17,
    SupportReason.SENSORY: 0.025,
    SupportReason.SOCIAL: 0.015,
}
UPTAKE_FACTOR = {
    SupportReason.PHYSICAL: 1.0,
    SupportReason.LEARNING_DISABILITY: 1.3,
    SupportReason.MEMORY_COGNITION: 0.9,
    SupportReason.MENTAL_HEALTH: 0.4,
    SupportReason.SENSORY: 0.95,
    SupportReason.SOCIAL: 0.9,
}
# (ONS code prefix, how many in England, naming pattern, relative size)
KINDS = (
    ("E06", 56, "{} Council", 0.8),
    ("E08", 36, "{} Metropolitan Borough Council", 1.4),
    ("E09", 33, "London Borough of {}", 1.0),
    ("E10", 27, "{}shire County Council", 3.0),
)
REGIONS = ("NE", "NW", "YH", "EM", "WM", "EE", "LN", "SE", "SW")
STEMS = (
    "Ash", "Bram", "Cald", "Dun", "Elm", "Fen", "Glen", "Hart", "Ips", "Kel", "Lang", "Mar",
    "Nor", "Oak", "Pen", "Rad", "Sal", "Thorn", "Ux", "Wyn", "Brack", "Chal", "Dray", "Hal",
)  # fmt: skip
ENDINGS = ("ford", "ton", "ley", "bury", "field", "wick", "ham", "worth", "mere", "stow")
TARGET_COUNT, NATIONAL_COUNCILS = 6, 152  # 6 of 152 councils met the 30% target in April 2011
LOWEST, HIGHEST, TARGET = Fraction(13, 100), Fraction(60, 100), Fraction(30, 100)


@dataclass
class CouncilPlan:
    code: str
    name: str
    region: str
    size: float
    target: Fraction  # planned share of eligible people with a budget at 31 March 2011
    rate_pence: int = 0  # what the council paid care firms an hour in 2010 (£12-£15)
    contingency_bp: int = 1000
    surplus_weeks: int = 8
    pool_fraction: float = 0.2  # how much of its mental-health pool is disentangled
    holders: dict[str, int] = field(default_factory=dict)  # active at 31 March 2011
    eligible: dict[str, int] = field(default_factory=dict)
    planned: int = 0  # people with a budget at 31 March 2011, before the split by reason
    ended: int = 0  # budgets that end during the year (death, residential care ...)
    carers: int = 0  # carers' own budgets (not counted in the users' uptake)
    providers: list[str] = field(default_factory=list)

    @property
    def people(self) -> int:
        return sum(self.holders.values())


class Rounder:
    """Rounds many small expected counts so their running totals stay exact (no rounding bias
    against small groups, however few people each council has)."""

    def __init__(self) -> None:
        self.carry: dict[str, float] = {}

    def take(self, key: str, expected: float) -> int:
        total = self.carry.get(key, 0.0) + expected
        whole = math.floor(total + 1e-9)
        self.carry[key] = total - whole
        return whole


def councils_of(rng: random.Random, count: int) -> list[tuple[str, str, float]]:
    """``count`` councils (code, name, relative size), drawn evenly from the four kinds."""
    names = [s + e for s in STEMS for e in ENDINGS]
    rng.shuffle(names)
    pool = []
    for prefix, n, pattern, size in KINDS:
        for i in range(1, n + 1):
            weight = size * math.exp(rng.gauss(0, 0.45))
            pool.append((f"{prefix}{i:06d}", pattern.format(names.pop()), weight))
    rng.shuffle(pool)
    return sorted(pool[:count])


def targets(rng: random.Random, count: int) -> list[Fraction]:
    """Planned uptake: the 2011 shape scaled to ``count`` councils (exactly 6 of 152 at ≥ 30%)."""
    above = max(1, round(TARGET_COUNT * count / NATIONAL_COUNCILS)) if count > 1 else 1
    values = [HIGHEST] if count > 1 else [Fraction(1, 5)]
    values += [Fraction(round(rng.uniform(0.31, 0.45), 3)) for _ in range(above - 1)]
    if count > 1:
        values.append(LOWEST)
    while len(values) < count:
        values.append(Fraction(round(rng.triangular(0.14, 0.29, 0.2), 3)))
    rng.shuffle(values)
    return values


def plan_england(seed: int, councils: int, people: int) -> list[CouncilPlan]:
    """Councils with holders and eligible people per support reason, and their policies."""
    rng = random.Random(f"england-{seed}")
    chosen = councils_of(rng, councils)
    plans = [
        CouncilPlan(code, name, REGIONS[i % len(REGIONS)], size, target)
        for i, ((code, name, size), target) in enumerate(
            zip(chosen, targets(rng, councils), strict=True)
        )
    ]
    _share_holders(plans, people)
    rounder = Rounder()
    for plan in plans:
        _policy(plan, rng)
        _populate(plan, rounder)
        plan.ended = rounder.take("ended", plan.people * 0.05)
        plan.carers = rounder.take("carers", plan.people * 0.04)
    return plans


def _share_holders(plans: list[CouncilPlan], people: int) -> None:
    """People with a budget per council, in proportion to size x planned uptake (at least 2;
    a multiple of 3 where uptake is 60%, so 3 in 5 is exact)."""
    weights = [p.size * float(p.target) for p in plans]
    scale = people / sum(weights)
    for plan, weight in zip(plans, weights, strict=True):
        count = max(2, round(weight * scale))
        if plan.target == HIGHEST:
            count = max(3, 3 * round(count / 3))
        plan.planned = count


def _policy(plan: CouncilPlan, rng: random.Random) -> None:
    plan.rate_pence = rng.randrange(12_00, 15_01, 5)
    plan.contingency_bp = rng.choice((500, 1000, 1000, 1000))
    plan.surplus_weeks = rng.choice((4, 6, 8, 8, 8))
    plan.pool_fraction = rng.uniform(0.08, 0.35)


def _eligible_total(holders: int, target: Fraction) -> int:
    """Eligible people so that holders / eligible is nearest ``target`` without crossing 30%
    (or, for the lowest council, 13%)."""
    eligible = max(holders, round(holders / target))
    if target < TARGET:
        eligible = max(eligible, math.floor(holders / TARGET) + 1)
    else:
        eligible = min(eligible, math.floor(holders / TARGET))
    if target > LOWEST:
        eligible = min(eligible, math.floor(holders / LOWEST))
    return eligible


def _populate(plan: CouncilPlan, rounder: Rounder) -> None:
    """Split holders and eligible people over the support reasons; physical takes the rest."""
    holders = plan.planned
    eligible = _eligible_total(holders, plan.target)
    weight = {r: POPULATION_SHARE[r] * UPTAKE_FACTOR[r] for r in POPULATION_SHARE}
    total_weight = sum(weight.values())
    for reason, share in POPULATION_SHARE.items():
        if reason is SupportReason.PHYSICAL:
            continue
        plan.holders[reason] = rounder.take(f"h-{reason}", holders * weight[reason] / total_weight)
        expected = eligible * share
        plan.eligible[reason] = max(plan.holders[reason], rounder.take(f"e-{reason}", expected))
    physical = SupportReason.PHYSICAL.value
    plan.holders[physical] = holders - sum(plan.holders.values())
    plan.eligible[physical] = eligible - sum(plan.eligible.values())
    while plan.holders[physical] < 0 or plan.eligible[physical] < plan.holders[physical]:
        _shift_to_physical(plan)


def _shift_to_physical(plan: CouncilPlan) -> None:
    """Rare with tiny councils: the other groups took more than there is; move one back."""
    physical = SupportReason.PHYSICAL.value
    if plan.holders[physical] < 0:
        donor = max((r for r in plan.holders if r != physical), key=lambda r: plan.holders[r])
        plan.holders[donor] -= 1
        plan.holders[physical] += 1
    else:
        donor = max(
            (r for r in plan.eligible if r != physical),
            key=lambda r: plan.eligible[r] - plan.holders[r],
        )
        plan.eligible[donor] -= 1
        plan.eligible[physical] += 1


def providers_for(seed: int, plans: list[CouncilPlan]) -> dict[str, str]:
    """Care firms per region (CQC-style references), and each council's share of them."""
    rng = random.Random(f"providers-{seed}")
    firms: dict[str, str] = {}
    by_region: dict[str, list[str]] = {}
    suffixes = ("Home Care Ltd", "Care Services", "Support Ltd", "Homecare", "Care Partnership")
    stems = [s + e for s in STEMS for e in ENDINGS]
    for region in REGIONS:
        councils = sum(1 for p in plans if p.region == region)
        for _ in range(min(40, 3 * councils + 2) if councils else 0):
            ref = f"1-{rng.randrange(100_000_000, 1_000_000_000)}"
            while ref in firms:
                ref = f"1-{rng.randrange(100_000_000, 1_000_000_000)}"
            firms[ref] = f"{rng.choice(stems)} {rng.choice(suffixes)}"
            by_region.setdefault(region, []).append(ref)
    for plan in plans:
        local = by_region[plan.region]
        plan.providers = rng.sample(local, min(len(local), rng.randint(3, 6)))
    return firms
