"""Request models shared by the routers: strict, closed, bounded; pence as integers, ISO dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from ledger.errors import InvalidCommandError
from ledger.invoice_numbers import MAX_NUMBER_LENGTH, check_invoice_number
from ledger.money import MAX_AMOUNT_PENCE
from ledger.provenance import plain_identity
from ledger.values import (
    Allocation,
    Deployment,
    FundingStream,
    InvoiceLine,
    Period,
    PlanLine,
)

Pence = Annotated[StrictInt, Field(ge=1, le=MAX_AMOUNT_PENCE, description="Integer pence, > 0.")]
PenceOrZero = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT_PENCE, description="Integer pence.")]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[!-~][ -~]*$")]


def plain(value: object) -> object:
    """An identity (council code, care firm or pooled fund reference) in its one form, as the
    ledger keeps it: ``" e06000001 "`` is ``E06000001`` (``ledger.provenance.plain_identity``)."""
    return plain_identity(value) if isinstance(value, str) else value


AsIdentity = BeforeValidator(plain)
IdentityRef = Annotated[Ref, AsIdentity]


def _invoice_number(value: str) -> str:
    try:
        return check_invoice_number("invoice_number", value)
    except InvalidCommandError as error:
        raise ValueError(error.detail) from None


InvoiceNumber = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_NUMBER_LENGTH),
    AfterValidator(_invoice_number),
    Field(
        description="As the care firm writes it (any printable Unicode, kept as sent). Numbers"
        " are compared ignoring case, whitespace, invisible characters and look-alikes"
        " (NFKC): 'INV-1', 'inv-1 ' and 'INV-1' in full-width characters are one number"
        " (rule 13)."
    ),
]
Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[!-~][ -~]*$"),
    Field(description="A short code or legal basis, never free-text care notes."),
]


def _iso_date_only(value: object) -> object:
    """Dates arrive as ISO strings ('2011-03-31'), never as numbers."""
    if isinstance(value, date) or (isinstance(value, str) and len(value) == 10):
        return value
    raise ValueError("give the date as YYYY-MM-DD")


def _plausible(value: date) -> date:
    if not date(1990, 1, 1) <= value <= date(2100, 12, 31):
        raise ValueError("dates run from 1990-01-01 to 2100-12-31")
    return value


BusinessDate = Annotated[
    date,
    BeforeValidator(_iso_date_only),
    AfterValidator(_plausible),
    Field(description="An ISO date, 1990-01-01 to 2100-12-31."),
]
FIRST_INSTANT = datetime(1990, 1, 1, tzinfo=UTC)
LAST_INSTANT = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)


def _utc_instant(value: datetime) -> datetime:
    """A recorded instant in UTC (no offset means UTC), within the ledger's plausible years —
    never one that overflows when converted."""
    try:
        instant = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise ValueError("give an instant between 1990 and 2100") from None
    if not FIRST_INSTANT <= instant <= LAST_INSTANT:
        raise ValueError("give an instant between 1990 and 2100")
    return instant


Instant = Annotated[datetime, AfterValidator(_utc_instant)]
SupportReasonName = Literal[
    "physical", "sensory", "memory-cognition", "learning-disability", "mental-health", "social"
]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PeriodIn(Strict):
    start: BusinessDate
    end: BusinessDate

    @model_validator(mode="after")
    def _ordered(self) -> PeriodIn:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self

    def value(self) -> Period:
        return Period(self.start, self.end)


class PlanLineIn(Strict):
    service: Annotated[
        str, StringConstraints(min_length=1, max_length=40, pattern=r"^[!-~][ -~]*$")
    ]
    units_per_week_hundredths: Annotated[StrictInt, Field(ge=1, le=67_200)]
    rate_pence: Pence
    provider_id: Ref | None = None

    def value(self) -> PlanLine:
        return PlanLine(
            self.service, self.units_per_week_hundredths, self.rate_pence, self.provider_id
        )


class FundingStreamIn(Strict):
    source: Literal["council-fund", "pooled-fund"]
    amount_pence: Pence
    pooled_fund: Ref | None = None

    def value(self) -> FundingStream:
        return FundingStream(self.source, self.amount_pence, self.pooled_fund)


class AllocationIn(Strict):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "total_pence": 1000000,
                    "client_contribution_pence": 100000,
                    "council_contribution_pence": 900000,
                    "streams": [
                        {"source": "council-fund", "amount_pence": 600000},
                        {
                            "source": "pooled-fund",
                            "amount_pence": 300000,
                            "pooled_fund": "MH-S75-POOL",
                        },
                    ],
                    "contingency_pence": 50000,
                    "effective_on": "2010-04-05",
                }
            ]
        },
    )

    total_pence: Pence
    client_contribution_pence: PenceOrZero
    council_contribution_pence: PenceOrZero
    streams: Annotated[list[FundingStreamIn], Field(max_length=10)]
    contingency_pence: PenceOrZero = 0
    effective_on: BusinessDate
    reason: Reason | None = None

    def value(self) -> Allocation:
        return Allocation(
            self.total_pence,
            self.client_contribution_pence,
            self.council_contribution_pence,
            tuple(s.value() for s in self.streams),
            self.contingency_pence,
        )


class DeploymentIn(Strict):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "mixed", "direct_payment_pence": 500000, "effective_on": "2010-04-05"}
            ]
        },
    )

    kind: Literal["direct-payment", "council-managed", "individual-service-fund", "mixed"]
    provider_id: Ref | None = None
    direct_payment_pence: PenceOrZero = 0
    effective_on: BusinessDate

    def value(self) -> Deployment:
        return Deployment(self.kind, self.provider_id, self.direct_payment_pence)


class InvoiceLineIn(Strict):
    service: Annotated[
        str, StringConstraints(min_length=1, max_length=40, pattern=r"^[!-~][ -~]*$")
    ]
    units_hundredths: Annotated[StrictInt, Field(ge=1, le=336_000)]
    rate_pence: Pence

    def value(self) -> InvoiceLine:
        return InvoiceLine(self.service, self.units_hundredths, self.rate_pence)


class InvoiceIn(Strict):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "invoice_number": "INV-2010-0417",
                    "budget_id": "0b8f5f9e-2c1d-5a57-9d1e-4c9f0a6b7e21",
                    "period": {"start": "2010-04-05", "end": "2010-05-02"},
                    "lines": [
                        {"service": "home-care", "units_hundredths": 4000, "rate_pence": 1300}
                    ],
                    "invoice_date": "2010-05-03",
                }
            ]
        },
    )

    invoice_number: InvoiceNumber
    budget_id: UUID
    period: PeriodIn
    lines: Annotated[list[InvoiceLineIn], Field(min_length=1, max_length=200)]
    invoice_date: BusinessDate


class Written(BaseModel):
    """What a write returns: the record's id and its new version (also the ETag)."""

    id: str
    version: int
    replayed: bool = Field(False, description="True when this repeats an earlier Idempotency-Key.")
