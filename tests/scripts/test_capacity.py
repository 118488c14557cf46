"""The capacity model: power laws fitted to the longest runs, checked on the run before."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.capacity import DECADE, NATIONAL_YEAR, capacity, exponent, project


def _run(events: int, **figures: Any) -> dict[str, Any]:
    base = {
        "demo_seconds": events / 1000,  # linear
        "rebuild_seconds": (events / 1000) ** 1.2,  # a little worse than linear
        "raw_read_seconds": events / 100_000,
        "rebuild_peak_rss_mb": 100.0,  # flat
        "demo_peak_rss_mb": 100.0 * (events / 100_000) ** 0.5,
        "bytes_per_event": {"events": 680.0, "live_views": 1900.0, "history": 700.0},
    }
    return {"events": events, **base, **figures}


def test_exponents_of_exact_power_laws() -> None:
    assert exponent((100, 5.0), (1000, 50.0)) == pytest.approx(1.0)
    assert exponent((100, 5.0), (1000, 5.0)) == pytest.approx(0.0)
    assert exponent((100, 1.0), (1000, 100.0)) == pytest.approx(2.0)
    assert project((1000, 50.0), 1.0, 10_000) == pytest.approx(500.0)
    with pytest.raises(ValueError):
        exponent((1000, 5.0), (1000, 6.0))
    with pytest.raises(ValueError):
        exponent((100, 0.0), (1000, 6.0))


def test_the_model_extrapolates_each_figure_from_the_two_longest_runs() -> None:
    model = capacity([_run(5_000_000), _run(100_000), _run(1_000_000)])  # any order

    assert model["fitted_on_events"] == [1_000_000, 5_000_000]
    f = model["figures"]
    assert f["demo_seconds"]["exponent"] == pytest.approx(1.0)
    assert f["demo_seconds"]["national_year"] == pytest.approx(NATIONAL_YEAR / 1000, rel=1e-6)
    assert f["rebuild_seconds"]["exponent"] == pytest.approx(1.2)
    assert f["rebuild_seconds"]["decade"] == pytest.approx((DECADE / 1000) ** 1.2, rel=1e-3)
    assert f["rebuild_peak_rss_mb"]["exponent"] == pytest.approx(0.0)
    assert f["rebuild_peak_rss_mb"]["decade"] == pytest.approx(100.0)
    assert f["event_store_bytes"]["national_year"] == pytest.approx(680.0 * NATIONAL_YEAR)
    assert f["history_bytes"]["decade"] == pytest.approx(700.0 * DECADE)
    # Verify was not measured in these runs: no figure rather than a made-up one.
    assert "verify_seconds" not in f and "verify_peak_rss_mb" not in f
    # A year's events arrive over a year: the demo at 1,000 events/s has that many times over.
    assert model["demo_headroom"] == pytest.approx(365 * 24 * 3600 / (NATIONAL_YEAR / 1000), 0.01)


def test_the_check_predicts_the_longest_run_from_the_two_before_it() -> None:
    exact = capacity([_run(100_000), _run(1_000_000), _run(5_000_000)])
    for figure in exact["figures"].values():
        assert figure["check"]["fitted_on_events"] == [100_000, 1_000_000]
        assert figure["check"]["error"] == pytest.approx(0.0, abs=0.002)
    # The longest run took twice what the smaller two foretold: the check says so.
    slow = _run(5_000_000, rebuild_seconds=2 * 5000**1.2)
    check = capacity([_run(100_000), _run(1_000_000), slow])["figures"]["rebuild_seconds"]["check"]
    assert check["predicted"] == pytest.approx(5000**1.2, rel=1e-3)
    assert check["measured"] == pytest.approx(2 * 5000**1.2, rel=1e-3)
    assert check["error"] == pytest.approx(-0.5, abs=0.001)


def test_no_model_from_fewer_than_two_lengths() -> None:
    assert capacity([]) == {}
    assert capacity([_run(1_000_000)]) == {}
    assert capacity([_run(1_000_000), _run(1_000_000)]) == {}
    two = capacity([_run(100_000), _run(1_000_000)])
    assert two["figures"]["demo_seconds"]["national_year"] > 0
    assert all("check" not in f for f in two["figures"].values())


def test_runs_from_separate_bench_results_merge_per_store_longest_last() -> None:
    from scripts.capacity import merged

    first = {"scale": {"postgres": [_run(1_000_000), _run(100_000)], "sqlite": [_run(100_000)]}}
    second = {"scale": {"postgres": [_run(5_000_000)]}}

    stores = merged([first, second, {"stores": {}}])

    assert [r["events"] for r in stores["postgres"]] == [100_000, 1_000_000, 5_000_000]
    assert [r["events"] for r in stores["sqlite"]] == [100_000]
    assert capacity(stores["postgres"])["fitted_on_events"] == [1_000_000, 5_000_000]
