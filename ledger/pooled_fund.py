"""A Section 75 pooled fund (NHS Act 2006): partners pay in; personal budgets draw a share out.

Drawing a person's share into their personal budget is how pooled money is disentangled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidCommandError, PoolOverdrawnError
from ledger.ids import pooled_fund_id
from ledger.money import check_pence
from ledger.provenance import Provenance, check_identity, check_ref
from ledger.reversals import check_reversal
from ledger.values import Allocation, FundingSource, FundingStream

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

    class DrawdownReversed(Event):
        """Rule 10: (part of) the drawdown at ``entry_version`` reversed, the budget's share
        moved to the council fund in the same save (a revision of its allocation)."""

        TOPIC = "careledger.pool:DrawdownReversed"
        entry_version: int
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
        self.entry_budgets: dict[int, str] = {}  # a drawdown's version → its budget
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

    def check_reversal(self, entry_version: int, amount_pence: int, prov: Provenance) -> str:
        """Rule 10 for a partner's contribution (rule 11: never below what budgets drew) or a
        drawdown (never beyond the budget's share left). A release moves with a revision."""
        entry_type = check_reversal(
            {"pooled_fund": self.fund_ref},
            self.entries,
            self.reversed,
            entry_version,
            amount_pence,
            prov,
            version=self.version,
            not_correctable="a release moves with the budget's allocation: revise the budget",
        )
        if entry_type == "ContributionReceived" and amount_pence > self.undrawn_pence:
            raise PoolOverdrawnError(
                f"reversing {amount_pence}p leaves less than the {self.drawn_pence}p budgets"
                f" drew from the pool ({self.undrawn_pence}p undrawn)",
                pooled_fund=self.fund_ref,
                amount_pence=amount_pence,
                undrawn_pence=self.undrawn_pence,
            )
        if entry_type == "DrawnDown":
            budget_id = self.entry_budgets[entry_version]
            share = self.drawn_by_budget.get(budget_id, 0)
            if amount_pence > share:
                raise PoolOverdrawnError(
                    f"the budget's share drawn from the pool is {share}p now, not {amount_pence}p",
                    pooled_fund=self.fund_ref,
                    budget_id=budget_id,
                    amount_pence=amount_pence,
                    drawn_pence=share,
                )
        return entry_type

    def reverse_entry(
        self, entry_version: int, amount_pence: int, effective_on: date, prov: Provenance
    ) -> str:
        """Reverse (part of) a contribution or a drawdown; returns the entry's type."""
        entry_type = self.check_reversal(entry_version, amount_pence, prov)
        if entry_type == "DrawnDown":
            self._drawdown_reversed(
                entry_version=entry_version,
                budget_id=self.entry_budgets[entry_version],
                amount_pence=amount_pence,
                effective_on=effective_on,
                prov=prov,
            )
            return entry_type
        self._contribution_reversed(
            entry_version=entry_version,
            partner=self.entry_partners[entry_version],
            amount_pence=amount_pence,
            effective_on=effective_on,
            prov=prov,
        )
        return entry_type

    @event(DrawdownReversed)
    def _drawdown_reversed(
        self,
        entry_version: int,
        budget_id: str,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.reversed[entry_version] = self.reversed.get(entry_version, 0) + amount_pence
        self.drawn_pence -= amount_pence
        self.drawn_by_budget[budget_id] -= amount_pence

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
        self.entries[self.version + 1] = ("DrawnDown", amount_pence)
        self.entry_budgets[self.version + 1] = budget_id
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


def share_moved_to_council_fund(allocation: Allocation, fund_ref: str, pence: int) -> Allocation:
    """The allocation with ``pence`` of the pool's stream paid by the council fund instead (a
    reversed drawdown): the total and who pays it are unchanged."""
    streams: list[FundingStream] = []
    left, council = pence, pence
    for stream in allocation.streams:
        if stream.pooled_fund_id == fund_ref and left:
            taken = min(left, stream.amount_pence)
            left -= taken
            if stream.amount_pence > taken:
                streams.append(replace(stream, amount_pence=stream.amount_pence - taken))
        elif stream.source == FundingSource.COUNCIL_FUND.value and council:
            streams.append(replace(stream, amount_pence=stream.amount_pence + council))
            council = 0
        else:
            streams.append(stream)
    if council:
        streams.append(FundingStream(FundingSource.COUNCIL_FUND.value, council))
    return replace(allocation, streams=tuple(streams))


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
