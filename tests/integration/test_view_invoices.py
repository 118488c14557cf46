"""Invoice status: every invoice's current state and its history, filtered and paged, the same
however the log is paged and after a rebuild, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from ledger.values import Deployment, Period
from projections.db import ViewDb, open_view_db
from projections.runner import Runner
from projections.views.invoices import InvoicesView, get_invoice, list_invoices
from tests.support import (
    COUNCIL,
    FOUR_WEEKS,
    HOME_CARE,
    OTHER_COUNCIL,
    PROVIDER,
    START,
    World,
    allocation,
)

OTHER_PROVIDER = "1-202345678"
MAY = Period(date(2010, 5, 3), date(2010, 5, 30))
LATE_APRIL = Period(date(2010, 4, 19), date(2010, 5, 2))


@pytest.fixture
def db(database_url: str) -> Iterator[ViewDb]:
    views = open_view_db(database_url)
    yield views
    views.close()


def other_council_budget(world: World) -> str:
    """A council-managed budget in a second council, approved on 5 April 2010."""
    app = world.app
    app.register_council(OTHER_COUNCIL, "Sheffield", date(2010, 4, 1), world.admin())
    budget_id: str = app.open_budget(
        OTHER_COUNCIL, "person-sheffield", "mental-health", START, world.prov()
    )["budget_id"]
    app.agree_support_plan(budget_id, (HOME_CARE,), START, world.prov())
    app.approve_budget(budget_id, allocation(), START, world.prov())
    app.choose_deployment(budget_id, Deployment("council-managed"), START, world.prov())
    return budget_id


def invoice_scenario(world: World) -> dict[str, str]:
    """Six invoices at £13 an hour against a plan of 10 hours a week (£130): returns their ids."""
    app = world.app
    app.register_provider(OTHER_PROVIDER, "Bridge Care Ltd", date(2009, 1, 1), world.admin())
    budget_id = world.active_budget()
    other_budget = other_council_budget(world)
    other = world.prov("provider", OTHER_PROVIDER)

    def post(number: str, hours: int, period: Period, budget: str = budget_id) -> str:
        by = other if number == "INV-E" else world.as_provider()
        provider = OTHER_PROVIDER if number == "INV-E" else PROVIDER
        draft = world.draft(budget, number, hours * 100, period)
        return str(app.post_invoice(provider, draft, by)["invoice_id"])

    # A: April's four weeks, 40 hours (£520, as planned): approved, paid, £60 credited.
    a = post("INV-A", 40, FOUR_WEEKS)
    app.approve_invoice(a, date(2010, 5, 4), world.prov())
    app.pay_invoice(a, "BACS-0001", date(2010, 5, 5), world.prov())
    app.issue_credit_note(a, "CN-1", 60_00, date(2010, 5, 6), world.as_provider())
    # B: May, 50 hours (£650 > £520 + 5%): flagged over plan, disputed, rejected.
    b = post("INV-B", 50, MAY)
    app.dispute_invoice(b, date(2010, 6, 1), world.prov(reason="over-plan"))
    app.reject_invoice(b, date(2010, 6, 2), world.prov(reason="over-plan"))
    # C: the last two weeks of April again, 20 hours (£260): flagged overlapping, approved anyway.
    c = post("INV-C", 20, LATE_APRIL)
    app.approve_invoice(c, date(2010, 5, 10), world.prov(reason="second-carer"))
    # D: May again once B is rejected, 40 hours (£520): awaiting approval.
    d = post("INV-D", 40, MAY)
    # E: a firm the plan does not name, 10 hours in April (£130): flagged over plan.
    e = post("INV-E", 10, FOUR_WEEKS)
    # F: April in the other council, 40 hours (£520): approved and paid.
    f = post("INV-F", 40, FOUR_WEEKS, other_budget)
    app.approve_invoice(f, date(2010, 5, 4), world.prov())
    app.pay_invoice(f, "BACS-0002", date(2010, 5, 5), world.prov())
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "budget": budget_id}


def all_rows(db: ViewDb) -> list[list[dict[str, Any]]]:
    return [
        db.query("SELECT * FROM v_invoices ORDER BY invoice_id"),
        db.query("SELECT * FROM v_invoice_history ORDER BY invoice_id, version"),
    ]


def test_an_invoice_shows_its_current_state_and_each_step_of_its_history(
    world: World, db: ViewDb
) -> None:
    ids = invoice_scenario(world)

    Runner(world.app, db, [InvoicesView()]).catch_up()
    invoice = get_invoice(db, ids["A"])

    assert invoice is not None
    history = invoice.pop("history")
    assert {k: v for k, v in invoice.items() if not k.endswith("_position")} == {
        "invoice_id": ids["A"],
        "council": COUNCIL,
        "budget_id": ids["budget"],
        "provider": PROVIDER,
        "invoice_number": "INV-A",
        "period_start": "2010-04-05",
        "period_end": "2010-05-02",
        "service_month": "2010-04",
        "amount_pence": 520_00,
        "status": "paid",
        "flags": "",
        "approved_pence": 520_00,
        "paid_pence": 520_00,
        "credit_notes_pence": 60_00,
        "remittance_ref": "BACS-0001",
        "version": 4,
    }
    steps = [
        (h["version"], h["status"], h["event_type"], h["effective_on"], h["actor_role"],
         h["amount_pence"])
        for h in history
    ]  # fmt: skip
    assert steps == [
        (1, "posted", "Invoice.Posted", "2010-05-02", "provider", 520_00),
        (2, "approved", "Invoice.Approved", "2010-05-04", "council", 520_00),
        (3, "paid", "Invoice.Paid", "2010-05-05", "council", 520_00),
        (4, "paid", "Invoice.CreditNoteIssued", "2010-05-06", "provider", 60_00),
    ]
    positions = [h["position"] for h in history]
    assert positions == sorted(positions)
    assert (invoice["posted_position"], invoice["updated_position"]) == (
        positions[0],
        positions[-1],
    )


def test_a_flagged_invoice_keeps_its_flags_and_the_reasons_for_its_dispute_and_rejection(
    world: World, db: ViewDb
) -> None:
    ids = invoice_scenario(world)

    Runner(world.app, db, [InvoicesView()]).catch_up()
    rejected = get_invoice(db, ids["B"])
    overlapping = get_invoice(db, ids["C"])

    assert rejected is not None and overlapping is not None
    assert (rejected["status"], rejected["flags"], rejected["amount_pence"]) == (
        "rejected",
        "over-plan",
        650_00,
    )
    assert [(h["status"], h["reason"]) for h in rejected["history"]] == [
        ("flagged", None),
        ("disputed", "over-plan"),
        ("rejected", "over-plan"),
    ]
    assert (overlapping["status"], overlapping["flags"], overlapping["approved_pence"]) == (
        "approved",
        "overlapping-period",
        260_00,
    )
    assert overlapping["history"][-1]["reason"] == "second-carer"
    assert get_invoice(db, "no-such-invoice") is None


def test_invoices_list_by_provider_council_and_status_in_posting_order(
    world: World, db: ViewDb
) -> None:
    ids = invoice_scenario(world)
    Runner(world.app, db, [InvoicesView()]).catch_up()

    def numbers(**filters: Any) -> list[str]:
        return [r["invoice_number"] for r in list_invoices(db, **filters)]

    assert numbers() == ["INV-A", "INV-B", "INV-C", "INV-D", "INV-E", "INV-F"]
    assert numbers(provider=OTHER_PROVIDER) == ["INV-E"]
    assert numbers(council=OTHER_COUNCIL) == ["INV-F"]
    assert numbers(provider=PROVIDER, council=COUNCIL, status="approved") == ["INV-C"]
    assert numbers(status="flagged") == ["INV-E"]
    assert numbers(status="posted") == ["INV-D"]
    assert numbers(budget_id=ids["budget"], status="paid") == ["INV-A"]


def test_the_cursor_pages_through_invoices_without_gaps_or_repeats(
    world: World, db: ViewDb
) -> None:
    invoice_scenario(world)
    Runner(world.app, db, [InvoicesView()]).catch_up()

    pages, after = [], None
    while page := list_invoices(db, limit=4, after=after):
        pages.append([r["invoice_number"] for r in page])
        after = page[-1]["posted_position"]

    assert pages == [["INV-A", "INV-B", "INV-C", "INV-D"], ["INV-E", "INV-F"]]


def test_page_size_one_and_five_hundred_give_identical_rows(world: World, db: ViewDb) -> None:
    invoice_scenario(world)
    Runner(world.app, db, [InvoicesView()], page_size=1).catch_up()
    one_by_one = all_rows(db)

    Runner(world.app, db, [InvoicesView()], page_size=500).rebuild(["invoices"])

    assert all_rows(db) == one_by_one
    assert [len(rows) for rows in one_by_one] == [6, 4 + 3 + 2 + 1 + 1 + 3]


def test_a_rebuild_equals_the_view_kept_live_command_by_command(world: World, db: ViewDb) -> None:
    runner = Runner(world.app, db, [InvoicesView()])
    invoice_scenario(world)
    runner.catch_up()
    app = world.app
    late = world.draft(world.active_budget(), "INV-G", 1000, FOUR_WEEKS)
    g = app.post_invoice(PROVIDER, late, world.as_provider())["invoice_id"]
    runner.catch_up()
    app.approve_invoice(g, date(2010, 5, 20), world.prov())
    runner.catch_up()
    live = all_rows(db)

    runner.rebuild(["invoices"])

    assert all_rows(db) == live
    assert get_invoice(db, g) is not None
