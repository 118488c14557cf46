"""A Section 75 pooled fund (NHS Act 2006): partners pay in; personal budgets draw a share out.

Drawing a person's share into their personal budget is how pooled money is disentangled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidCommandError, PoolOverdrawnError
from ledger.ids import pooled_fund_id
from ledger.money import check_pence
from ledger.provenance import Provenance, check_identity, check_ref
from ledger.reversals import check_reversal
from ledger.values import Allocation

MAX_PARTNERS = 10


class PooledFund(Aggregate):
    TOPIC = "careledger.pool:PooledFund"

    class Event(Aggregate.Event):
        TOPIC = "careledger.pool:Event"
        effective_on: date
        prov: Provenance

    class Created(Event, Aggregate.Created):
        TOPIC = "careledger.pool:Created"

    class Established(Created):
        TOPIC = "careledger.pool:Established"
        council: str
        fund_ref: str
        partners: tuple[str, ...]

    class ContributionReceived(Event):
        TOPIC = "careledger.pool:ContributionReceived"
        partner: str
        amount_pence: int

    class DrawnDown(Event):
        TOPIC = "careledger.pool:DrawnDown"
        budget_id: str
        amount_pence: int

    class Released(Event):
        TOPIC = "careledger.pool:Released"
        budget_id: str
        amount_pence: int

    class ContributionReversed(Event):
        """Rule 10: (part of) the partner contribution at ``entry_version`` reversed."""

        TOPIC = "careledger.pool:ContributionReversed"
        entry_version: int
        partner: str
        amount_pence: int

    @staticmethod
    def create_id(council: str, fund_ref: str, **_: Any) -> UUID:
        return pooled_fund_id(council, fund_ref)

    @classmethod
    def establish(
        cls,
        council: str,
        fund_ref: str,
        partners: tuple[str, ...],
        effective_on: date,
        prov: Provenance,
    ) -> PooledFund:
        check_identity("fund_ref", fund_ref)
        if not 1 <= len(partners) <= MAX_PARTNERS or len(set(partners)) != len(partners):
            raise InvalidCommandError(
                f"a pooled fund has 1..{MAX_PARTNERS} distinct partners", field="partners"
            )
        for partner in partners:
            check_ref("partner", partner)
        return cls(
            council=council,
            fund_ref=fund_ref,
            partners=tuple(partners),
            effective_on=effective_on,
            prov=prov,
        )

    @event(Established)
    def __init__(
        self,
        council: str,
        fund_ref: str,
        partners: tuple[str, ...],
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.council = council
        self.fund_ref = fund_ref
        self.partners = tuple(partners)
        self.contributed_pence = 0
        self.drawn_pence = 0
        self.drawn_by_budget: dict[str, int] = {}
        self.entries: dict[int, tuple[str, int]] = {}  # contributions: version → (type, pence)
        self.entry_partners: dict[int, str] = {}
        self.reversed: dict[int, int] = {}  # version → pence reversed so far

    def receive_contribution(
        self, partner: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        check_pence("amount_pence", amount_pence)
        if partner not in self.partners:
            raise InvalidCommandError(f"{partner!r} is not a partner in this pool", field="partner")
        self._contribution_received(
            partner=partner, amount_pence=amount_pence, effective_on=effective_on, prov=prov
        )

    @event(ContributionReceived)
    def _contribution_received(
        self, partner: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.entries[self.version + 1] = ("ContributionReceived", amount_pence)
        self.entry_partners[self.version + 1] = partner
        self.contributed_pence += amount_pence

    def reverse_entry(
        self, entry_version: int, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        """Rule 10 for a partner's contribution; rule 11: never below what budgets drew. A
        drawdown or release moves with a budget's allocation: a revision corrects it."""
        check_reversal(
            {"pooled_fund": self.fund_ref},
            self.entries,
            self.reversed,
            entry_version,
            amount_pence,
            prov,
            version=self.version,
            not_correctable="a budget's pooled share moves with its allocation: revise the"
            " budget to correct a drawdown or release",
        )
        if amount_pence > self.undrawn_pence:
            raise PoolOverdrawnError(
                f"reversing {amount_pence}p leaves less than the {self.drawn_pence}p budgets"
                f" drew from the pool ({self.undrawn_pence}p undrawn)",
                pooled_fund=self.fund_ref,
                amount_pence=amount_pence,
                undrawn_pence=self.undrawn_pence,
            )
        self._contribution_reversed(
            entry_version=entry_version,
            partner=self.entry_partners[entry_version],
            amount_pence=amount_pence,
            effective_on=effective_on,
            prov=prov,
        )

    @event(ContributionReversed)
    def _contribution_reversed(
        self,
        entry_version: int,
        partner: str,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.reversed[entry_version] = self.reversed.get(entry_version, 0) + amount_pence
        self.contributed_pence -= amount_pence

    @property
    def undrawn_pence(self) -> int:
        return self.contributed_pence - self.drawn_pence

    def draw_down(
        self, budget_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        """Rule 11: drawdowns never exceed the partners' contributions."""
        check_pence("amount_pence", amount_pence)
        if amount_pence > self.undrawn_pence:
            raise PoolOverdrawnError(
                f"{amount_pence}p exceeds the {self.undrawn_pence}p undrawn in the pool",
                pooled_fund=self.fund_ref,
                amount_pence=amount_pence,
                undrawn_pence=self.undrawn_pence,
            )
        self._drawn_down(
            budget_id=budget_id, amount_pence=amount_pence, effective_on=effective_on, prov=prov
        )

    @event(DrawnDown)
    def _drawn_down(
        self, budget_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.drawn_pence += amount_pence
        self.drawn_by_budget[budget_id] = self.drawn_by_budget.get(budget_id, 0) + amount_pence

    def release(
        self, budget_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        """A revision lowered a budget's pooled share: the money returns to the pool."""
        check_pence("amount_pence", amount_pence)
        if amount_pence > self.drawn_by_budget.get(budget_id, 0):
            raise InvalidCommandError(
                "cannot release more than the budget drew", field="amount_pence"
            )
        self._released(
            budget_id=budget_id, amount_pence=amount_pence, effective_on=effective_on, prov=prov
        )

    @event(Released)
    def _released(
        self, budget_id: str, amount_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.drawn_pence -= amount_pence
        self.drawn_by_budget[budget_id] -= amount_pence


def move_pool_shares(
    budget_id: str,
    before: Allocation,
    after: Allocation,
    effective_on: date,
    prov: Provenance,
    fund: Callable[[str], PooledFund],
) -> list[PooledFund]:
    """Rule 11 for an approval or revision: draw down each pool's increase in the budget's share,
    release each decrease. ``fund`` finds a pool by its reference; returns the pools changed."""
    changed: list[PooledFund] = []
    old, new = before.pool_amounts(), after.pool_amounts()
    for fund_ref in sorted(set(old) | set(new)):
        delta = new.get(fund_ref, 0) - old.get(fund_ref, 0)
        if delta == 0:
            continue
        pool = fund(fund_ref)
        if delta > 0:
            pool.draw_down(budget_id, delta, effective_on, prov)
        else:
            pool.release(budget_id, -delta, effective_on, prov)
        changed.append(pool)
    return changed
