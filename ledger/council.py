"""A council: a separate legal entity with its own books, policy and eligible population."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidCommandError
from ledger.ids import council_id
from ledger.provenance import Provenance, check_ref
from ledger.values import SupportReason, parse_enum

DEFAULT_SURPLUS_WEEKS = 8
DEFAULT_INVOICE_TOLERANCE_BP = 500  # 5% over plan before an invoice is flagged
DEFAULT_MAX_CONTINGENCY_BP = 1000  # a contingency of up to 10% of the budget
MAX_POPULATION = 10_000_000


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

    class PolicyChanged(Event):
        TOPIC = "careledger.council:PolicyChanged"
        surplus_weeks: int
        invoice_tolerance_bp: int
        max_contingency_bp: int

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
        check_ref("council code", code, max_length=16)
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

    def eligible_population_on(self, day: date) -> dict[str, int]:
        """The latest count recorded on or before ``day`` (empty if none)."""
        dates = [d for d in self.populations if d <= day]
        return dict(self.populations[max(dates)]) if dates else {}


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
