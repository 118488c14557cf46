"""Deterministic identities (uuid5), so uniqueness is enforced by the event store itself."""

from __future__ import annotations

from uuid import UUID, uuid5

from ledger.errors import EntryNotFoundError
from ledger.invoice_numbers import invoice_number_key

NAMESPACE = UUID("5b0f3c8e-8f1e-4d4e-9a53-6c1a2f0e7c11")


def council_id(code: str) -> UUID:
    return uuid5(NAMESPACE, f"council\x1f{code}")


def provider_id(provider_ref: str) -> UUID:
    return uuid5(NAMESPACE, f"provider\x1f{provider_ref}")


def invoice_id(provider_ref: str, invoice_number: str) -> UUID:
    """An invoice's identity is (provider, the number's key): a second posting of the number,
    or of a look-alike of it (rule 13), collides. For a number that is its own key (``INV-1``)
    this is the id invoices always had."""
    return raw_invoice_id(provider_ref, invoice_number_key(invoice_number))


def raw_invoice_id(provider_ref: str, invoice_number: str) -> UUID:
    """The identity before rule 13: of the number exactly as sent. An invoice stored before
    then under a number that is not its own key (``inv-1``, ``INV-1 ``) kept this id."""
    return uuid5(NAMESPACE, f"invoice\x1f{provider_ref}\x1f{invoice_number}")


def budget_id(council_code: str, scope: str, command_id: str) -> UUID:
    """A new budget's id: of the command that opened it (``Provenance.command_scope``)."""
    return uuid5(NAMESPACE, f"budget\x1f{council_code}\x1f{scope}\x1f{command_id}")


def pooled_fund_id(council_code: str, fund_ref: str) -> UUID:
    return uuid5(NAMESPACE, f"pool\x1f{council_code}\x1f{fund_ref}")


def command_record_id(scope: str, command_id: str) -> UUID:
    """Command ids are scoped by account (``Provenance.idempotency_scope``): two accounts may
    pick the same key, and every token of one account shares its keys."""
    return uuid5(NAMESPACE, f"command-in\x1f{scope}\x1f{command_id}")


def actor_command_record_id(actor_id: str, command_id: str) -> UUID:
    """Command ids scoped by actor: records made before accounts scoped them, and commands
    with no account (the ledger's own callers) — a uuid5 name of its own, so an actor id can
    never collide with an account's scope."""
    return uuid5(NAMESPACE, f"command\x1f{actor_id}\x1f{command_id}")


def entry_id(originator_id: UUID, version: int) -> str:
    """The public id of one stored event: '<aggregate uuid>/<version>'."""
    return f"{originator_id}/{version}"


def parse_entry_id(value: str) -> tuple[UUID, int]:
    head, sep, tail = value.partition("/")
    try:
        if not sep or not tail.isdigit():
            raise ValueError(value)
        return UUID(head), int(tail)
    except ValueError:
        raise EntryNotFoundError(
            "an entry id looks like '<uuid>/<version>'", entry_id=value[:80]
        ) from None
