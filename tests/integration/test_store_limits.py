"""``statement_timeout`` in a PostgreSQL URL bounds every statement, on the event store's
connections and the views' alike, and a statement cut off is the named ``StoreUnavailableError``
(the API's 503), not a hang or a bare driver error. Lock timeouts and a database that goes away
are exercised against a real cluster in tests/reliability/test_db_faults.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.persistence import StoreUnavailableError
from projections.service import LedgerService

pytestmark = pytest.mark.postgres


@pytest.fixture
def service(postgres_url: str) -> Iterator[LedgerService]:
    service = LedgerService(f"{postgres_url}&statement_timeout=1", inline=False)
    yield service
    service.close()


def test_both_pools_carry_the_urls_statement_timeout(service: LedgerService) -> None:
    with service.app.factory.datastore.get_connection() as conn:  # type: ignore[attr-defined]
        events_side = conn.execute("SHOW statement_timeout").fetchone()
    with service.db.transaction(write=False) as cur:
        cur.execute("SHOW statement_timeout")
        views_side = cur.fetchone()
    assert list(events_side.values()) == ["1s"]
    assert list(views_side.values()) == ["1s"]


@pytest.mark.timeout(30)
def test_a_statement_over_the_limit_is_cut_off_as_store_unavailable(
    service: LedgerService,
) -> None:
    with (
        pytest.raises(StoreUnavailableError, match="statement timeout"),
        service.app.factory.datastore.get_connection() as conn,  # type: ignore[attr-defined]
    ):
        conn.execute("SELECT pg_sleep(5)")
    with (
        pytest.raises(StoreUnavailableError, match="statement timeout"),
        service.db.transaction(write=False) as cur,
    ):
        cur.execute("SELECT pg_sleep(5)")
    # The pools are still usable: the cut-off statement took nothing with it.
    assert service.app.recorder.max_notification_id() in (None, 0)
    with service.db.transaction(write=False) as cur:
        cur.execute("SELECT 1 AS one")
        assert cur.fetchone() == {"one": 1}
