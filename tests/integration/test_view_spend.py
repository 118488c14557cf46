"""Spend by provider: per council, provider and service month, invoices by stage in counts and
pence; the same however the log is paged and after a rebuild, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from projections.db import ViewDb, open_view_db
from projections.runner import Runner
from projections.views.spend import AMOUNTS, SpendByProviderView, spend_by_provider
from tests.integration.test_view_invoices import OTHER_PROVIDER, invoice_scenario
from tests.support import COUNCIL, OTHER_COUNCIL, PROVIDER, World


@pytest.fixture
def db(database_url: str) -> Iterator[ViewDb]:
    views = open_view_db(database_url)
    yield views
    views.close()


def measures(**figures: tuple[int, int]) -> dict[str, int]:
    """Every measure as (count, pence); those not named are (0, 0)."""
    row = dict.fromkeys(AMOUNTS, 0)
    for measure, (count, pence) in figures.items():
        row[f"{measure}_count"], row[f"{measure}_pence"] = count, pence
    return row


# Hand-computed from invoice_scenario: £13 an hour; A 40h, B 50h, C 20h, D 40h, E 10h, F 40h.
APRIL = measures(  # A (£520) approved, paid, £60 credited; C (£260) flagged, approved
    invoiced=(2, 780_00), flagged=(1, 260_00), approved=(2, 780_00), paid=(1, 520_00),
    credit_notes=(1, 60_00),
)  # fmt: skip
MAY = measures(  # B (£650) flagged, disputed, rejected; D (£520) awaiting approval
    invoiced=(2, 1_170_00), flagged=(1, 650_00), disputed=(1, 650_00), rejected=(1, 650_00)
)
FIRM_E_APRIL = measures(invoiced=(1, 130_00), flagged=(1, 130_00))  # E
OTHER_COUNCIL_APRIL = measures(invoiced=(1, 520_00), approved=(1, 520_00), paid=(1, 520_00))


def all_rows(db: ViewDb) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM v_spend_by_provider ORDER BY council, provider, month")


def test_each_provider_month_counts_its_invoices_by_stage(world: World, db: ViewDb) -> None:
    invoice_scenario(world)

    Runner(world.app, db, [SpendByProviderView()]).catch_up()

    assert all_rows(db) == [
        {"council": OTHER_COUNCIL, "provider": PROVIDER, "month": "2010-04", **OTHER_COUNCIL_APRIL},
        {"council": COUNCIL, "provider": PROVIDER, "month": "2010-04", **APRIL},
        {"council": COUNCIL, "provider": PROVIDER, "month": "2010-05", **MAY},
        {"council": COUNCIL, "provider": OTHER_PROVIDER, "month": "2010-04", **FIRM_E_APRIL},
    ]  # fmt: skip


def test_spend_by_provider_totals_a_councils_months_as_integer_pence(
    world: World, db: ViewDb
) -> None:
    invoice_scenario(world)
    Runner(world.app, db, [SpendByProviderView()]).catch_up()

    totals = spend_by_provider(db, council=COUNCIL)

    both_months = {k: APRIL[k] + MAY[k] for k in AMOUNTS}
    assert totals == [
        {"council": COUNCIL, "provider": PROVIDER, **both_months},
        {"council": COUNCIL, "provider": OTHER_PROVIDER, **FIRM_E_APRIL},
    ]
    assert all(type(row[k]) is int for row in totals for k in AMOUNTS)  # not Decimal


def test_spend_by_provider_keeps_to_the_months_asked_for(world: World, db: ViewDb) -> None:
    invoice_scenario(world)
    Runner(world.app, db, [SpendByProviderView()]).catch_up()

    may = spend_by_provider(db, COUNCIL, month_from="2010-05", month_to="2010-05")
    april = spend_by_provider(db, COUNCIL, month_to="2010-04", provider=PROVIDER, by_month=True)
    everywhere = spend_by_provider(db, month_from="2010-04", by_month=True)

    assert may == [{"council": COUNCIL, "provider": PROVIDER, **MAY}]
    assert april == [{"council": COUNCIL, "provider": PROVIDER, "month": "2010-04", **APRIL}]
    assert len(everywhere) == 4
    assert spend_by_provider(db, month_from="2010-06") == []


def test_page_size_one_and_five_hundred_give_identical_rows(world: World, db: ViewDb) -> None:
    invoice_scenario(world)
    Runner(world.app, db, [SpendByProviderView()], page_size=1).catch_up()
    one_by_one = all_rows(db)

    Runner(world.app, db, [SpendByProviderView()], page_size=500).rebuild(["spend"])

    assert all_rows(db) == one_by_one
    assert len(one_by_one) == 4


def test_a_rebuild_equals_the_view_kept_live_command_by_command(world: World, db: ViewDb) -> None:
    runner = Runner(world.app, db, [SpendByProviderView()])
    ids = invoice_scenario(world)
    runner.catch_up()
    world.app.approve_invoice(ids["D"], date(2010, 6, 3), world.prov())
    runner.catch_up()
    world.app.pay_invoice(ids["D"], "BACS-0003", date(2010, 6, 4), world.prov())
    runner.catch_up()
    live = all_rows(db)

    runner.rebuild(["spend"])

    assert all_rows(db) == live
    may = next(r for r in live if r["month"] == "2010-05")
    assert (may["approved_count"], may["paid_pence"]) == (1, 520_00)


def test_a_short_pay_counts_approved_for_its_part_and_the_rest_as_disputed_or_rejected(
    world: World, db: ViewDb
) -> None:
    budget_id = world.active_budget()
    app, prov = world.app, world.prov
    for number, rest, approved in (("SP-1", "disputed", 40_000), ("SP-2", "rejected", 50_000)):
        draft = world.draft(budget_id, number, 4000)  # £520 billed
        invoice_id = app.post_invoice(PROVIDER, draft, world.as_provider())["invoice_id"]
        app.approve_invoice(invoice_id, date(2010, 5, 10), prov(reason="missed-visits"),
                            approved_pence=approved, rest=rest)  # fmt: skip

    Runner(app, db, [SpendByProviderView()]).catch_up()

    assert all_rows(db) == [
        {"council": COUNCIL, "provider": PROVIDER, "month": "2010-04",
         **measures(invoiced=(2, 1_040_00), flagged=(1, 520_00), approved=(2, 90_000),
                    disputed=(1, 12_000), rejected=(1, 2_000))},
    ]  # fmt: skip
