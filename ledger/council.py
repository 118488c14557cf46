"""A council: a separate legal entity with its own books, policy and eligible population."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidCommandError, RetentionOutOfBoundsError
from ledger.ids import council_id
from ledger.provenance import Provenance, check_identity, check_ref
from ledger.values import SupportReason, parse_enum

DEFAULT_SURPLUS_WEEKS = 8
DEFAULT_INVOICE_TOLERANCE_BP = 500  # 5% over plan before an invoice is flagged
DEFAULT_MAX_CONTINGENCY_BP = 1000  # a contingency of up to 10% of the budget
MAX_POPULATION = 10_000_000
# Retention of a budget's records: years after the end of the financial year in which it ended.
# Six is the floor: financial records are kept six years (Limitation Act 1980 s.5, HMRC); thirty
# is the ceiling: the longest periods for adult care records are twenty years (mental health),
# and a period without end is no retention policy (UK GDPR Art. 5(1)(e), storage limitation).
DEFAULT_RETENTION_YEARS = 6
MIN_RETENTION_YEARS = 6
MAX_RETENTION_YEARS = 30
# A council's gross adult-social-care spend for a year: far above MAX_AMOUNT_PENCE (one budget or
# invoice), below £10bn (England spent £27.1bn in 2023-24 across 152 councils).
MAX_GROSS_SPEND_PENCE = 1_000_000_000_000
_FINANCIAL_YEAR = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits only, matched whole


def check_population(counts: dict[str, int]) -> dict[str, int]:
    """Eligible people by primary support reason: every reason known, every count plausible."""
    checked: dict[str, int] = {}
    for reason, count in counts.items():
        parse_enum(SupportReason, "support reason", reason)
        if (
            isinstance(count, bool)
            or not isinstance(count, int)
            or not 0 <= count <= MAX_POPULATION
        ):
            raise InvalidCommandError("population counts must be whole and plausible", field=reason)
        checked[reason] = count
    if not checked:
        raise InvalidCommandError("state at least one support reason", field="counts")
    return checked


def check_financial_year(financial_year: str) -> str:
    """'2010-11': April 2010 to March 2011. Two consecutive years, the second as two digits."""
    match = _FINANCIAL_YEAR.fullmatch(financial_year) if isinstance(financial_year, str) else None
    if match is None or not 1970 <= int(match[1]) <= 2099:
        raise InvalidCommandError("a financial year looks like 2010-11", field="financial_year")
    if (int(match[1]) + 1) % 100 != int(match[2]):
        raise InvalidCommandError(
            "a financial year spans two consecutive years, e.g. 2010-11", field="financial_year"
        )
    return financial_year


def check_gross_spend(gross_pence: int) -> int:
    """Whole pence, positive, and plausible for one council's year (not check_pence's £10m cap)."""
    if isinstance(gross_pence, bool) or not isinstance(gross_pence, int):
        raise InvalidCommandError(
            "gross_pence must be an integer number of pence", field="gross_pence"
        )
    if not 1 <= gross_pence <= MAX_GROSS_SPEND_PENCE:
        raise InvalidCommandError(
            f"gross_pence must be between 1 and {MAX_GROSS_SPEND_PENCE} pence",
            field="gross_pence",
            value=gross_pence,
        )
    return gross_pence


class Council(Aggregate):
    TOPIC = "careledger.council:Council"

    class Event(Aggregate.Event):
        TOPIC = "careledger.council:Event"
        effective_on: date
        prov: Provenance

    class Created(Event, Aggregate.Created):
        TOPIC = "careledger.council:Created"

    class Registered(Created):
        TOPIC = "careledger.council:Registered"
        code: str
        name: str
        surplus_weeks: int
        invoice_tolerance_bp: int
        max_contingency_bp: int

    class EligiblePopulationRecorded(Event):
        TOPIC = "careledger.council:EligiblePopulationRecorded"
        counts: dict[str, int]

    class GrossSpendRecorded(Event):
        TOPIC = "careledger.council:GrossSpendRecorded"
        financial_year: str
        gross_pence: int

    class PolicyChanged(Event):
        TOPIC = "careledger.council:PolicyChanged"
        surplus_weeks: int
        invoice_tolerance_bp: int
        max_contingency_bp: int

    class RetentionPolicySet(Event):
        TOPIC = "careledger.council:RetentionPolicySet"
        years: int

    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return council_id(code)

    @classmethod
    def register(
        cls,
        code: str,
        name: str,
        effective_on: date,
        prov: Provenance,
        surplus_weeks: int = DEFAULT_SURPLUS_WEEKS,
        invoice_tolerance_bp: int = DEFAULT_INVOICE_TOLERANCE_BP,
        max_contingency_bp: int = DEFAULT_MAX_CONTINGENCY_BP,
    ) -> Council:
        check_identity("council code", code, max_length=16)
        check_ref("council name", name, max_length=120)
        _check_policy(surplus_weeks, invoice_tolerance_bp, max_contingency_bp)
        return cls(
            code=code,
            name=name,
            surplus_weeks=surplus_weeks,
            invoice_tolerance_bp=invoice_tolerance_bp,
            max_contingency_bp=max_contingency_bp,
            effective_on=effective_on,
            prov=prov,
        )

    @event(Registered)
    def __init__(
        self,
        code: str,
        name: str,
        surplus_weeks: int,
        invoice_tolerance_bp: int,
        max_contingency_bp: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.code = code
        self.name = name
        self.surplus_weeks = surplus_weeks
        self.invoice_tolerance_bp = invoice_tolerance_bp
        self.max_contingency_bp = max_contingency_bp
        self.populations: dict[date, dict[str, int]] = {}
        self.gross_spend: dict[str, int] = {}
        self.retention_years = DEFAULT_RETENTION_YEARS

    def record_eligible_population(
        self, counts: dict[str, int], effective_on: date, prov: Provenance
    ) -> None:
        self._eligible_population_recorded(
            counts=check_population(counts), effective_on=effective_on, prov=prov
        )

    @event(EligiblePopulationRecorded)
    def _eligible_population_recorded(
        self, counts: dict[str, int], effective_on: date, prov: Provenance
    ) -> None:
        self.populations[effective_on] = dict(counts)

    def record_gross_spend(
        self, financial_year: str, gross_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        """Gross adult-social-care spend for a financial year; a later record restates it."""
        self._gross_spend_recorded(
            financial_year=check_financial_year(financial_year),
            gross_pence=check_gross_spend(gross_pence),
            effective_on=effective_on,
            prov=prov,
        )

    @event(GrossSpendRecorded)
    def _gross_spend_recorded(
        self, financial_year: str, gross_pence: int, effective_on: date, prov: Provenance
    ) -> None:
        self.gross_spend[financial_year] = gross_pence

    def change_policy(
        self,
        surplus_weeks: int,
        invoice_tolerance_bp: int,
        effective_on: date,
        prov: Provenance,
        max_contingency_bp: int | None = None,
    ) -> None:
        contingency_bp = (
            self.max_contingency_bp if max_contingency_bp is None else max_contingency_bp
        )
        _check_policy(surplus_weeks, invoice_tolerance_bp, contingency_bp)
        self._policy_changed(
            surplus_weeks=surplus_weeks,
            invoice_tolerance_bp=invoice_tolerance_bp,
            max_contingency_bp=contingency_bp,
            effective_on=effective_on,
            prov=prov,
        )

    @event(PolicyChanged)
    def _policy_changed(
        self,
        surplus_weeks: int,
        invoice_tolerance_bp: int,
        max_contingency_bp: int,
        effective_on: date,
        prov: Provenance,
    ) -> None:
        self.surplus_weeks = surplus_weeks
        self.invoice_tolerance_bp = invoice_tolerance_bp
        self.max_contingency_bp = max_contingency_bp

    def set_retention_policy(self, years: int, effective_on: date, prov: Provenance) -> None:
        """How long the council keeps a person's records: ``years`` after the end of the
        financial year in which their last budget ended (then retention erases them)."""
        self._retention_policy_set(
            years=check_retention_years(years), effective_on=effective_on, prov=prov
        )

    @event(RetentionPolicySet)
    def _retention_policy_set(self, years: int, effective_on: date, prov: Provenance) -> None:
        self.retention_years = years

    def eligible_population_on(self, day: date) -> dict[str, int]:
        """The latest count recorded on or before ``day`` (empty if none)."""
        dates = [d for d in self.populations if d <= day]
        return dict(self.populations[max(dates)]) if dates else {}


def check_retention_years(years: int) -> int:
    """Whole years, MIN_RETENTION_YEARS..MAX_RETENTION_YEARS."""
    if (
        isinstance(years, bool)
        or not isinstance(years, int)
        or not MIN_RETENTION_YEARS <= years <= MAX_RETENTION_YEARS
    ):
        raise RetentionOutOfBoundsError(
            f"a retention period is {MIN_RETENTION_YEARS}..{MAX_RETENTION_YEARS} whole years",
            field="years",
            min_years=MIN_RETENTION_YEARS,
            max_years=MAX_RETENTION_YEARS,
        )
    return years


def _check_policy(surplus_weeks: int, invoice_tolerance_bp: int, max_contingency_bp: int) -> None:
    if not 0 <= max_contingency_bp <= 5000:
        raise InvalidCommandError(
            "the contingency limit must be 0..5000 basis points", field="max_contingency_bp"
        )
    if not 1 <= surplus_weeks <= 52:
        raise InvalidCommandError("surplus threshold must be 1..52 weeks", field="surplus_weeks")
    if not 0 <= invoice_tolerance_bp <= 5000:
        raise InvalidCommandError(
            "invoice tolerance must be 0..5000 basis points", field="invoice_tolerance_bp"
        )
