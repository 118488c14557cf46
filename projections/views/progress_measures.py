"""The progress measures, computed at query time from the progress view's tables for a date ``on``.

* **Eligible population**: each council's latest record on or before ``on``.
* **People with a personal budget**: approved on or before ``on`` and not ended by then
  (suspended budgets count). Users (ASCOF 1a/2a) and carers' own budgets (1b/2b) apart; the 30%
  target is the users' share of the eligible population.
* **Direct payments**: budgets deployed as a direct payment or part direct payment (mixed);
  users' share of the eligible population, carers' share of carers with a budget.
* **Net spend through personal budgets**: what budgets spent net (cash paid + invoices approved,
  less cash reversed by corrections, credit notes and surplus recovered or refunded — the
  journal's Budgets:Drawn) in the financial year containing ``on`` — the whole year, as the
  council's gross spend is annual — over that year's gross adult-social-care spend.
* **Pooled funds**: partners' contributions and drawdowns into budgets (disentangled) by ``on``.

A council filter reads ``(CAST(? AS TEXT) IS NULL OR council = ?)``: every council, or one
(``projections.db.written_out`` hands the database ``(council = ?)`` or nothing, so it indexes).
Each share is two fields named for what it is a share of: ``…_bp`` (integer basis points, floor;
None when nothing to divide by) and ``…_ratio`` (the exact ratio as text).
Nationally, spend counts only councils that recorded gross spend for the year.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from ledger.errors import CouncilNotFoundError
from ledger.values import DeploymentKind, SupportReason
from projections.db import ViewDb

TARGET_BP = 3000  # 30% of eligible people by April 2011 (Putting People First)
REASONS = tuple(r.value for r in SupportReason)
DIRECT = (DeploymentKind.DIRECT_PAYMENT.value, DeploymentKind.MIXED.value)

POPULATION_SQL = (
    "SELECT p.code AS council, p.support_reason, p.eligible FROM v_council_population p"
    " WHERE p.effective_on = (SELECT MAX(q.effective_on) FROM v_council_population q"
    " WHERE q.code = p.code AND q.effective_on <= ?) AND (CAST(? AS TEXT) IS NULL OR p.code = ?)"
)
PEOPLE_SQL = (
    "SELECT council, carer_budget, support_reason, COUNT(*) AS people,"
    " CAST(SUM(CASE WHEN deployment IN (?, ?) THEN 1 ELSE 0 END) AS BIGINT) AS direct"
    " FROM v_budget_status WHERE approved_on <= ? AND (ended_on IS NULL OR ended_on > ?)"
    " AND (CAST(? AS TEXT) IS NULL OR council = ?) GROUP BY council, carer_budget, support_reason"
)
SPEND_SQL = (
    "SELECT b.council, b.carer_budget, b.support_reason,"
    " CAST(SUM(s.net_budget_spend_pence) AS BIGINT) AS spent"
    # From the council's budgets to each one's spend row (CROSS JOIN keeps that order on
    # SQLite): never every council's spend for the year, nor all its versions as at an instant.
    " FROM v_budget_status b CROSS JOIN v_budget_spend s"
    " WHERE s.budget_id = b.budget_id AND s.financial_year = ?"
    " AND (CAST(? AS TEXT) IS NULL OR b.council = ?)"
    " GROUP BY b.council, b.carer_budget, b.support_reason"
)
GROSS_SQL = (
    "SELECT code AS council, gross_asc_spend_pence FROM v_council_spend WHERE financial_year = ?"
    " AND (CAST(? AS TEXT) IS NULL OR code = ?)"
)
POOLS_SQL = (
    "SELECT p.council, p.fund_ref,"
    " CAST(COALESCE(SUM(f.partner_contributions_pence), 0) AS BIGINT) AS contributed,"
    " CAST(COALESCE(SUM(f.net_disentangled_pence), 0) AS BIGINT) AS drawn"
    " FROM v_pools p LEFT JOIN v_pool_flows f ON f.pool_id = p.pool_id AND f.effective_on <= ?"
    " WHERE (CAST(? AS TEXT) IS NULL OR p.council = ?) GROUP BY p.council, p.fund_ref"
)
COUNCILS_SQL = "SELECT code, name FROM v_councils WHERE (CAST(? AS TEXT) IS NULL OR code = ?)"

Key = tuple[bool, str]  # (carer's budget?, primary support reason)


def financial_year(day: date) -> str:
    """The English financial year (April to March) containing ``day``: 2011-03-31 → '2010-11'."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def share(name: str, part: int, whole: int) -> dict[str, Any]:
    """A share as two fields: ``{name}_bp`` (floor basis points, None when ``whole`` is 0) and
    ``{name}_ratio`` (the exact ratio as text, "part/whole")."""
    return {
        f"{name}_bp": part * 10_000 // whole if whole else None,
        f"{name}_ratio": f"{part}/{whole}",
    }


@dataclass
class Figures:
    """One council's raw counts and sums for a date (or the sum over councils)."""

    eligible: Counter[str] = field(default_factory=Counter)
    people: Counter[Key] = field(default_factory=Counter)
    direct: Counter[Key] = field(default_factory=Counter)
    spent: Counter[Key] = field(default_factory=Counter)
    gross_pence: int | None = None
    pools: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        """Add another council's figures; its spend only if it recorded gross spend."""
        self.eligible.update(other.eligible)
        self.people.update(other.people)
        self.direct.update(other.direct)
        if other.gross_pence is not None:
            self.spent.update(other.spent)
            self.gross_pence = (self.gross_pence or 0) + other.gross_pence
        self.pools.extend(other.pools)

    def meets_target(self) -> bool:
        users, eligible = self.total(self.people, False), sum(self.eligible.values())
        return eligible > 0 and users * 10_000 >= TARGET_BP * eligible

    def uptake(self) -> Fraction | None:
        eligible = sum(self.eligible.values())
        return Fraction(self.total(self.people, False), eligible) if eligible else None

    @staticmethod
    def total(counts: Counter[Key], carer: bool, reason: str | None = None) -> int:
        return sum(n for (c, r), n in counts.items() if c == carer and reason in (None, r))


def load(db: ViewDb, on: date, code: str | None) -> dict[str, Figures]:
    """Every council's figures at ``on`` (only ``code``'s if given), by council code."""
    day, year = on.isoformat(), financial_year(on)
    figures = {r["code"]: Figures() for r in db.query(COUNCILS_SQL, (code, code))}
    for r in db.query(POPULATION_SQL, (day, code, code)):
        figures[r["council"]].eligible[r["support_reason"]] += int(r["eligible"])
    for r in db.query(PEOPLE_SQL, (*DIRECT, day, day, code, code)):
        key = (bool(r["carer_budget"]), r["support_reason"])
        figures[r["council"]].people[key] += int(r["people"])
        figures[r["council"]].direct[key] += int(r["direct"])
    for r in db.query(SPEND_SQL, (year, code, code)):
        key = (bool(r["carer_budget"]), r["support_reason"])
        figures[r["council"]].spent[key] += int(r["spent"])
    for r in db.query(GROSS_SQL, (year, code, code)):
        figures[r["council"]].gross_pence = int(r["gross_asc_spend_pence"])
    for r in sorted(db.query(POOLS_SQL, (day, code, code)), key=lambda r: r["fund_ref"]):
        contributed, drawn = int(r["contributed"]), int(r["drawn"])
        figures[r["council"]].pools.append(
            {
                "council": r["council"],
                "fund_ref": r["fund_ref"],
                "partner_contributions_pence": contributed,
                "net_disentangled_pence": drawn,
                **share("disentangled_share_of_contributions", drawn, contributed),
            }
        )
    return figures


UPTAKE = "with_budget_share_of_eligible"
NET_SPEND_SHARE = "net_budget_spend_share_of_gross"


def _users(f: Figures, reason: str | None) -> dict[str, Any]:
    eligible = sum(f.eligible.values()) if reason is None else f.eligible[reason]
    people, direct = f.total(f.people, False, reason), f.total(f.direct, False, reason)
    spent = f.total(f.spent, False, reason)
    return {
        "eligible_people": eligible,
        "people_with_budget": people,
        **share(UPTAKE, people, eligible),
        "people_on_direct_payment": direct,
        **share("direct_payment_share_of_eligible", direct, eligible),
        "net_budget_spend_pence": spent,
        **share(NET_SPEND_SHARE, spent, f.gross_pence or 0),
    }


def _carers(f: Figures, reason: str | None) -> dict[str, Any]:
    people, direct = f.total(f.people, True, reason), f.total(f.direct, True, reason)
    spent = f.total(f.spent, True, reason)
    return {
        "people_with_budget": people,
        "people_on_direct_payment": direct,
        **share("direct_payment_share_of_with_budget", direct, people),
        "net_budget_spend_pence": spent,
        **share(NET_SPEND_SHARE, spent, f.gross_pence or 0),
    }


def measures(f: Figures, on: date, *, with_funds: bool = True) -> dict[str, Any]:
    """The measures of one council's (or the nation's) figures."""
    spent = sum(f.spent.values())
    contributed = sum(p["partner_contributions_pence"] for p in f.pools)
    drawn = sum(p["net_disentangled_pence"] for p in f.pools)
    return {
        "on": on.isoformat(),
        "financial_year": financial_year(on),
        "target_bp": TARGET_BP,
        "meets_target": f.meets_target(),
        "users": {**_users(f, None), "by_reason": {r: _users(f, r) for r in REASONS}},
        "carers": {**_carers(f, None), "by_reason": {r: _carers(f, r) for r in REASONS}},
        "spend": {
            "gross_asc_spend_pence": f.gross_pence,
            "net_budget_spend_pence": spent,
            **share(NET_SPEND_SHARE, spent, f.gross_pence or 0),
        },
        "pooled_funds": {
            "partner_contributions_pence": contributed,
            "net_disentangled_pence": drawn,
            **share("disentangled_share_of_contributions", drawn, contributed),
            "fund_count": len(f.pools),
            **({"funds": f.pools} if with_funds else {}),
        },
    }


def council_progress(db: ViewDb, code: str, on: date) -> dict[str, Any]:
    """One council's measures at ``on``."""
    names = db.query(COUNCILS_SQL, (code, code))
    if not names:
        raise CouncilNotFoundError("no council with that code", council=code)
    figures = load(db, on, code)[code]
    return {"council": code, "name": names[0]["name"], **measures(figures, on)}


def national_progress(db: ViewDb, on: date) -> dict[str, Any]:
    """England at ``on``: totals over councils, how many meet the target, the range of uptake."""
    return national_of(load(db, on, None), on)


def national_of(councils: dict[str, Figures], on: date) -> dict[str, Any]:
    """England's measures from every council's figures (``load(db, on, None)``)."""
    total = Figures()
    for code in sorted(councils):
        total.add(councils[code])
    uptakes = sorted((u, code) for code, f in councils.items() if (u := f.uptake()) is not None)
    low, high = (uptakes[0], uptakes[-1]) if uptakes else (None, None)
    return {
        "councils": len(councils),
        "councils_with_population": len(uptakes),
        "councils_meeting_target": sum(1 for f in councils.values() if f.meets_target()),
        "councils_reporting_spend": sum(1 for f in councils.values() if f.gross_pence is not None),
        "uptake_min": _extreme(low, councils),
        "uptake_max": _extreme(high, councils),
        **measures(total, on, with_funds=False),
    }


def _extreme(entry: tuple[Fraction, str] | None, councils: dict[str, Figures]) -> Any:
    if entry is None:
        return None
    code = entry[1]
    f = councils[code]
    return {"council": code, **share(UPTAKE, f.total(f.people, False), sum(f.eligible.values()))}
