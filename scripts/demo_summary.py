"""What a demo load reports: its size and speed, and the headline figures as the progress view
computes them for 31 March 2011 (read back after the views have caught up)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.application import CareLedger
from ledger.values import SupportReason
from projections.db import ViewDb, open_view_db
from projections.runner import Runner
from projections.service import all_views
from projections.views.progress_measures import national_progress
from scripts.demo_people import FY_END

if TYPE_CHECKING:
    from scripts.demo import Loader


@dataclass(frozen=True)
class Headline:
    """The Audit Commission's April 2011 picture, as this ledger's progress view computes it."""

    councils: int
    councils_meeting_target: int
    uptake_min_bp: int
    uptake_min_council: str
    uptake_max_bp: int
    uptake_max_council: str
    uptake_bp: int  # England: users with a budget / eligible
    spend_share_bp: int  # net spend through personal budgets / gross adult-social-care spend
    direct_payment_bp: int  # share of budget holders on (part) direct payments
    pool_disentangled_bp: int
    uptake_by_reason_bp: dict[str, int] = field(default_factory=dict)

    @property
    def mental_health_lags(self) -> bool:
        by = self.uptake_by_reason_bp
        mh = by[SupportReason.MENTAL_HEALTH.value]
        return all(mh < bp for reason, bp in by.items() if reason != SupportReason.MENTAL_HEALTH)


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    councils: int
    budgets: int
    events: int  # stored events, counted after the load
    seconds: float  # writing the events (planning and building included)
    project_seconds: float
    refused_duplicates: int
    headline: Headline

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def headline_of(db: ViewDb) -> Headline:
    n = national_progress(db, FY_END)
    users = n["users"]
    return Headline(
        councils=n["councils"],
        councils_meeting_target=n["councils_meeting_target"],
        uptake_min_bp=n["uptake_min"]["with_budget_share_of_eligible_bp"],
        uptake_min_council=n["uptake_min"]["council"],
        uptake_max_bp=n["uptake_max"]["with_budget_share_of_eligible_bp"],
        uptake_max_council=n["uptake_max"]["council"],
        uptake_bp=users["with_budget_share_of_eligible_bp"],
        spend_share_bp=n["spend"]["net_budget_spend_share_of_gross_bp"],
        direct_payment_bp=_bp(users["people_on_direct_payment"], users["people_with_budget"]),
        pool_disentangled_bp=n["pooled_funds"]["disentangled_share_of_contributions_bp"] or 0,
        uptake_by_reason_bp={
            reason: figures["with_budget_share_of_eligible_bp"]
            for reason, figures in users["by_reason"].items()
            if figures["with_budget_share_of_eligible_bp"] is not None
        },
    )


def _bp(part: int, whole: int) -> int:
    return part * 10_000 // whole if whole else 0


def read_headline(
    app: CareLedger,
    runner: Runner | None,
    on_project: Callable[[int], None] | None,
    seed: int,
    loader: Loader,
    refused: int,
    written: float,
) -> DemoSummary:
    """Catch the views up (with ``runner``, or one opened for the purpose) and summarise."""
    own = runner is None
    if runner is None:
        runner = Runner(app, open_view_db(app.database_url), all_views())
    try:
        started = time.perf_counter()
        if any(runner.positions().values()):
            runner.catch_up(on_page=on_project)
        else:  # nothing projected yet (the demo loads an empty store): project as a rebuild
            # does — pages of 10,000, the readers' indexes built once at the end
            runner.rebuild([v.name for v in runner.views], on_page=on_project)
        projected = time.perf_counter() - started
        events = _count(runner.db)
        headline = headline_of(runner.db)
    finally:
        if own:
            runner.db.close()
    return DemoSummary(
        seed, headline.councils, loader.budgets, events, written, projected, refused, headline
    )


def _count(db: ViewDb) -> int:
    rows: list[dict[str, Any]] = db.query("SELECT COUNT(*) AS n FROM v_audit")
    return int(rows[0]["n"])


def _pct(bp: int) -> str:
    return f"{bp / 100:.2f}%"


def headline_rows(summary: DemoSummary) -> list[tuple[str, str, str]]:
    """(figure, this ledger at 31 March 2011, the published 2011 picture) for printing."""
    h = summary.headline
    others = [bp for r, bp in h.uptake_by_reason_bp.items() if r != SupportReason.MENTAL_HEALTH]
    mh = h.uptake_by_reason_bp.get(SupportReason.MENTAL_HEALTH.value, 0)
    rate = f"{summary.events_per_second:,.0f} events/s"
    return [
        ("councils at or above 30%", f"{h.councils_meeting_target} of {h.councils}", "6 of 152"),
        ("lowest uptake", f"{_pct(h.uptake_min_bp)} ({h.uptake_min_council})", "13%"),
        ("highest uptake", f"{_pct(h.uptake_max_bp)} ({h.uptake_max_council})", "60%"),
        ("England uptake", _pct(h.uptake_bp), ""),
        ("net spend through personal budgets", _pct(h.spend_share_bp), "about 6%"),
        ("holders on direct payments", _pct(h.direct_payment_bp), "about 1/3"),
        ("mental-health uptake", _pct(mh), "lagged the other groups"),
        ("other groups' uptake", f"{_pct(min(others))} to {_pct(max(others))}", ""),
        ("mental-health pools disentangled", _pct(h.pool_disentangled_bp), "partly"),
        ("budgets / events", f"{summary.budgets:,} / {summary.events:,}", ""),
        ("writing", f"{summary.seconds:.1f} s ({rate})", ""),
        ("projecting", f"{summary.project_seconds:.1f} s", ""),
        ("duplicate invoices refused", str(summary.refused_duplicates), ""),
    ]
