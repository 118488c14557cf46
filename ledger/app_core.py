"""The write-side application's core: store set-up, loading, and the command runner.

Every use case runs through ``run_command``: it returns the first outcome for a repeated command
id, refuses the same id with a different command, saves the changed aggregates and the command
record in one atomic ``save``, and retries from a fresh load when a concurrent writer won the race.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import (
    Aggregate,
    CanMutateProtocol,
    DomainEventProtocol,
    MutableOrImmutableAggregate,
)
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

from ledger.budget import PersonalBudget
from ledger.clock import recording_at
from ledger.command_record import CommandRecord, fingerprint, legacy_record_id, record_id
from ledger.council import Council
from ledger.errors import (
    BudgetNotFoundError,
    ConcurrencyConflictError,
    CouncilNotFoundError,
    IdempotencyConflictError,
    InvoiceNotFoundError,
    LedgerError,
    NotFoundError,
    PooledFundNotFoundError,
    ProviderNotFoundError,
    VersionMismatchError,
)
from ledger.ids import council_id, pooled_fund_id, provider_id
from ledger.invoice import Invoice
from ledger.persistence import DEFAULT_DATABASE_URL, persistence_env
from ledger.personal import IN_THE_CLEAR, PersonalData, reason_context
from ledger.pooled_fund import PooledFund
from ledger.positions import note_positions
from ledger.provenance import Provenance, Role
from ledger.provider import Provider
from ledger.snapshots import FaithfulSnapshot
from ledger.transcodings import register_transcodings

A = TypeVar("A", bound=Aggregate)
Outcome = dict[str, Any]
Action = Callable[[], tuple[Sequence[Aggregate], Outcome]]
RefusalListener = Callable[[str, "LedgerError", Provenance, int], None]

MAX_ATTEMPTS = 5


# Long-lived aggregates (a budget over years, a council's pooled fund drawn on by every budget)
# are loaded from a snapshot taken every this many events, then the events after it: a load
# replays at most this many, however long the history.
SNAPSHOT_INTERVAL = 100


class LedgerCore(Application[UUID]):
    name = "CareLedger"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        PersonalBudget: SNAPSHOT_INTERVAL,
        PooledFund: SNAPSHOT_INTERVAL,
    }

    def __init__(
        self,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        personal: PersonalData = IN_THE_CLEAR,
    ) -> None:
        self.refusal_listeners: list[RefusalListener] = []
        # Seals personal fields and makes pseudonyms (``ledger.personal``); the key store that
        # implements it is given by the wiring (``projections.service``), or set later.
        self.personal: PersonalData = personal
        url = database_url or os.environ.get("CARELEDGER_DATABASE_URL") or DEFAULT_DATABASE_URL
        self.database_url = url
        super().__init__(env={**persistence_env(url), **(env or {})})

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    # --- the command runner ------------------------------------------------------------------

    def run_command(
        self, command: str, args: dict[str, Any], prov: Provenance, action: Action
    ) -> Outcome:
        """Run ``action`` (load, check rules, change aggregates) once per command id; every
        event it causes (and its command record) is recorded at one instant (``ledger.clock``)."""
        with recording_at():
            return self._run_command(command, args, prov, action)

    def _run_command(
        self, command: str, args: dict[str, Any], prov: Provenance, action: Action
    ) -> Outcome:
        prov = self.stored_provenance(prov)
        # The reason (legal basis, override) is part of what was asked: a retry must repeat it.
        # Keyed, so the stored fingerprint cannot confirm a guessed reason.
        reason = None if prov.reason is None else self.personal.pseudonym("reason", prov.reason)
        fp = fingerprint(command, {**args, "reason": reason})
        for _ in range(MAX_ATTEMPTS):
            prior = self.prior_outcome(command, fp, prov)
            if prior is not None:
                return prior
            try:
                changed, outcome = action()
            except LedgerError as error:
                # The same command id may have just committed in another request (a client's
                # retry racing its first try): that outcome, not the refusal it now meets.
                prior = self.prior_outcome(command, fp, prov)
                if prior is not None:
                    return prior
                self.notify_refusal(command, error, prov)
                raise
            stored = self.seal_reasons(changed, prov)
            record = CommandRecord(command=command, fingerprint=fp, outcome=outcome, prov=stored)
            try:
                self.save(*changed, record)
            except IntegrityError:
                continue  # a concurrent writer won: reload and check the rules again
            return outcome
        raise ConcurrencyConflictError(
            f"{command} lost {MAX_ATTEMPTS} races with concurrent writers; retry",
            command=command,
            attempts=MAX_ATTEMPTS,
        )

    def seal_reasons(self, changed: Sequence[Aggregate], prov: Provenance) -> Provenance:
        """A reason given for a command about a person's budget is personal data: every event
        the command causes (and its command record) stores it sealed under the person's key,
        bound to them and the field (``reason_context``). A record of the budget's — an invoice
        (dispute, rejection, override) or a note — is sealed under the key of the person whose
        budget it charges, loaded if the command did not. Returns the provenance the command
        record stores. A reason on a command about no budget (only an erasure's own code) is a
        code about no one and is stored as given."""
        if prov.reason is None:
            return prov
        people = self._people_of(changed)
        if not people:
            return prov
        first = next(iter(people.values()))
        for aggregate in changed:
            person = people.get(str(aggregate.id), first)
            sealed = self.personal.seal(person, reason_context(person), prov.reason)
            pending = aggregate.pending_events
            for i, e in enumerate(pending):
                given: Provenance | None = getattr(e, "prov", None)
                if given is not None and given.reason == prov.reason:
                    stored = given.with_stored_reason(sealed)
                    pending[i] = dataclasses.replace(e, prov=stored)  # type: ignore[type-var]
        return prov.with_stored_reason(
            self.personal.seal(first, reason_context(first), prov.reason)
        )

    def _people_of(self, changed: Sequence[Aggregate]) -> dict[str, str]:
        """Aggregate id -> the pseudonym of the person whose budget it is or belongs to."""
        budgets = {str(a.id): a.person for a in changed if isinstance(a, PersonalBudget)}
        people = dict(budgets)
        for aggregate in changed:
            budget_id = getattr(aggregate, "budget_id", None)
            if budget_id is None or str(aggregate.id) in people:
                continue
            if str(budget_id) not in budgets:
                budgets[str(budget_id)] = self.budget(budget_id).person
            people[str(aggregate.id)] = budgets[str(budget_id)]
        return people

    def stored_provenance(self, prov: Provenance) -> Provenance:
        """The provenance as events store it: a representative (a private person) is named by
        their pseudonym, never their id, in the events and command records they cause."""
        if prov.actor_role != Role.REPRESENTATIVE:
            return prov
        pseudonym = self.personal.pseudonym("representative", prov.actor_id)
        if pseudonym == prov.actor_id:
            return prov
        scope = prov.idempotency_scope
        return dataclasses.replace(
            prov,
            actor_id=pseudonym,
            idempotency_scope=scope and "representative:" + self.personal.pseudonym("scope", scope),
        )

    def notify_refusal(
        self, command: str, error: LedgerError, prov: Provenance, item: int = -1
    ) -> None:
        """Tell the listeners (e.g. the exceptions log) that a command was refused.

        The ledger itself writes nothing for a refusal; listeners live outside it.
        """
        for listener in self.refusal_listeners:
            listener(command, error, prov, item)

    def prior_outcome(self, command: str, fp: str, prov: Provenance) -> Outcome | None:
        """The first outcome of this command id in its account (or, for a record made before
        accounts scoped ids, by this very actor); None if it is new. The same id used for a
        different command is a conflict: the answer names only the id and the first command's
        type, both known to the account that sent them."""
        record = self._command_record(record_id(prov))
        legacy = legacy_record_id(prov)
        if record is None and legacy is not None:
            record = self._command_record(legacy)
        if record is None:
            return None
        if record.fingerprint != fp or record.command != command:
            raise IdempotencyConflictError(
                "this command id was already used for a different command",
                command_id=prov.command_id,
                first_command=record.command,
            )
        return {**record.outcome, "replayed": True}

    def _command_record(self, record_uuid: UUID) -> CommandRecord | None:
        try:
            record = self.get_aggregate(record_uuid)
        except AggregateNotFoundError:
            return None
        if not isinstance(record, CommandRecord):  # uuid5 namespaces keep ids apart
            raise TypeError(f"{record!r} is not a command record")
        return record

    # --- saving and loading ------------------------------------------------------------------

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """The library's ``save``, collecting with ``CollectedEvents``."""
        processing_event = CollectedEvents()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        note_positions(r.notification.id for r in recordings)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, kept in step
        return recordings

    def take_snapshot(
        self, aggregate_id: UUID, version: int | None = None, projector_func: Any = None
    ) -> None:
        """The library's, with ``FaithfulSnapshot`` (the aggregate's own nested ``Snapshot``
        would restore tuples as lists and int keys as text)."""
        if self.snapshots is None:
            super().take_snapshot(aggregate_id, version)  # names what is missing
            return
        aggregate = self.repository.get(aggregate_id, version=version, projector_func=replay_events)
        self.snapshots.put([FaithfulSnapshot.take(aggregate)])

    def get_aggregate(self, aggregate_id: UUID, version: int | None = None) -> Aggregate:
        """``repository.get`` replaying with ``replay_events`` (up to ``version``, if given);
        AggregateNotFoundError if none."""
        aggregate: Aggregate = self.repository.get(
            aggregate_id, version=version, projector_func=replay_events
        )
        return aggregate

    def _load(
        self, aggregate_id: UUID, cls: type[A], error: type[NotFoundError], **facts: Any
    ) -> A:
        try:
            aggregate = self.get_aggregate(aggregate_id)
        except AggregateNotFoundError:
            raise error(f"no {cls.__name__} with that id", **facts) from None
        if not isinstance(aggregate, cls):
            raise error(f"no {cls.__name__} with that id", **facts)
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def council(self, code: str) -> Council:
        return self._load(council_id(code), Council, CouncilNotFoundError, council=code)

    def provider(self, provider_ref: str) -> Provider:
        return self._load(
            provider_id(provider_ref), Provider, ProviderNotFoundError, provider=provider_ref
        )

    def budget(self, budget_id: UUID | str, expected_version: int | None = None) -> PersonalBudget:
        uid = _uuid(budget_id, BudgetNotFoundError, "budget_id")
        budget = self._load(uid, PersonalBudget, BudgetNotFoundError, budget_id=str(budget_id))
        _check_version(budget, expected_version)
        return budget

    def invoice(self, invoice_id: UUID | str, expected_version: int | None = None) -> Invoice:
        uid = _uuid(invoice_id, InvoiceNotFoundError, "invoice_id")
        invoice = self._load(uid, Invoice, InvoiceNotFoundError, invoice_id=str(invoice_id))
        _check_version(invoice, expected_version)
        return invoice

    def pooled_fund(self, council: str, fund_ref: str) -> PooledFund:
        return self._load(
            pooled_fund_id(council, fund_ref),
            PooledFund,
            PooledFundNotFoundError,
            pooled_fund=fund_ref,
        )


class CollectedEvents(ProcessingEvent[UUID]):
    """The library's ``ProcessingEvent``, taking our aggregates' events without its two
    runtime-Protocol ``isinstance`` checks per object: on Python 3.11 each walks the protocol's
    attributes (~25 µs an aggregate, ~15% of a batch of invoices). Anything else goes the
    library's way."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif obj is not None:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


def replay_events(
    aggregate: Aggregate | None, domain_events: Iterable[DomainEventProtocol[UUID]]
) -> Aggregate | None:
    """The library's ``project_aggregate`` without its runtime-Protocol ``assert`` on every event
    (~23 µs an event on Python 3.11, more than the rest of the replay). Every event this
    application stores is an aggregate event, which has ``mutate``."""
    for event in domain_events:
        aggregate = cast("CanMutateProtocol[Aggregate]", event).mutate(aggregate)
    return aggregate


def _uuid(value: UUID | str, error: type[NotFoundError], field: str) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise error(f"{field} is not a valid id", **{field: str(value)[:80]}) from None


def _check_version(aggregate: Aggregate, expected_version: int | None) -> None:
    if expected_version is not None and aggregate.version != expected_version:
        raise VersionMismatchError(
            f"expected version {expected_version}, found {aggregate.version}",
            expected_version=expected_version,
            current_version=aggregate.version,
        )
