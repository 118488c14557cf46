"""Rule 12: every money entry's effective date lies inside the budget's life — not before its
approval (the allocation is effective from the approval's date; the approval itself not before
the opening) — and after its end only what settles care delivered before the end. Refused as
``EffectiveDateOutsideBudgetError``, writing nothing. On memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from ledger.errors import EffectiveDateOutsideBudgetError
from ledger.values import Deployment, Period
from tests.support import FOUR_WEEKS, PROVIDER, START, World, allocation

DAY_BEFORE = START - timedelta(days=1)
IN_1995 = date(1995, 6, 1)
LATER = START + timedelta(weeks=10)
END = date(2010, 9, 30)
AFTER_END = date(2010, 10, 20)
DIRECT = Deployment("direct-payment")


def refused_outside_life(world: World, command: Callable[[], Any], day: date) -> dict[str, Any]:
    """Then: the command is refused as outside the budget's life and writes nothing."""
    before = world.event_count()
    with pytest.raises(EffectiveDateOutsideBudgetError) as refusal:
        command()
    assert world.event_count() == before
    assert refusal.value.facts["date"] == day.isoformat()
    return refusal.value.facts


def cash_budget(world: World) -> str:
    return world.active_budget(allocation(total=10_400_00, client=1_040_00, contingency=0), DIRECT)


def cash(world: World, budget_id: str, on: date, period: Period = FOUR_WEEKS) -> Any:
    return world.app.issue_cash_payment(budget_id, 400_00, period, on, world.prov())


def test_refuses_a_cash_payment_effective_years_before_the_budget_existed(world: World) -> None:
    budget_id = cash_budget(world)
    period_1995 = Period(IN_1995, IN_1995 + timedelta(days=27))

    facts = refused_outside_life(
        world, lambda: cash(world, budget_id, IN_1995, period_1995), IN_1995
    )

    assert facts["budget_id"] == budget_id
    assert facts["budget_starts_on"] == START.isoformat() and facts["budget_ends_on"] is None
    assert world.app.budget(budget_id).drawn_pence == 0


def test_refuses_a_cash_payment_whose_service_period_starts_before_approval(world: World) -> None:
    budget_id = cash_budget(world)
    early = Period(DAY_BEFORE, DAY_BEFORE + timedelta(days=27))

    facts = refused_outside_life(world, lambda: cash(world, budget_id, START, early), DAY_BEFORE)

    assert facts["date_field"] == "period.start"


def test_accepts_a_cash_payment_on_the_day_of_approval(world: World) -> None:
    budget_id = cash_budget(world)

    cash(world, budget_id, START)

    assert world.app.budget(budget_id).cash_paid_pence == 400_00


def test_refuses_an_approval_effective_before_the_budget_opened(world: World) -> None:
    budget_id = world.opened_budget()

    refused_outside_life(
        world,
        lambda: world.app.approve_budget(budget_id, allocation(), DAY_BEFORE, world.prov()),
        DAY_BEFORE,
    )


def test_refuses_a_revision_effective_before_approval(world: World) -> None:
    budget_id = world.active_budget()
    bigger = allocation(total=11_000_00)

    refused_outside_life(
        world,
        lambda: world.app.revise_budget(budget_id, bigger, DAY_BEFORE, world.prov()),
        DAY_BEFORE,
    )


@pytest.mark.parametrize("command", ["contribution", "spend", "surplus", "recovery", "correction"])
def test_refuses_other_money_on_a_budget_effective_before_approval(
    world: World, command: str
) -> None:
    budget_id = cash_budget(world)
    paid = cash(world, budget_id, START)
    app, prov = world.app, world.prov(reason="keying-error")
    commands: dict[str, Callable[[], Any]] = {
        "contribution": lambda: app.receive_contribution(budget_id, 10_00, DAY_BEFORE, prov),
        "spend": lambda: app.report_direct_payment_spend(
            budget_id, 10_00, FOUR_WEEKS, DAY_BEFORE, prov
        ),
        "surplus": lambda: app.identify_surplus(budget_id, DAY_BEFORE, prov),
        "recovery": lambda: app.recover_surplus(budget_id, None, DAY_BEFORE, prov),
        "correction": lambda: app.correct_entry(
            f"{budget_id}/{paid['version']}", 10_00, DAY_BEFORE, prov
        ),
    }

    refused_outside_life(world, commands[command], DAY_BEFORE)


@pytest.mark.parametrize("step", ["approval", "payment", "credit note"])
def test_refuses_invoice_money_effective_before_the_budget_was_approved(
    world: World, step: str
) -> None:
    budget_id = world.active_budget()
    invoice = world.app.post_invoice(PROVIDER, world.draft(budget_id), world.as_provider())
    invoice_id = invoice["invoice_id"]
    app = world.app
    if step != "approval":
        app.approve_invoice(invoice_id, LATER, world.prov())
    if step == "credit note":
        app.pay_invoice(invoice_id, "BACS-1", LATER, world.prov())
    commands: dict[str, Callable[[], Any]] = {
        "approval": lambda: app.approve_invoice(invoice_id, DAY_BEFORE, world.prov()),
        "payment": lambda: app.pay_invoice(invoice_id, "BACS-1", DAY_BEFORE, world.prov()),
        "credit note": lambda: app.issue_credit_note(
            invoice_id, "CN-1", 1_00, DAY_BEFORE, world.as_provider()
        ),
    }

    refused_outside_life(world, commands[step], DAY_BEFORE)


def ended_cash_budget(world: World) -> str:
    """A direct payment with £2,000 paid, then ended on 30 September 2010."""
    budget_id = cash_budget(world)
    world.app.issue_cash_payment(budget_id, 2_000_00, FOUR_WEEKS, START, world.prov())
    world.app.end_budget(budget_id, "death", END, world.prov())
    return budget_id


def test_after_the_end_accepts_what_settles_care_delivered_before_it(world: World) -> None:
    budget_id = ended_cash_budget(world)
    app = world.app

    app.report_direct_payment_spend(budget_id, 300_00, FOUR_WEEKS, AFTER_END, world.prov())
    app.receive_contribution(budget_id, 50_00, AFTER_END, world.prov())
    app.recover_surplus(budget_id, None, AFTER_END, world.prov())

    budget = app.budget(budget_id)
    assert (budget.dp_spend_pence, budget.contributions_received_pence) == (300_00, 50_00)
    # £1,700 held less 8 weeks' £1,600 threshold: £100 recovered after the end
    assert budget.recovered_pence == 100_00


def test_after_the_end_refuses_spend_for_care_after_the_end(world: World) -> None:
    budget_id = ended_cash_budget(world)
    past_end = Period(date(2010, 9, 20), date(2010, 10, 17))

    facts = refused_outside_life(
        world,
        lambda: world.app.report_direct_payment_spend(
            budget_id, 10_00, past_end, AFTER_END, world.prov()
        ),
        past_end.end,
    )

    assert facts["date_field"] == "period.end" and facts["budget_ends_on"] == END.isoformat()
