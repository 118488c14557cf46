"""Short-pay: a council approves part of an invoice (to a figure or to the plan), with a reason,
and in the same command says whether the rest is disputed or rejected. Only the approved part is
charged, paid and posted. Plan: 10 h/week at £13 = 13,000p a week, 52,000p for four weeks; the
default draft bills 40 h at £13 = 52,000p.
"""

from __future__ import annotations

from datetime import date

import pytest

import ledger.errors as err
from ledger.postings import Account
from tests.support import FOUR_WEEKS, World
from tests.unit.test_invoices import ON, post, refused


def posted_invoice(world: World, hours_hundredths: int = 4000) -> tuple[str, str]:
    budget_id = world.active_budget()
    draft = world.draft(budget_id, "INV-1", hours_hundredths, FOUR_WEEKS)
    return budget_id, post(world, draft)["invoice_id"]


def test_short_pays_to_a_figure_and_disputes_the_rest(world: World) -> None:
    budget_id, invoice_id = posted_invoice(world)
    prov = world.prov(reason="two-visits-missed")

    outcome = world.app.approve_invoice(
        invoice_id, ON, prov, approved_pence=49_400, rest="disputed"
    )

    assert outcome["status"] == "approved"
    assert (outcome["approved_pence"], outcome["short_paid_pence"]) == (49_400, 2_600)
    assert outcome["short_pay_rest"] == "disputed"
    assert world.app.budget(budget_id).drawn_pence == 49_400
    world.app.pay_invoice(invoice_id, "BACS-1", date(2010, 5, 20), world.prov())
    assert world.app.invoice(invoice_id).paid_pence == 49_400
    balance = world.trial_balance()
    assert balance[Account.CARE_EXPENSE] == 49_400
    assert Account.PAYABLE not in balance or balance[Account.PAYABLE] == 0


def test_short_pays_an_over_plan_invoice_to_the_plan_and_rejects_the_rest(world: World) -> None:
    budget_id, invoice_id = posted_invoice(world, 5000)  # 50 h billed, 40 h planned
    prov = world.prov(reason="over-plan")

    outcome = world.app.approve_invoice(invoice_id, ON, prov, to_plan=True, rest="rejected")

    assert (outcome["approved_pence"], outcome["short_paid_pence"]) == (52_000, 13_000)
    assert outcome["short_pay_rest"] == "rejected"
    assert world.app.budget(budget_id).drawn_pence == 52_000


def test_to_plan_on_an_invoice_within_the_plan_approves_it_all(world: World) -> None:
    _, invoice_id = posted_invoice(world, 3000)

    outcome = world.app.approve_invoice(invoice_id, ON, world.prov(), to_plan=True)

    assert (outcome["approved_pence"], outcome["short_paid_pence"]) == (39_000, 0)
    assert outcome["short_pay_rest"] is None


@pytest.mark.parametrize(
    ("pence", "reason", "rest", "error"),
    [
        (52_001, "too-much", "disputed", err.ApprovalExceedsInvoiceError),
        (40_000, None, "disputed", err.ShortPayNeedsReasonError),
        (40_000, "missed-visits", None, err.ShortPayRestUnresolvedError),
        (40_000, "missed-visits", "ignored", err.ShortPayRestUnresolvedError),
        (0, "missed-visits", "rejected", err.InvalidCommandError),
    ],
)
def test_refuses_a_short_pay_that_breaks_a_rule_and_writes_nothing(
    world: World, pence: int, reason: str | None, rest: str | None, error: type[err.LedgerError]
) -> None:
    budget_id, invoice_id = posted_invoice(world)

    def approve() -> object:
        return world.app.approve_invoice(
            invoice_id, ON, world.prov(reason=reason), approved_pence=pence, rest=rest
        )

    refused(world, error, approve)
    assert world.app.invoice(invoice_id).status.value == "posted"
    assert world.app.budget(budget_id).drawn_pence == 0


def test_the_refusal_names_the_amounts(world: World) -> None:
    _, invoice_id = posted_invoice(world)

    with pytest.raises(err.ShortPayRestUnresolvedError) as refusal:
        world.app.approve_invoice(
            invoice_id, ON, world.prov(reason="missed"), approved_pence=50_000
        )

    facts = refusal.value.facts
    assert (facts["amount_pence"], facts["approved_pence"], facts["short_paid_pence"]) == (
        52_000,
        50_000,
        2_000,
    )


def test_refuses_both_a_figure_and_to_plan(world: World) -> None:
    _, invoice_id = posted_invoice(world)

    def approve() -> object:
        return world.app.approve_invoice(
            invoice_id, ON, world.prov(reason="x"), approved_pence=1_00, to_plan=True
        )

    refused(world, err.InvalidCommandError, approve)


def test_a_replayed_approval_from_before_short_pay_reads_as_approved_in_full(
    world: World,
) -> None:
    """Approvals stored before short-pay (event version 1) are upcast: nothing short-paid."""
    from ledger.invoice import Invoice

    state = {"amount_pence": 1, "effective_on": ON}
    Invoice.Approved.upcast_v1_v2(state)

    assert state == {"amount_pence": 1, "effective_on": ON, "short_paid_pence": 0,
                     "short_pay_rest": None}  # fmt: skip
