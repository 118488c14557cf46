"""Invoices: posting and flags (rules 4, 5), handling (rules 3, 7), credit notes (rule 6), batches
and double entry. Plan: 10 h/week at £13 = 13,000p a week; the default draft is 40 h at £13 =
52,000p for four weeks; the budget is £10,000 (£9,000 council fund, £1,000 client) + £500
contingency.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import pytest

import ledger.errors as err
from ledger.app_invoices import InvoiceDraft
from ledger.application import CareLedger
from ledger.values import Deployment, InvoiceLine, Period
from tests.support import FOUR_WEEKS, PROVIDER, World

NEXT_FOUR_WEEKS = Period(date(2010, 5, 3), date(2010, 5, 30))
ON = date(2010, 5, 10)


def refused(
    world: World, error: type[err.LedgerError], command: Callable[..., Any], *args: Any
) -> None:
    """Then: ``command(*args)`` raises ``error`` and writes nothing."""
    before = world.event_count()
    with pytest.raises(error):
        command(*args)
    assert world.event_count() == before


def post(world: World, draft: InvoiceDraft) -> dict[str, Any]:
    return world.app.post_invoice(PROVIDER, draft, world.as_provider())


def approved(
    world: World, budget_id: str, number: str = "INV-1", period: Period = FOUR_WEEKS
) -> str:
    invoice_id: str = post(world, world.draft(budget_id, number, 4000, period))["invoice_id"]
    world.app.approve_invoice(invoice_id, ON, world.prov())
    return invoice_id


def paid(world: World, budget_id: str) -> str:
    invoice_id = approved(world, budget_id)
    world.app.pay_invoice(invoice_id, "BACS-1", ON, world.prov())
    return invoice_id


def credit(world: World, invoice_id: str, number: str, pence: int) -> object:
    return world.app.issue_credit_note(invoice_id, number, pence, ON, world.as_provider())


def invoice_in(world: World, state: str) -> str:
    """An invoice in ``state`` (posted, disputed, approved or paid) on a fresh budget."""
    budget_id = world.active_budget()
    if state == "paid":
        return paid(world, budget_id)
    if state == "approved":
        return approved(world, budget_id)
    invoice_id: str = post(world, world.draft(budget_id))["invoice_id"]
    if state == "disputed":
        world.app.dispute_invoice(invoice_id, ON, world.prov(reason="query"))
    return invoice_id


# --- posting and flags ---------------------------------------------------------------------


def test_posts_an_invoice_priced_from_its_lines(world: World) -> None:
    budget_id = world.active_budget()
    before = world.event_count()

    outcome = post(world, world.draft(budget_id))

    assert (outcome["status"], outcome["flags"], outcome["amount_pence"]) == ("posted", [], 52_000)
    assert world.event_count() == before + 3  # Posted, InvoiceReceived, command record
    budget = world.app.budget(budget_id)
    assert (budget.outstanding_invoices_pence, budget.available_pence) == (52_000, 10_000_00)


def test_flags_a_provider_suspended_on_a_service_date(world: World) -> None:
    budget_id = world.active_budget()
    world.app.change_provider_status(PROVIDER, "suspended", date(2010, 4, 20), world.admin())

    outcome = post(world, world.draft(budget_id))

    assert (outcome["status"], outcome["flags"]) == ("flagged", ["provider-not-registered"])


def test_flags_a_period_that_starts_before_the_budget_was_approved(world: World) -> None:
    budget_id = world.active_budget()  # approved 5 April 2010
    early = Period(date(2010, 4, 1), date(2010, 4, 28))

    assert post(world, world.draft(budget_id, period=early))["flags"] == ["outside-budget-life"]


@pytest.mark.parametrize(("hours", "flags"), [(4200, []), (4201, ["over-plan"])])
def test_flags_an_invoice_over_plan_beyond_the_tolerance(
    world: World, hours: int, flags: list[str]
) -> None:
    budget_id = world.active_budget()  # 4200: 54,600p = plan 52,000p + 5% exactly; 4201: 54,613p

    assert post(world, world.draft(budget_id, hours_hundredths=hours))["flags"] == flags


def test_flags_a_period_overlapping_an_earlier_invoice_from_the_provider(world: World) -> None:
    budget_id = world.active_budget()
    post(world, world.draft(budget_id, "INV-1"))
    overlapping = Period(date(2010, 5, 1), date(2010, 5, 28))

    outcome = post(world, world.draft(budget_id, "INV-2", period=overlapping))

    assert (outcome["status"], outcome["flags"]) == ("flagged", ["overlapping-period"])


@pytest.mark.parametrize(
    ("deployment", "flags"),
    [
        (Deployment("direct-payment"), ["not-commissioned"]),
        (Deployment("individual-service-fund", "1-999999999"), ["not-commissioned"]),
        (Deployment("individual-service-fund", PROVIDER), []),
        (Deployment("council-managed"), []),
    ],
)
def test_flags_an_invoice_the_deployment_does_not_commission(
    world: World, deployment: Deployment, flags: list[str]
) -> None:
    budget_id = world.active_budget(deployment=deployment)

    assert post(world, world.draft(budget_id))["flags"] == flags


def test_keeps_a_flagged_invoice_but_approves_it_only_with_a_reason(world: World) -> None:
    budget_id = world.active_budget(deployment=Deployment("direct-payment"))
    invoice_id = post(world, world.draft(budget_id))["invoice_id"]

    refused(world, err.InvoiceFlaggedError, world.app.approve_invoice, invoice_id, ON, world.prov())
    outcome = world.app.approve_invoice(invoice_id, ON, world.prov(reason="s26-override"))

    assert outcome["status"] == "approved"
    assert world.app.budget(budget_id).drawn_pence == 52_000


# --- rules 4 and 5: refused postings -------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("opened", err.BudgetNotActiveError),
        ("suspend_budget", err.BudgetSuspendedError),
        # ended on 20 April: an invoice for care to 2 May is not for care before the end
        ("end_budget", err.EffectiveDateOutsideBudgetError),
    ],
)
def test_refuses_an_invoice_on_a_budget_that_is_not_active(
    world: World, status: str, error: type[err.LedgerError]
) -> None:
    budget_id = world.opened_budget() if status == "opened" else world.active_budget()
    if status != "opened":
        args = ("moved-away",) if status == "end_budget" else ()
        getattr(world.app, status)(budget_id, *args, date(2010, 4, 20), world.prov())

    refused(world, error, post, world, world.draft(budget_id))
    assert world.app.budget(budget_id).invoices == {}


def test_refuses_a_second_invoice_with_the_same_number_from_the_provider(world: World) -> None:
    budget_id = world.active_budget()
    post(world, world.draft(budget_id, "INV-1"))
    again = world.draft(budget_id, "INV-1", 100, NEXT_FOUR_WEEKS)  # another period and amount

    refused(world, err.DuplicateInvoiceError, post, world, again)
    assert world.app.budget(budget_id).outstanding_invoices_pence == 52_000


def test_accepts_the_same_invoice_number_from_a_different_provider(world: World) -> None:
    budget_id = world.active_budget(deployment=Deployment("council-managed"))
    first = post(world, world.draft(budget_id, "INV-1"))
    world.app.register_provider("1-202345678", "Beta Care Ltd", date(2009, 1, 1), world.admin())
    beta = world.prov("provider", "1-202345678")

    outcome = world.app.post_invoice("1-202345678", world.draft(budget_id, "INV-1"), beta)

    assert outcome["invoice_id"] != first["invoice_id"] and outcome["amount_pence"] == 52_000
    assert world.app.budget(budget_id).outstanding_invoices_pence == 104_000


# --- the council's handling: approve, dispute, reject, pay ---------------------------------


@pytest.mark.parametrize(
    ("command", "status"), [("dispute_invoice", "disputed"), ("reject_invoice", "rejected")]
)
def test_refuses_a_dispute_or_rejection_without_a_reason(
    world: World, command: str, status: str
) -> None:
    invoice_id = post(world, world.draft(world.active_budget()))["invoice_id"]
    handle = getattr(world.app, command)

    refused(world, err.InvalidCommandError, handle, invoice_id, ON, world.prov())

    assert handle(invoice_id, ON, world.prov(reason="hours-not-delivered"))["status"] == status


def test_pays_an_approved_invoice_with_its_remittance_reference(world: World) -> None:
    budget_id = world.active_budget()
    invoice_id = approved(world, budget_id)

    outcome = world.app.pay_invoice(invoice_id, "BACS-000123", ON, world.prov())

    invoice = world.app.invoice(invoice_id)
    assert (outcome["status"], invoice.paid_pence) == ("paid", 52_000)
    assert invoice.remittance_ref == "BACS-000123"
    assert world.app.budget(budget_id).available_pence == 10_000_00 - 52_000


@pytest.mark.parametrize(
    ("state", "command"),
    [
        ("posted", "pay_invoice"),
        ("disputed", "pay_invoice"),
        ("disputed", "dispute_invoice"),
        ("approved", "approve_invoice"),
        ("approved", "dispute_invoice"),
        ("paid", "approve_invoice"),
        ("paid", "reject_invoice"),
    ],
)
def test_refuses_a_transition_the_invoice_state_does_not_allow(
    world: World, state: str, command: str
) -> None:
    invoice_id = invoice_in(world, state)
    prov = world.prov(reason="checked")
    args = (invoice_id, "BACS-2", ON, prov) if command == "pay_invoice" else (invoice_id, ON, prov)

    refused(world, err.InvalidTransitionError, getattr(world.app, command), *args)
    assert world.app.invoice(invoice_id).status.value == state


@pytest.mark.parametrize(("pence", "drawn"), [(10_500_00, 10_500_00), (10_500_01, 0)])
def test_refuses_to_approve_beyond_available_plus_contingency(
    world: World, pence: int, drawn: int
) -> None:
    budget_id = world.active_budget()  # £10,000 available + £500 contingency
    one_unit = InvoiceDraft("BIG", budget_id, FOUR_WEEKS, (InvoiceLine("care", 100, pence),), ON)
    invoice_id = post(world, one_unit)["invoice_id"]
    prov = world.prov(reason="over-plan-agreed")  # the invoice is flagged over plan

    if drawn:
        assert world.app.approve_invoice(invoice_id, ON, prov)["status"] == "approved"
    else:
        refused(world, err.InsufficientFundsError, world.app.approve_invoice, invoice_id, ON, prov)
    assert world.app.budget(budget_id).drawn_pence == drawn


@pytest.mark.parametrize(
    ("command", "error"),
    [
        # ended on 20 April, before the invoice's care (to 2 May) was delivered: rule 12
        ("end_budget", err.EffectiveDateOutsideBudgetError),
        ("suspend_budget", err.BudgetSuspendedError),
    ],
)
def test_refuses_to_pay_for_care_after_the_end_or_while_suspended(
    world: World, command: str, error: type[err.LedgerError]
) -> None:
    budget_id = world.active_budget()
    invoice_id = approved(world, budget_id)
    args = ("death",) if command == "end_budget" else ()
    getattr(world.app, command)(budget_id, *args, date(2010, 4, 20), world.prov())

    refused(world, error, world.app.pay_invoice, invoice_id, "BACS-1", ON, world.prov())
    assert world.app.invoice(invoice_id).paid_pence == 0


# --- rule 6: credit notes ------------------------------------------------------------------


def test_refuses_a_credit_note_on_an_invoice_not_yet_paid(world: World) -> None:
    invoice_id = approved(world, world.active_budget())

    refused(world, err.InvalidTransitionError, credit, world, invoice_id, "CN-1", 1_00)


def test_refuses_the_same_credit_note_number_twice(world: World) -> None:
    invoice_id = paid(world, world.active_budget())
    credit(world, invoice_id, "CN-1", 1_00)

    refused(world, err.InvalidTransitionError, credit, world, invoice_id, "CN-1", 1_00)
    assert world.app.invoice(invoice_id).credited_pence == 1_00


def test_credits_restore_the_budget_but_never_exceed_what_was_paid(world: World) -> None:
    budget_id = world.active_budget()
    invoice_id = paid(world, budget_id)  # 52,000p paid
    credit(world, invoice_id, "CN-1", 30_000)
    assert world.app.budget(budget_id).available_pence == 10_000_00 - 52_000 + 30_000

    refused(world, err.CreditNoteExceedsPaidError, credit, world, invoice_id, "CN-2", 22_001)
    credit(world, invoice_id, "CN-2", 22_000)

    assert world.app.invoice(invoice_id).credited_pence == 52_000
    assert world.app.budget(budget_id).available_pence == 10_000_00


# --- batches -------------------------------------------------------------------------------


def test_a_batch_writes_the_valid_invoices_and_reports_each_refusal(world: World) -> None:
    budget_id, opened = world.active_budget(), world.opened_budget()
    post(world, world.draft(budget_id, "INV-OLD", 100, Period(date(2010, 6, 1), date(2010, 6, 7))))
    drafts = [
        world.draft(budget_id, "INV-A"),
        world.draft(budget_id, "INV-A", period=NEXT_FOUR_WEEKS),
        world.draft(budget_id, "INV-OLD", period=NEXT_FOUR_WEEKS),
        world.draft(str(UUID(int=1)), "INV-C"),
        world.draft(opened, "INV-D"),
        world.draft(budget_id, "INV-B", 3000, NEXT_FOUR_WEEKS),
    ]
    before = world.event_count()

    outcome = world.app.post_invoices(PROVIDER, drafts, world.as_provider())

    duplicate, not_found, not_active = "duplicate-invoice", "budget-not-found", "budget-not-active"
    errors = [r.get("error") for r in outcome["results"]]
    assert errors == [None, duplicate, duplicate, not_found, not_active, None]
    assert [r["index"] for r in outcome["results"]] == list(range(6))
    assert (outcome["accepted"], outcome["refused"]) == (2, 4)
    assert world.event_count() == before + 2 * 2 + 1  # two invoices, two receipts, one record
    assert world.app.budget(budget_id).outstanding_invoices_pence == 1_300 + 52_000 + 39_000
    assert world.app.budget(opened).invoices == {}


def test_a_batch_treats_two_spellings_of_one_budget_id_as_one_budget(world: World) -> None:
    budget_id = world.active_budget()
    drafts = [world.draft(budget_id, "INV-A"), world.draft(budget_id.upper(), "INV-B")]

    outcome = world.app.post_invoices(PROVIDER, drafts, world.as_provider())

    assert [r["flags"] for r in outcome["results"]] == [[], ["overlapping-period"]]
    assert world.app.budget(budget_id).outstanding_invoices_pence == 2 * 52_000


def test_a_batch_leaves_the_budget_as_posting_the_accepted_invoices_singly(world: World) -> None:
    other = World(CareLedger("memory://")).setup(pool_pence=50_000_00)
    overlapping = Period(date(2010, 4, 26), date(2010, 5, 23))
    try:
        batch_budget, single_budget = world.active_budget(), other.active_budget()
        batch = [
            world.draft(batch_budget, "INV-1"),
            world.draft(batch_budget, "INV-1"),
            world.draft(batch_budget, "INV-2", period=overlapping),
        ]
        world.app.post_invoices(PROVIDER, batch, world.as_provider())
        post(other, other.draft(single_budget, "INV-1"))
        post(other, other.draft(single_budget, "INV-2", period=overlapping))

        in_batch, singly = world.app.budget(batch_budget), other.app.budget(single_budget)
        assert in_batch.invoices == singly.invoices and len(in_batch.invoices) == 2
        assert (in_batch.version, in_batch.available_pence) == (
            singly.version,
            singly.available_pence,
        )
        assert singly.outstanding_invoices_pence == in_batch.outstanding_invoices_pence == 104_000
        flags = [world.app.invoice(i).flags for i in in_batch.invoices]
        assert flags == [other.app.invoice(i).flags for i in singly.invoices]
        assert flags == [(), ("overlapping-period",)]
    finally:
        other.app.close()


# --- double entry --------------------------------------------------------------------------


def test_the_trial_balance_is_zero_after_approving_paying_and_crediting(world: World) -> None:
    budget_id = world.active_budget()
    first = paid(world, budget_id)  # 52,000p approved and paid
    credit(world, first, "CN-1", 10_000)
    second = post(world, world.draft(budget_id, "INV-2", 3000, NEXT_FOUR_WEEKS))["invoice_id"]
    world.app.approve_invoice(second, ON, world.prov())  # 39,000p approved, not yet paid

    balances = world.trial_balance()

    assert balances["Expenses:CommissionedCare"] == 52_000 - 10_000 + 39_000
    assert balances["Liabilities:ProviderPayable"] == -39_000
    assert balances["Assets:Bank"] == -52_000 + 10_000
    assert balances["Budgets:Available"] == 10_000_00 - 52_000 + 10_000 - 39_000
    assert balances["Budgets:Drawn"] == 52_000 - 10_000 + 39_000
    assert balances["Funding:CouncilFund"] == -9_000_00
    assert sum(balances.values()) == 0


def test_a_batch_refuses_a_number_already_posted_against_another_budget(world: World) -> None:
    # given INV-1 posted against budget A
    budget_a, budget_b = world.active_budget(), world.active_budget()
    world.app.post_invoice(PROVIDER, world.draft(budget_a, "INV-1"), world.as_provider())
    before = world.event_count()
    # when a batch posts INV-1 again, against budget B, beside a good invoice
    drafts = [world.draft(budget_b, "INV-1"), world.draft(budget_b, "INV-2")]
    result = world.app.post_invoices(PROVIDER, drafts, world.as_provider())
    # then the store's uniqueness catches it, and only the good one is written
    assert [(r["accepted"], r.get("error")) for r in result["results"]] == [
        (False, "duplicate-invoice"),
        (True, None),
    ]
    assert world.event_count() == before + 3  # invoice, budget mirror, command record
    assert list(world.app.budget(budget_b).invoices) == [result["results"][1]["invoice_id"]]
