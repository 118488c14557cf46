"""The log as the checks read it (``projections.logread``: straight from the event table, a page
read ahead): the very values the library's notifications carry, on every store and across page
boundaries; and the chain check, which compares a page at a time, still names the first bad
position wherever in a page it falls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from projections import logread
from projections.chain import canonical, canonical_bytes
from projections.merkle import leaf_bytes, leaf_of
from projections.service import LedgerService
from projections.verify import check_chain, check_merkle, store_notifications, verify
from tests.integration.test_backends import run_scenario
from tests.integration.test_tamper import events_table, first_failure, raw
from tests.support import World

PAGE = 7  # small pages: a scenario's log spans many, and tampering can sit on their edges


def opened(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LedgerService]:
    """A store at ``url`` holding the scenario, read in small pages."""
    monkeypatch.setattr(logread, "PAGE", PAGE)
    svc = LedgerService(url)
    run_scenario(World(svc.app).setup(pool_pence=50_000_00))
    yield svc
    svc.close()


@pytest.fixture
def service(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LedgerService]:
    yield from opened(database_url, monkeypatch)


def library_values(service: LedgerService, stop: int | None = None) -> list[logread.Stored]:
    return [
        (n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
        for n in store_notifications(service.app, stop)
    ]


def test_the_stored_events_are_the_library_notifications(service: LedgerService) -> None:
    head = service.runner.head()
    assert head > 3 * PAGE

    for stop in (None, head, PAGE, PAGE + 1, 2 * PAGE - 1, 1):
        read = list(logread.stored_events(service.app.recorder, stop))
        assert read == library_values(service, stop)
    pages = list(logread.stored_pages(service.app.recorder))
    assert [len(p) for p in pages[:-1]] == [PAGE] * (len(pages) - 1) and len(pages[-1]) > 0


def test_the_hashed_bytes_are_the_ones_the_views_hashed(service: LedgerService) -> None:
    notes = list(store_notifications(service.app))
    read = list(logread.stored_events(service.app.recorder))

    assert [canonical(*r) for r in read] == [canonical_bytes(n) for n in notes]
    assert [leaf_of(*r) for r in read] == [leaf_bytes(n) for n in notes]


def test_verify_counts_every_event_a_page_at_a_time(service: LedgerService) -> None:
    told: list[int] = []

    report = verify(service.app, service.runner, on_events=told.append)

    assert report.ok, report.as_dict()
    assert sum(told) == service.runner.head() and max(told) == PAGE
    assert check_merkle(service.app, service.db).ok


@pytest.fixture
def stored(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LedgerService]:
    """A SQLite store (its rows can be rewritten in place) with small pages."""
    yield from opened(sqlite_url, monkeypatch)


@pytest.mark.parametrize("position", [1, PAGE, PAGE + 1, 2 * PAGE, 2 * PAGE + 1])
def test_an_edit_on_either_side_of_a_page_edge_is_named(
    stored: LedgerService, position: int
) -> None:
    table, pos = events_table(stored)
    (state,) = raw(stored, f"SELECT state FROM {table} WHERE {pos} = ?", (position,))[0]
    raw(stored, f"UPDATE {table} SET state = ? WHERE {pos} = ?", (bytes(state) + b" ", position))

    assert first_failure(stored) == ("hash-chain", position)


@pytest.mark.parametrize("where", ["a page's last", "a page's first", "the log's last"])
def test_a_deleted_event_is_named(stored: LedgerService, where: str) -> None:
    head = stored.runner.head()
    position = {"a page's last": PAGE, "a page's first": PAGE + 1, "the log's last": head}[where]
    table, pos = events_table(stored)
    raw(stored, f"DELETE FROM {table} WHERE {pos} = ?", (position,))

    check = check_chain(stored.app, stored.db)

    assert (check.ok, check.first_bad_position) == (False, position)
    assert check.detail == f"event {position} is missing from the store"


def test_an_audit_hash_in_capitals_is_not_the_hash_recorded(stored: LedgerService) -> None:
    """The page's hashes are compared as the text the view wrote: the same digits in capitals
    are a rewritten row, as they were when every position was compared alone."""
    raw(stored, "UPDATE v_audit SET hash = upper(hash) WHERE position = ?", (PAGE + 2,))

    check = check_chain(stored.app, stored.db)

    assert (check.ok, check.first_bad_position) == (False, PAGE + 2)
    assert check.detail == f"position {PAGE + 2}: hash differs"


def test_a_state_rewritten_as_text_is_hashed_marked(stored: LedgerService) -> None:
    """A state stored as TEXT (behind the library's back) never hashes as its bytes did."""
    table, pos = events_table(stored)
    raw(stored, f"UPDATE {table} SET state = CAST(state AS TEXT) WHERE {pos} = ?", (PAGE + 3,))
    (kind,) = raw(stored, f"SELECT typeof(state) FROM {table} WHERE {pos} = ?", (PAGE + 3,))[0]
    assert kind == "text"

    assert first_failure(stored) == ("hash-chain", PAGE + 3)


def test_an_aggregate_id_stored_otherwise_is_read_as_the_library_reads_it(
    stored: LedgerService,
) -> None:
    """Ids are stored as 32 lower-case hex digits; one in capitals is the same UUID to the
    library, so to the checks too — and the chain, hashed from the UUID, still holds."""
    table, pos = events_table(stored)
    raw(stored, f"UPDATE {table} SET originator_id = upper(originator_id) WHERE {pos} = 3")

    read = list(logread.stored_events(stored.app.recorder))

    assert read == library_values(stored)
    assert check_chain(stored.app, stored.db).ok


def test_hashes_shifted_across_rows_are_not_the_hashes_recorded(stored: LedgerService) -> None:
    """One row's last digit moved to the front of the next: the page's hashes run together
    are the same text, row by row they are not — the page is compared with separators."""
    k = PAGE + 2
    rows = raw(
        stored, "SELECT hash FROM v_audit WHERE position IN (?, ?) ORDER BY position", (k, k + 1)
    )
    (a,), (b,) = rows
    raw(stored, "UPDATE v_audit SET hash = ? WHERE position = ?", (a[:-1], k))
    raw(stored, "UPDATE v_audit SET hash = ? WHERE position = ?", (a[-1] + b, k + 1))

    check = check_chain(stored.app, stored.db)

    assert (check.ok, check.first_bad_position) == (False, k)
    assert check.detail == f"position {k}: hash differs"
