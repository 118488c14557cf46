"""A refused duplicate invoice writes nothing to the ledger, yet shows in the exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ledger.errors import DuplicateInvoiceError
from projections.service import LedgerService
from projections.views.exceptions_query import exceptions
from tests.support import COUNCIL, PROVIDER, World


@pytest.fixture
def service(database_url: str) -> Iterator[LedgerService]:
    svc = LedgerService(database_url)
    yield svc
    svc.close()


def duplicates(service: LedgerService) -> list[dict[str, object]]:
    page = exceptions(service.db, COUNCIL, "duplicate-invoice-attempt", on=date(2100, 1, 1))
    return page["items"]


def test_a_refused_duplicate_is_listed_with_its_council_and_budget(service: LedgerService) -> None:
    # given an invoice posted once
    world = World(service.app).setup()
    budget_id = world.active_budget()
    first = service.app.post_invoice(PROVIDER, world.draft(budget_id, "INV-7"), world.as_provider())
    before = world.event_count()
    # when the care firm posts the same number again
    with pytest.raises(DuplicateInvoiceError):
        service.app.post_invoice(PROVIDER, world.draft(budget_id, "INV-7"), world.as_provider())
    # then the ledger holds nothing new, and the exceptions show the attempt
    assert world.event_count() == before
    [item] = duplicates(service)
    assert (item["council"], item["budget_id"], item["invoice_id"], item["provider"]) == (
        COUNCIL, budget_id, first["invoice_id"], PROVIDER,
    )  # fmt: skip
    assert item["detail"] == "invoice INV-7 posted again"


def test_duplicates_inside_a_batch_are_listed_once_each(service: LedgerService) -> None:
    world = World(service.app).setup()
    budget_id = world.active_budget()
    drafts = [world.draft(budget_id, "INV-1"), world.draft(budget_id, "INV-1")]

    result = service.app.post_invoices(PROVIDER, drafts, world.as_provider())

    assert (result["accepted"], result["refused"]) == (1, 1)
    assert len(duplicates(service)) == 1
    assert (
        exceptions(service.db, "E06000001", "duplicate-invoice-attempt", on=date(2100, 1, 1))[
            "items"
        ]
        == []
    )
