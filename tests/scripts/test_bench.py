"""The benchmark's own machinery: it does the work it reports, and measures the right process."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from ledger.application import CareLedger
from scripts.bench_commands import bench_commands
from scripts.bench_run import _memory_growth, table
from scripts.bench_scale import run_measured


def test_commands_bench_runs_each_command_and_each_raw_save(tmp_path: Path) -> None:
    app = CareLedger(f"sqlite:///{tmp_path / 'bench.db'}")
    try:
        result = bench_commands(app, commands=16)
        paid = [
            n
            for n in app.recorder.select_notifications(1, 100_000)
            if n.topic.endswith("CashPaymentIssued")
        ]
    finally:
        app.close()
    # 16 commands and 16 raw saves at each of 1 and 8 threads.
    assert len(paid) == 64
    for threads in (1, 8):
        figures = result[f"threads_{threads}"]
        assert figures["commands_per_s"] > 0 and figures["raw_save_per_s"] > 0
        # The ratio is of the unrounded rates: the rates are rounded to 0.1/s, so the ratio of
        # the rounded ones gives it back to within their relative rounding error (+ its own).
        commands, raw = figures["commands_per_s"], figures["raw_save_per_s"]
        rounding = 0.05 / commands + 0.05 / raw
        assert figures["ratio"] == pytest.approx(commands / raw, rel=rounding, abs=0.001)


def test_peak_rss_is_the_commands_own_not_the_parents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    CareLedger(url).close()  # a store to list the tokens of
    ballast = bytearray(400 * 1024 * 1024)  # the parent holds 400 MB while the child runs
    measured = run_measured(["tokens", "list"], url)
    assert len(ballast) > 0
    assert 10 < measured["peak_rss_mb"] < 300


def _scale_run(events: int, rebuild_mb: float) -> dict[str, object]:
    reads = {"p50": 1.0, "p99": 2.0}
    return {
        "events": events, "rebuild_seconds": 1.0, "raw_read_seconds": 0.1, "rebuild_ratio": 0.1,
        "rebuild_target_seconds": 120, "rebuild_peak_rss_mb": rebuild_mb, "demo_peak_rss_mb": 50.0,
        "balance_reads": {"now_ms": reads, "as_at_past_ms": reads, "primary_key_ms": reads},
    }  # fmt: skip


def test_memory_growth_compares_the_longest_history_with_the_shortest() -> None:
    scale = {"sqlite": [_scale_run(100_000, 60.0), _scale_run(1_000_000, 66.0)]}
    _memory_growth(scale)  # type: ignore[arg-type]
    assert scale["sqlite"][1]["growth"] == {
        "events_ratio": 10.0,
        "rebuild_rss_ratio": 1.1,
        "demo_rss_ratio": 1.0,
    }
    assert "growth" not in scale["sqlite"][0]
    console = Console(record=True, width=200)
    console.print(table({"stores": {}, "scale": scale}))
    text = console.export_text()
    assert "rebuild s (1,000,000 ev)" in text and "rebuild 1.1x, demo 1.0x" in text


def test_personal_data_bench_runs_the_same_commands_sealed_and_in_the_clear() -> None:
    from scripts.bench_personal import bench_personal

    result = bench_personal(people=5)

    assert result["commands"] == 20  # open, appoint, end with a reason, a note: per person
    for mode in ("sealed", "clear"):
        assert result[mode]["rebuild_events"] == result["clear"]["rebuild_events"] > 20
        assert result[mode]["commands_per_s"] > 0
    assert set(result["ratios"]) == {"commands_per_s", "rebuild_events_per_s", "reads_per_s"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


def test_snapshot_bench_loads_the_same_budget_with_and_without_snapshots(store_url: str) -> None:
    # The baseline application once read other tables on PostgreSQL (the library named it after
    # its class) and found no budget: `careledger bench` stopped there.
    from scripts.bench_history import bench_snapshots

    figures = bench_snapshots(store_url, budget_events=150, samples=3)
    assert figures["budget_events"] == 150
    assert figures["with_snapshots_p50_ms"] > 0
    assert figures["without_snapshots_p50_ms"] > 0
    ratio = figures["with_snapshots_p50_ms"] / figures["without_snapshots_p50_ms"]
    assert figures["ratio"] == pytest.approx(ratio, abs=0.01)


def test_the_live_clock_bench_rebuilds_a_log_of_one_instant_a_command(tmp_path: Path) -> None:
    from scripts.bench_history import bench_live_clock, history_rows

    figures = bench_live_clock(f"sqlite:///{tmp_path / 'live.db'}", 600)

    assert figures["events"] > 300
    for what in ("rebuild", "catch_up"):
        assert figures[what]["with_history_seconds"] > 0
        assert figures[what]["without_history_seconds"] > 0
    rows = history_rows({"live_clock": {"sqlite": figures}})
    assert [r[1].split(" @")[0] for r in rows] == ["rebuild with history", "catch_up with history"]
    assert all("each command its own instant" in r[1] for r in rows)


def test_the_bench_without_history_sizes_measures_the_snapshots_only() -> None:
    """`careledger bench` with no --history (its default) ran the live-clock log at min(()) and
    crashed before any other section; now the history section is the snapshots alone."""
    from rich.console import Console

    from scripts.bench_history import history_section

    section = history_section((), None, Console(quiet=True))

    assert list(section["snapshots"]) == ["sqlite"]
    assert section["snapshots"]["sqlite"]["with_snapshots_p50_ms"] > 0
    assert section["live_clock"] == {} and section["history"] == {}


def test_the_reads_alone_on_a_store_as_it_is(tmp_path: Path) -> None:
    """``reads_of``: each read as at past instants beside as at now, the views left as found."""
    from projections.service import LedgerService
    from scripts.bench_history import READS, reads_of
    from scripts.demo import load_demo

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    service = LedgerService(url)
    load_demo(service.app, 2011, councils=2, people=6, weeks=3, runner=service.runner)
    before = service.runner.positions()
    service.close()

    figures = reads_of(url)

    assert figures["events"] == max(before.values()) > 0
    assert set(figures["as_at_reads_ms"]) == {*READS, "budget_aggregate"}
    for read in figures["as_at_reads_ms"].values():
        assert read["as_at_p50"] > 0 and read["now_p50"] > 0
    reopened = LedgerService(url)
    assert reopened.runner.positions() == before
    reopened.close()


def test_store_bytes_splits_the_stores_bytes_into_events_views_and_history(store_url: str) -> None:
    import sqlite3

    import psycopg

    from projections.service import LedgerService
    from scripts.bench import load_synthetic
    from scripts.bench_scale import store_bytes

    service = LedgerService(store_url)
    try:
        count = load_synthetic(service.app, 400, lambda _n: None)
        service.runner.catch_up()
        size = store_bytes(service, count)
        if service.db.dialect == "postgres":
            with psycopg.connect(store_url.split("?", maxsplit=1)[0]) as conn:
                schema = store_url.split("schema=")[1]
                total = conn.execute(
                    "SELECT sum(pg_total_relation_size((quote_ident(schemaname) || '.'"
                    " || quote_ident(tablename))::regclass))"
                    " FROM pg_tables WHERE schemaname = %s",
                    (schema,),
                ).fetchone()[0]  # type: ignore[index]
        else:
            with sqlite3.connect(store_url.removeprefix("sqlite:///")) as conn:
                pages = conn.execute("PRAGMA page_count").fetchone()[0]
                total = pages * conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        service.close()
    assert size["events"] > 100 and size["live_views"] > 100 and size["history"] > 0
    assert size["history_ratio"] == pytest.approx(
        (size["live_views"] + size["history"]) / size["live_views"], abs=0.01
    )
    # The three parts are most of the store: the rest is a few small tables (tracking, keys).
    parts = (size["events"] + size["live_views"] + size["history"]) * count
    assert 0.6 * int(total) < parts <= int(total) * 1.001


def test_the_scale_table_shows_verify_bytes_read_growth_and_the_capacity_model() -> None:
    from scripts.capacity import capacity

    runs = [_scale_run(100_000, 60.0), _scale_run(1_000_000, 61.0), _scale_run(5_000_000, 62.0)]
    for run, seconds in zip(runs, (10.0, 100.0, 520.0), strict=True):
        reads = {"as_at_p99": seconds / 10, "now_p99": 1.0}
        run.update(verify_seconds=seconds, verify_peak_rss_mb=50.0, demo_seconds=seconds * 4)
        run.update(bytes_per_event={"events": 681.0, "live_views": 1900.0, "history": 400.0})
        run["as_at_reads_ms"] = {"spend_by_provider": reads}
    scale = {"postgres": runs}
    _memory_growth(scale)  # type: ignore[arg-type]
    growth = runs[2]["growth"]
    assert growth["verify_rss_ratio"] == 1.0  # type: ignore[index]
    assert growth["reads_p99"] == {"spend_by_provider": {"as_at": 52.0, "now": 1.0}}  # type: ignore[index]
    model = {"postgres": capacity(runs)}  # type: ignore[arg-type]
    console = Console(record=True, width=250)
    console.print(table({"stores": {}, "scale": scale, "capacity": model}))
    text = console.export_text()
    assert "verify s, peak RSS MB (5,000,000 ev)" in text and "520.0, 50.0" in text
    assert "681.0, 1900.0, 400.0" in text
    assert "spend_by_provider as-at p99 growth for 50.0x events" in text
    assert "verify_seconds at 25M / 250M events (k=1.024)" in text
    assert "45.1 min / 7.94 h" in text  # 520 s * (25M / 5M) ** 1.024, then * 10 ** 1.024
    assert "predicted 8.3 min, measured 8.7 min" in text and "-0.038" in text
    assert "event_store_bytes" in text and "17.02 GB / 170.25 GB" in text
