"""The capacity model (issue 17): from the scale runs the bench measured, what a national year
(about 25 million events) and ten years of history (about 250 million) would take on this machine.

Each figure (seconds, bytes, peak RSS) is modelled as a power of the log's length fitted to the two
longest runs: ``value = measured * (events / measured events) ** k``, where ``k`` = 1 is linear,
``k`` = 0 flat (memory should be) and ``k`` > 1 worse than linear. With three runs or more the model
is checked first: ``k`` fitted to the two runs before the longest predicts the longest, and the
prediction is reported beside what was measured (the error is the model's own, on this machine).
"""

from __future__ import annotations

import math
from typing import Any

NATIONAL_YEAR = 25_000_000  # ~650k people on long-term support, ~38 events each a year
DECADE = 10 * NATIONAL_YEAR
SECONDS_A_YEAR = 365 * 24 * 3600
# (label, how to read the figure from a run): each is a total for the run's whole log.
# ``demo_seconds``: the demo writing its year through the application's commands, one process,
# and projecting it into the views at the end (``careledger demo``).
FIGURES: dict[str, Any] = {
    "demo_seconds": lambda r: r["demo_seconds"],
    "rebuild_seconds": lambda r: r["rebuild_seconds"],
    "verify_seconds": lambda r: r.get("verify_seconds"),
    "raw_read_seconds": lambda r: r["raw_read_seconds"],
    "event_store_bytes": lambda r: _bytes(r, "events"),
    "view_bytes": lambda r: _bytes(r, "live_views"),
    "history_bytes": lambda r: _bytes(r, "history"),
    "rebuild_peak_rss_mb": lambda r: r["rebuild_peak_rss_mb"],
    "demo_peak_rss_mb": lambda r: r["demo_peak_rss_mb"],
    "verify_peak_rss_mb": lambda r: r.get("verify_peak_rss_mb"),
}


def _bytes(run: dict[str, Any], part: str) -> float | None:
    per_event = run.get("bytes_per_event", {}).get(part)
    return None if per_event is None else float(per_event) * run["events"]


def exponent(small: tuple[int, float], large: tuple[int, float]) -> float:
    """``k`` in value ∝ events ** k through two (events, value) points."""
    (n1, v1), (n2, v2) = small, large
    if n1 <= 0 or n2 <= n1 or v1 <= 0 or v2 <= 0:
        raise ValueError("two runs of different lengths with positive figures are needed")
    return math.log(v2 / v1) / math.log(n2 / n1)


def project(point: tuple[int, float], k: float, events: int) -> float:
    """The value at ``events`` on the power law through ``point`` with exponent ``k``."""
    n, v = point
    return float(v * (events / n) ** k)


def capacity(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The model over one store's scale runs (any order); empty with fewer than two lengths."""
    ordered = sorted(runs, key=lambda r: r["events"])
    if len(ordered) < 2 or ordered[-2]["events"] >= ordered[-1]["events"]:
        return {}
    model: dict[str, Any] = {
        "fitted_on_events": [ordered[-2]["events"], ordered[-1]["events"]],
        "national_year_events": NATIONAL_YEAR,
        "decade_events": DECADE,
        "figures": {},
    }
    for name, read in FIGURES.items():
        points = [(r["events"], read(r)) for r in ordered]
        if any(v is None or v <= 0 for _, v in points[-2:]):
            continue
        k = exponent(points[-2], points[-1])
        figure: dict[str, Any] = {
            "exponent": round(k, 3),
            "national_year": round(project(points[-1], k, NATIONAL_YEAR), 1),
            "decade": round(project(points[-1], k, DECADE), 1),
        }
        if len(points) >= 3 and points[-3][1] is not None and points[-3][1] > 0:
            earlier = exponent(points[-3], points[-2])
            predicted = project(points[-2], earlier, points[-1][0])
            figure["check"] = {
                "fitted_on_events": [points[-3][0], points[-2][0]],
                "exponent": round(earlier, 3),
                "predicted": round(predicted, 1),
                "measured": round(points[-1][1], 1),
                "error": round(predicted / points[-1][1] - 1, 3),
            }
        model["figures"][name] = figure
    demo = model["figures"].get("demo_seconds")
    if demo:
        # A year's events arrive over a year: how many times over one process writes and
        # projects them as the demo does.
        model["demo_headroom"] = round(SECONDS_A_YEAR / demo["national_year"], 1)
    return model


def merged(results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The scale runs of several bench results (e.g. 100k and 1M in one run, 5M in another),
    per store, longest last."""
    stores: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        for store, runs in result.get("scale", {}).items():
            stores.setdefault(store, []).extend(runs)
    return {store: sorted(runs, key=lambda r: r["events"]) for store, runs in stores.items()}


if __name__ == "__main__":  # python -m scripts.capacity bench-results/a.json b.json …
    import json
    import sys
    from pathlib import Path

    stores = merged([json.loads(Path(p).read_text()) for p in sys.argv[1:]])
    print(json.dumps({store: capacity(runs) for store, runs in stores.items()}, indent=1))
