"""Rule 13: invoice and credit-note numbers are compared by their key (NFKC, no whitespace or
format characters, case-folded), so a look-alike of a posted number is a duplicate (rule 5); the
posted form is kept as sent. Runs on memory, SQLite and PostgreSQL (the ``world`` fixture)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ledger.errors as err
from ledger.app_invoices import InvoiceDraft
from ledger.ids import invoice_id, raw_invoice_id
from ledger.invoice import Invoice
from ledger.invoice_numbers import check_invoice_number, invoice_number_key
from ledger.values import Deployment, Period
from tests.support import (
    COUNCIL,
    FOUR_WEEKS,
    HOME_CARE,
    OTHER_COUNCIL,
    PROVIDER,
    World,
    allocation,
)

NEXT_FOUR_WEEKS = Period(date(2010, 5, 3), date(2010, 5, 30))
ON = date(2010, 5, 10)
BETA = "1-202345678"

LOOK_ALIKES = {
    "trailing space": "INV-1 ",
    "leading space": " INV-1",
    "inner space": "INV- 1",
    "lower case": "inv-1",
    "full-width": "\uff29\uff2e\uff36\uff0d\uff11",  # INV-1 in full-width forms
    "no-break space": "INV-1\u00a0",
    "zero-width space": "INV\u200b-1",
    "byte-order mark": "\ufeffINV-1",
    "tab": "INV-1\t",
}


def post(world: World, draft: InvoiceDraft, provider: str = PROVIDER) -> dict[str, Any]:
    return world.app.post_invoice(provider, draft, world.prov("provider", provider))


def test_the_key_of_a_plain_number_is_the_number_so_its_identity_is_unchanged() -> None:
    assert invoice_number_key("INV-2010-0417") == "INV-2010-0417"
    assert invoice_id(PROVIDER, "INV-2010-0417") == raw_invoice_id(PROVIDER, "INV-2010-0417")


@pytest.mark.parametrize("number", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_a_look_alike_has_the_key_and_identity_of_the_number(number: str) -> None:
    assert invoice_number_key(number) == "INV-1"
    assert invoice_id(PROVIDER, number) == invoice_id(PROVIDER, "INV-1")


def test_ligatures_and_case_folding_map_to_one_key() -> None:
    assert invoice_number_key("\ufb01-7") == invoice_number_key("FI-7")  # the fi ligature
    assert invoice_number_key("Straße-1") == invoice_number_key("STRASSE-1")


def test_numbers_that_differ_in_a_visible_character_keep_apart() -> None:
    assert invoice_number_key("INV-1") != invoice_number_key("INV-11")
    assert invoice_number_key("INV-1") != invoice_number_key("INV_1")


@given(st.text(min_size=1, max_size=30))
def test_the_key_is_its_own_key(number: str) -> None:
    key = invoice_number_key(number)
    assert invoice_number_key(key) == key
    assert invoice_number_key(f" {number.casefold()}\u200b ") == key


@pytest.mark.parametrize("number", ["", "   ", "\u200b\ufeff", "INV\n1", "INV\x001", "x" * 65])
def test_refuses_an_empty_invisible_controlled_or_overlong_number(number: str) -> None:
    with pytest.raises(err.InvalidCommandError):
        check_invoice_number("invoice_number", number)


@pytest.mark.parametrize("number", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_refuses_a_look_alike_of_a_posted_number_as_a_duplicate(world: World, number: str) -> None:
    budget_id = world.active_budget()
    first = post(world, world.draft(budget_id, "INV-1"))
    before = world.event_count()

    with pytest.raises(err.DuplicateInvoiceError) as refusal:
        post(world, world.draft(budget_id, number, 100, NEXT_FOUR_WEEKS))

    assert world.event_count() == before
    assert refusal.value.facts["invoice_id"] == first["invoice_id"]
    assert refusal.value.facts["effective_on"] == NEXT_FOUR_WEEKS.end.isoformat()
    assert world.app.budget(budget_id).outstanding_invoices_pence == 52_000


def test_keeps_the_posted_form_as_sent(world: World) -> None:
    budget_id = world.active_budget()
    sent = "\uff29\uff2e\uff36-9 "

    outcome = post(world, world.draft(budget_id, sent))

    assert world.app.invoice(outcome["invoice_id"]).invoice_number == sent
    assert outcome["invoice_id"] == str(invoice_id(PROVIDER, "INV-9"))


def test_accepts_the_same_number_from_two_providers(world: World) -> None:
    budget_id = world.active_budget(deployment=Deployment("council-managed"))
    world.app.register_provider(BETA, "Beta Care Ltd", date(2009, 1, 1), world.admin())
    first = post(world, world.draft(budget_id, "INV-1"))

    second = post(world, world.draft(budget_id, "inv-1 "), BETA)

    assert second["invoice_id"] != first["invoice_id"]
    assert world.app.budget(budget_id).outstanding_invoices_pence == 104_000


def other_council_budget(world: World) -> str:
    world.app.register_council(OTHER_COUNCIL, "Birmingham", date(2010, 4, 1), world.admin())
    opened: str = world.app.open_budget(
        OTHER_COUNCIL, "person-b", "physical", FOUR_WEEKS.start, world.prov()
    )["budget_id"]
    world.app.agree_support_plan(opened, (HOME_CARE,), FOUR_WEEKS.start, world.prov())
    world.app.approve_budget(opened, allocation(), FOUR_WEEKS.start, world.prov())
    world.app.choose_deployment(
        opened, Deployment("council-managed"), FOUR_WEEKS.start, world.prov()
    )
    return opened


def test_one_firms_number_is_one_invoice_in_any_council(world: World) -> None:
    """A care firm's invoice number names one invoice in its books, whichever council it bills:
    the same number (or a look-alike) on a budget in a second council is a duplicate."""
    here = world.active_budget()
    there = other_council_budget(world)
    post(world, world.draft(here, "INV-1"))

    with pytest.raises(err.DuplicateInvoiceError):
        post(world, world.draft(there, "INV-1 "))
    assert world.app.budget(there).outstanding_invoices_pence == 0
    assert world.app.budget(here).council == COUNCIL


def test_two_firms_may_use_one_number_in_two_councils(world: World) -> None:
    here = world.active_budget(deployment=Deployment("council-managed"))
    there = other_council_budget(world)
    world.app.register_provider(BETA, "Beta Care Ltd", date(2009, 1, 1), world.admin())

    post(world, world.draft(here, "INV-1"))
    post(world, world.draft(there, "INV-1"), BETA)

    assert world.app.budget(there).outstanding_invoices_pence == 52_000


def test_a_batch_refuses_a_look_alike_of_an_earlier_item_or_a_posted_number(
    world: World,
) -> None:
    budget_id = world.active_budget()
    post(world, world.draft(budget_id, "INV-1"))
    drafts = [
        world.draft(budget_id, "INV-2", 100, NEXT_FOUR_WEEKS),
        world.draft(budget_id, "inv-2\u00a0", 100, NEXT_FOUR_WEEKS),
        world.draft(budget_id, "\u200bINV-1", 100, NEXT_FOUR_WEEKS),
    ]

    outcome = world.app.post_invoices(PROVIDER, drafts, world.as_provider())

    assert [r["accepted"] for r in outcome["results"]] == [True, False, False]
    assert {r.get("error") for r in outcome["results"][1:]} == {"duplicate-invoice"}


def test_still_finds_an_invoice_stored_under_its_number_as_sent_before_rule_13(
    world: World,
) -> None:
    """An invoice posted before rule 13 as 'inv-7 ' kept the id of that exact text: a resend of
    exactly that text is still a duplicate (a look-alike of it is not found: see the README)."""
    budget_id = world.active_budget()
    legacy = raw_invoice_id(PROVIDER, "inv-7 ")
    old = Invoice._create(  # as an older release stored it
        Invoice.Posted,
        id=legacy,
        council=COUNCIL,
        budget_id=budget_id,
        provider_ref=PROVIDER,
        invoice_number="inv-7 ",
        period=FOUR_WEEKS,
        lines=world.draft(budget_id).lines,
        amount_pence=52_000,
        flags=(),
        effective_on=FOUR_WEEKS.end,
        prov=world.as_provider(),
    )
    world.app.save(old)

    with pytest.raises(err.DuplicateInvoiceError) as refusal:
        post(world, world.draft(budget_id, "inv-7 ", 100, NEXT_FOUR_WEEKS))

    assert refusal.value.facts["invoice_id"] == str(legacy)


def test_refuses_a_look_alike_of_a_credit_note_number_on_the_invoice(world: World) -> None:
    budget_id = world.active_budget()
    invoice = post(world, world.draft(budget_id, "INV-1"))["invoice_id"]
    world.app.approve_invoice(invoice, ON, world.prov())
    world.app.pay_invoice(invoice, "BACS-1", ON, world.prov())
    world.app.issue_credit_note(invoice, "CN-1", 1_00, ON, world.as_provider())
    before = world.event_count()

    with pytest.raises(err.InvalidTransitionError):
        world.app.issue_credit_note(invoice, "cn-1\u00a0", 1_00, ON, world.as_provider())

    assert world.event_count() == before
    assert world.app.invoice(invoice).credited_pence == 1_00
