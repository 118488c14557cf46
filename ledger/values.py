"""Value objects and vocabulary shared by the aggregates. Stored inside events: never rename."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from ledger.errors import InvalidCommandError
from ledger.money import check_pence
from ledger.provenance import check_ref

MAX_UNITS_PER_WEEK_HUNDREDTHS = 168 * 100 * 4  # four carers round the clock
MAX_PLAN_LINES = 50


class SupportReason(StrEnum):
    """Primary support reason, as in the national returns."""

    PHYSICAL = "physical"
    SENSORY = "sensory"
    MEMORY_COGNITION = "memory-cognition"
    LEARNING_DISABILITY = "learning-disability"
    MENTAL_HEALTH = "mental-health"
    SOCIAL = "social"


class BudgetStatus(StrEnum):
    OPENED = "opened"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


class DeploymentKind(StrEnum):
    DIRECT_PAYMENT = "direct-payment"
    COUNCIL_MANAGED = "council-managed"
    ISF = "individual-service-fund"
    MIXED = "mixed"


class EndReason(StrEnum):
    DEATH = "death"
    MOVED_AWAY = "moved-away"
    RESIDENTIAL_CARE = "residential-care"
    NO_LONGER_ELIGIBLE = "no-longer-eligible"
    PERSON_CHOICE = "person-choice"
    NHS_CONTINUING_CARE = "nhs-continuing-care"
    OTHER = "other"


class RepresentativeKind(StrEnum):
    NOMINATED = "nominated"  # Care Act 2014 s31: chosen by an adult with capacity
    AUTHORISED = "authorised"  # s32: where capacity is lacking
    CARER = "carer"


class AuthorityBasis(StrEnum):
    NONE = "none"
    ATTORNEY = "attorney"  # registered lasting power of attorney
    DEPUTY = "deputy"  # Court of Protection
    COUNCIL_APPROVED = "council-approved"
    PERSON_NOMINATED = "person-nominated"


class DecisionKind(StrEnum):
    CHOOSE_PROVIDER = "choose-provider"
    AGREE_PLAN = "agree-plan"
    OPT_FOR_CASH = "opt-for-cash"
    APPROVE_TIMESHEET = "approve-timesheet"
    APPROVE_INVOICE = "approve-invoice"
    DECLINE_SERVICE = "decline-service"


class FundingSource(StrEnum):
    COUNCIL_FUND = "council-fund"
    POOLED_FUND = "pooled-fund"


class ProviderStatus(StrEnum):
    REGISTERED = "registered"
    SUSPENDED = "suspended"
    DEREGISTERED = "deregistered"


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], field: str, value: str) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidCommandError(f"{field} must be one of: {allowed}", field=field) from None


@dataclass(frozen=True)
class Period:
    """An inclusive range of business dates."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidCommandError("period ends before it starts", field="period")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True)
class PlanLine:
    """One line of a support plan: service type, units per week (hundredths), rate per unit."""

    service: str
    units_per_week_hundredths: int
    rate_pence: int
    provider_id: str | None = None

    def __post_init__(self) -> None:
        check_ref("service", self.service, max_length=40)
        if not 0 < self.units_per_week_hundredths <= MAX_UNITS_PER_WEEK_HUNDREDTHS:
            raise InvalidCommandError(
                "units per week must be positive and plausible", field="units_per_week"
            )
        check_pence("rate_pence", self.rate_pence)
        if self.provider_id is not None:
            check_ref("provider_id", self.provider_id)

    @property
    def weekly_cost_pence(self) -> int:
        # Round half up to the penny: 7.5 hours x £13.33 = £99.975 → £99.98.
        return (self.units_per_week_hundredths * self.rate_pence + 50) // 100


def plan_weekly_cost(lines: tuple[PlanLine, ...]) -> int:
    return sum(line.weekly_cost_pence for line in lines)


@dataclass(frozen=True)
class FundingStream:
    source: str  # FundingSource value
    amount_pence: int
    pooled_fund_id: str | None = None

    def __post_init__(self) -> None:
        parse_enum(FundingSource, "funding source", self.source)
        check_pence("funding amount_pence", self.amount_pence)
        pooled = self.source == FundingSource.POOLED_FUND
        if pooled != (self.pooled_fund_id is not None):
            raise InvalidCommandError(
                "a pooled-fund stream names its pooled fund; no other stream does",
                field="pooled_fund_id",
            )


@dataclass(frozen=True)
class Allocation:
    """What an approval states (Care Act 2014 s26): annual cost, who pays what, from where."""

    total_pence: int
    client_contribution_pence: int
    council_contribution_pence: int
    streams: tuple[FundingStream, ...]
    contingency_pence: int = 0

    def pool_amounts(self) -> dict[str, int]:
        amounts: dict[str, int] = {}
        for s in self.streams:
            if s.pooled_fund_id is not None:
                amounts[s.pooled_fund_id] = amounts.get(s.pooled_fund_id, 0) + s.amount_pence
        return amounts

    def source_total(self, source: FundingSource) -> int:
        return sum(s.amount_pence for s in self.streams if s.source == source)


NO_ALLOCATION = Allocation(0, 0, 0, ())


@dataclass(frozen=True)
class Deployment:
    """How the budget is spent. ``direct_payment_pence`` is the annual cash share when mixed."""

    kind: str  # DeploymentKind value
    provider_id: str | None = None
    direct_payment_pence: int = 0

    def __post_init__(self) -> None:
        kind = parse_enum(DeploymentKind, "deployment kind", self.kind)
        if (kind == DeploymentKind.ISF) != (self.provider_id is not None):
            raise InvalidCommandError(
                "an individual service fund names its provider; other deployments do not",
                field="provider_id",
            )
        if kind == DeploymentKind.MIXED:
            check_pence("direct_payment_pence", self.direct_payment_pence)
        elif self.direct_payment_pence:
            raise InvalidCommandError(
                "only a mixed deployment states a direct-payment share",
                field="direct_payment_pence",
            )

    @property
    def pays_cash(self) -> bool:
        return self.kind in (DeploymentKind.DIRECT_PAYMENT, DeploymentKind.MIXED)

    @property
    def takes_invoices(self) -> bool:
        return self.kind != DeploymentKind.DIRECT_PAYMENT


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an invoice: service delivered, units (hundredths of hours or visits), rate."""

    service: str
    units_hundredths: int
    rate_pence: int

    def __post_init__(self) -> None:
        check_ref("service", self.service, max_length=40)
        if not 0 < self.units_hundredths <= MAX_UNITS_PER_WEEK_HUNDREDTHS * 5:
            raise InvalidCommandError("units must be positive and plausible", field="units")
        check_pence("rate_pence", self.rate_pence)

    @property
    def amount_pence(self) -> int:
        return (self.units_hundredths * self.rate_pence + 50) // 100


class InvoiceFlag(StrEnum):
    """Why an invoice is parked for checking (kept, not paid until approved with a reason)."""

    PROVIDER_NOT_REGISTERED = "provider-not-registered"
    OUTSIDE_BUDGET_LIFE = "outside-budget-life"
    OVER_PLAN = "over-plan"
    OVERLAPPING_PERIOD = "overlapping-period"
    NOT_COMMISSIONED = "not-commissioned"


class InvoiceStatus(StrEnum):
    POSTED = "posted"
    FLAGGED = "flagged"
    DISPUTED = "disputed"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
