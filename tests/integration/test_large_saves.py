"""A save of tens of thousands of events commits on PostgreSQL (psycopg's pipeline mode stalls
on such a statement; the recorder leaves pipeline mode for large saves)."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.application import CareLedger
from ledger.errors import DuplicateInvoiceError
from ledger.provenance import Provenance
from ledger.provider import Provider
from projections.stores.pg_recorder import LargeSaveRecorder
from tests.support import PROVIDER, World, count_events

pytestmark = pytest.mark.postgres


@pytest.mark.timeout(120)
def test_one_save_of_twenty_thousand_events_commits(postgres_url: str) -> None:
    app = CareLedger(postgres_url)
    assert isinstance(app.recorder, LargeSaveRecorder)
    prov = Provenance("admin-1", "admin", "bulk")
    providers = [
        Provider.register(f"1-{n:09d}", "Firm", date(2009, 1, 1), prov) for n in range(20_000)
    ]

    app.save(*providers)

    assert count_events(app) == 20_000
    app.close()


@pytest.mark.timeout(120)
def test_a_large_save_still_refuses_a_duplicate_atomically(postgres_url: str) -> None:
    app = CareLedger(postgres_url)
    app.recorder.pipeline_limit = 0  # type: ignore[attr-defined]  # every save takes the large path
    world = World(app).setup()
    budget_a, budget_b = world.active_budget(), world.active_budget()
    app.post_invoice(PROVIDER, world.draft(budget_a, "INV-1"), world.as_provider())
    before = world.event_count()

    result = app.post_invoices(
        PROVIDER,
        [world.draft(budget_b, "INV-1"), world.draft(budget_b, "INV-2")],
        world.as_provider(),
    )

    assert [r.get("error") for r in result["results"]] == [DuplicateInvoiceError.code, None]
    assert world.event_count() == before + 3
    app.close()
