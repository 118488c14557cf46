"""A care firm registered with the care regulator, and its registration history."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidTransitionError
from ledger.ids import provider_id
from ledger.provenance import Provenance, check_identity, check_ref
from ledger.values import Period, ProviderStatus, parse_enum


class Provider(Aggregate):
    TOPIC = "careledger.provider:Provider"

    class Event(Aggregate.Event):
        TOPIC = "careledger.provider:Event"
        effective_on: date
        prov: Provenance

    class Created(Event, Aggregate.Created):
        TOPIC = "careledger.provider:Created"

    class Registered(Created):
        TOPIC = "careledger.provider:Registered"
        provider_ref: str
        name: str

    class StatusChanged(Event):
        TOPIC = "careledger.provider:StatusChanged"
        status: str

    @staticmethod
    def create_id(provider_ref: str, **_: Any) -> UUID:
        return provider_id(provider_ref)

    @classmethod
    def register(
        cls, provider_ref: str, name: str, effective_on: date, prov: Provenance
    ) -> Provider:
        check_identity("provider_ref", provider_ref)
        check_ref("provider name", name, max_length=120)
        return cls(provider_ref=provider_ref, name=name, effective_on=effective_on, prov=prov)

    @event(Registered)
    def __init__(self, provider_ref: str, name: str, effective_on: date, prov: Provenance) -> None:
        self.provider_ref = provider_ref
        self.name = name
        self.history: list[tuple[date, ProviderStatus]] = [
            (effective_on, ProviderStatus.REGISTERED)
        ]

    def change_status(self, status: str, effective_on: date, prov: Provenance) -> None:
        new = parse_enum(ProviderStatus, "status", status)
        if self.status_on(effective_on) is new:
            raise InvalidTransitionError(
                f"provider is already {new.value} on {effective_on}",
                provider=self.provider_ref,
                status=new.value,
            )
        if any(s is ProviderStatus.DEREGISTERED and d <= effective_on for d, s in self.history):
            raise InvalidTransitionError(
                "a deregistered provider must register again under a new registration",
                provider=self.provider_ref,
            )
        self._status_changed(status=new.value, effective_on=effective_on, prov=prov)

    @event(StatusChanged)
    def _status_changed(self, status: str, effective_on: date, prov: Provenance) -> None:
        self.history.append((effective_on, ProviderStatus(status)))
        self.history.sort(key=lambda entry: entry[0])

    def status_on(self, day: date) -> ProviderStatus | None:
        """The status in force on ``day``; None before the first registration."""
        current = None
        for start, status in self.history:
            if start <= day:
                current = status
                if status is ProviderStatus.DEREGISTERED:
                    break  # deregistration is final: later-dated entries do not revive it
        return current

    def is_registered_throughout(self, period: Period) -> bool:
        if self.status_on(period.start) is not ProviderStatus.REGISTERED:
            return False
        return not any(
            period.start < start <= period.end and status is not ProviderStatus.REGISTERED
            for start, status in self.history
        )
