"""Every exception carries two times — its business date (``effective_on``) and the instant the
ledger learned of it (``recorded_at``) — and the list is bounded by either. A refused duplicate is
dated by the refused invoice, not by the wall clock. On memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ledger.errors import DuplicateInvoiceError
from ledger.values import Period
from projections.refusals import RefusalLog
from projections.runner import Runner
from projections.service import LedgerService
from projections.views.audit import utc_stamp
from projections.views.exceptions import ExceptionsView
from projections.views.exceptions_query import exceptions
from tests.support import COUNCIL, PROVIDER, World

JUNE = Period(date(2010, 6, 1), date(2010, 6, 28))
JULY = Period(date(2010, 7, 1), date(2010, 7, 28))
DUPLICATE = "duplicate-invoice-attempt"


@pytest.fixture
def service(database_url: str) -> Iterator[LedgerService]:
    svc = LedgerService(database_url)
    yield svc
    svc.close()


@pytest.fixture
def world(service: LedgerService) -> World:
    return World(service.app).setup()


def post(world: World, budget_id: str, number: str, period: Period) -> dict[str, Any]:
    draft = world.draft(budget_id, number, 4000, period)
    return world.app.post_invoice(PROVIDER, draft, world.as_provider())


def items(service: LedgerService, **filters: Any) -> list[dict[str, Any]]:
    service.runner.catch_up()
    filters.setdefault("on", date(2100, 1, 1))
    return list(exceptions(service.db, COUNCIL, **filters)["items"])


def double_billing_in_june(world: World) -> str:
    """An invoice for June 2010 (dated 28 June), then an attempt to bill it again."""
    budget_id = world.active_budget()
    first = post(world, budget_id, "INV-6", JUNE)
    with pytest.raises(DuplicateInvoiceError):
        post(world, budget_id, "INV-6 ", JULY)  # a look-alike: rule 13
    return str(first["invoice_id"])


def test_a_double_billing_attempt_shows_on_its_business_date(
    service: LedgerService, world: World
) -> None:
    first = double_billing_in_june(world)

    at_august = items(service, kind=DUPLICATE, on=date(2010, 8, 31))
    before_it = items(service, kind=DUPLICATE, on=date(2010, 7, 27))

    [item] = at_august
    assert (item["invoice_id"], item["effective_on"]) == (first, JULY.end.isoformat())
    assert before_it == []


def test_a_double_billing_attempt_carries_the_instant_it_was_refused(
    service: LedgerService, world: World
) -> None:
    start = datetime.now(UTC)
    double_billing_in_june(world)
    end = datetime.now(UTC)

    [item] = items(service, kind=DUPLICATE)
    within = items(service, kind=DUPLICATE, recorded_from=start, recorded_to=end)
    later = items(service, kind=DUPLICATE, recorded_from=end + timedelta(seconds=1))

    assert utc_stamp(start) <= item["recorded_at"] <= utc_stamp(end)
    assert within == [item] and later == []


def test_stored_exceptions_carry_the_recorded_time_of_their_event(
    service: LedgerService, world: World
) -> None:
    budget_id = world.active_budget()
    early = post(world, budget_id, "INV-E", Period(date(2010, 3, 1), date(2010, 3, 28)))
    posted = next(e for e in world.events() if type(e).__name__ == "Posted")

    [flag] = items(service, kind="outside-budget-life")

    assert flag["invoice_id"] == early["invoice_id"]
    assert flag["effective_on"] == "2010-03-28"
    assert flag["recorded_at"] == utc_stamp(posted.timestamp)


@pytest.mark.parametrize(
    ("bounds", "found"),
    [
        ({"effective_from": date(2010, 6, 28)}, ["INV-6"]),
        ({"effective_to": date(2010, 5, 31)}, ["INV-5"]),
        (
            {"effective_from": date(2010, 5, 1), "effective_to": date(2010, 7, 1)},
            ["INV-5", "INV-6"],
        ),
        ({"effective_from": date(2010, 8, 1)}, []),
    ],
)
def test_bounds_stored_exceptions_by_business_date(
    service: LedgerService, world: World, bounds: dict[str, date], found: list[str]
) -> None:
    budget_id = world.active_budget()
    post(world, budget_id, "INV-5", Period(date(2010, 5, 3), date(2010, 5, 30)))
    post(world, budget_id, "INV-5B", Period(date(2010, 5, 3), date(2010, 5, 30)))
    post(world, budget_id, "INV-6", JUNE)
    post(world, budget_id, "INV-6B", JUNE)

    overlapping = items(service, kind="overlapping-period", **bounds)

    assert [i["detail"].split()[0] for i in overlapping] == [f"{n}B" for n in found]


def test_bounds_stored_exceptions_by_recorded_instant(service: LedgerService, world: World) -> None:
    budget_id = world.active_budget()
    post(world, budget_id, "INV-5", Period(date(2010, 5, 3), date(2010, 5, 30)))
    post(world, budget_id, "INV-5B", Period(date(2010, 5, 3), date(2010, 5, 30)))
    between = datetime.now(UTC)
    post(world, budget_id, "INV-6", JUNE)
    post(world, budget_id, "INV-6B", JUNE)

    before = items(service, kind="overlapping-period", recorded_to=between)
    after = items(service, kind="overlapping-period", recorded_from=between)

    assert [i["detail"].split()[0] for i in before] == ["INV-5B"]
    assert [i["detail"].split()[0] for i in after] == ["INV-6B"]


def test_an_overdue_review_carries_the_recorded_time_of_the_approval(
    service: LedgerService, world: World
) -> None:
    world.active_budget()
    approved = next(e for e in world.events() if type(e).__name__ == "Approved")

    [overdue] = items(service, kind="review-overdue", on=date(2010, 12, 1))

    assert overdue["effective_on"] == "2010-10-05"
    assert overdue["recorded_at"] == utc_stamp(approved.timestamp)


def test_a_view_made_before_recorded_times_is_projected_again(
    service: LedgerService, world: World
) -> None:
    budget_id = world.active_budget()
    post(world, budget_id, "INV-E", Period(date(2010, 3, 1), date(2010, 3, 28)))
    service.runner.catch_up()
    with service.db.transaction() as cur:  # as an older release left it
        for table in ExceptionsView.tables:
            cur.execute(f"DROP TABLE {table}")
        cur.execute(
            "CREATE TABLE v_exceptions (position BIGINT NOT NULL, seq INTEGER NOT NULL,"
            " council TEXT NOT NULL, kind TEXT NOT NULL, budget_id TEXT, invoice_id TEXT,"
            " provider TEXT, amount_pence BIGINT, effective_on TEXT NOT NULL,"
            " detail TEXT NOT NULL, PRIMARY KEY (position, seq))"
        )

    Runner(service.app, service.db, [ExceptionsView()]).catch_up()

    [flag] = items(service, kind="outside-budget-life")
    assert flag["recorded_at"] is not None and flag["effective_on"] == "2010-03-28"


def test_a_refusal_logged_before_business_dates_is_dated_when_refused(
    service: LedgerService, world: World
) -> None:
    budget_id = world.active_budget()
    first = post(world, budget_id, "INV-6", JUNE)["invoice_id"]
    with service.db.transaction() as cur:  # a refusal log from an older release
        cur.execute("DROP TABLE careledger_refusals")
        cur.execute(
            "CREATE TABLE careledger_refusals (refusal_key TEXT PRIMARY KEY,"
            " recorded_at TEXT NOT NULL, command TEXT NOT NULL, error TEXT NOT NULL,"
            " actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, command_id TEXT NOT NULL,"
            " item INTEGER NOT NULL, provider TEXT, invoice_number TEXT, invoice_id TEXT)"
        )
        cur.execute(
            "INSERT INTO careledger_refusals VALUES ('k', '2026-11-30T10:00:00.000000+00:00',"
            " 'post_invoice', 'duplicate-invoice', 'a', 'provider', 'c', -1, ?, 'INV-6', ?)",
            (PROVIDER, first),
        )

    RefusalLog(service.db)  # as the next start sets it up

    [item] = items(service, kind=DUPLICATE)
    assert (item["effective_on"], item["recorded_at"]) == (
        "2026-11-30", "2026-11-30T10:00:00.000000+00:00",
    )  # fmt: skip


def test_as_at_an_instant_a_later_double_billing_attempt_is_not_yet_known(
    service: LedgerService,
) -> None:
    from ledger.clock import recording_at
    from projections.asat import resolve, view_db

    with recording_at(datetime(2010, 7, 2, 9, tzinfo=UTC)):
        world = World(service.app).setup()
        budget_id = world.active_budget()
        post(world, budget_id, "INV-6", JUNE)
    with recording_at(datetime(2010, 8, 2, 9, tzinfo=UTC)), pytest.raises(DuplicateInvoiceError):
        post(world, budget_id, "inv-6", JULY)  # refused a month later
    service.runner.catch_up()

    def duplicates(instant: datetime) -> list[Any]:
        past = view_db(service.db, resolve(service.db, instant), instant)
        page = exceptions(past, COUNCIL, DUPLICATE, on=date(2100, 1, 1))
        return list(page["items"])

    assert duplicates(datetime(2010, 7, 20, tzinfo=UTC)) == []  # the ledger did not know it
    [then] = duplicates(datetime(2010, 8, 20, tzinfo=UTC))
    [now] = items(service, kind=DUPLICATE)
    assert then == now
    assert now["recorded_at"] == "2010-08-02T09:00:00.000000+00:00"  # by the ledger's clock
