"""The cost of sealing personal data: commands/s and rebuild with the key store vs in the clear.

Each mode gets a fresh SQLite store and runs the same commands that carry personal data: open a
budget (the person's reference sealed, their key made), appoint a representative (the id
sealed under the person's key), end the budget with a reason (sealed in the event and the
command record) and add an auditor's note about the council (about no person: sealed under a
key of its own, made for it). ``clear`` is the ledger without a key store (values stored as
given). Then every view is rebuilt from each log, and the person's reference is read back
(opened under its key, vs returned as stored).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

from ledger.personal import IN_THE_CLEAR, context, person_shown
from ledger.provenance import Provenance
from projections.service import LedgerService
from scripts.bench import COUNCIL, START

MODES = ("sealed", "clear")
PER_PERSON = 4  # commands


def bench_personal(people: int = 300) -> dict[str, Any]:
    """Per mode: commands/s (four per person), rebuild events/s and reads/s; and the ratios.

    Each mode runs twice, in the order sealed, clear, clear, sealed, each on a fresh store, and
    keeps its better run of each figure: on a shared machine whichever mode runs first or last
    would otherwise carry the drift of the load."""
    results: dict[str, Any] = {"people": people, "commands": PER_PERSON * people}
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for mode in ("sealed", "clear", "clear", "sealed"):
        with tempfile.TemporaryDirectory(prefix="careledger-bench-pii-") as folder:
            runs[mode].append(_run(f"sqlite:///{Path(folder) / 'bench.db'}", mode, people))
    for mode, done in runs.items():
        results[mode] = {k: max(r[k] for r in done) for k in done[0]}
    sealed, clear = results["sealed"], results["clear"]
    results["ratios"] = {
        k: round(sealed[k] / clear[k], 3) for k in ("commands_per_s", "rebuild_events_per_s",
                                                     "reads_per_s")
    }  # fmt: skip
    return results


def _run(url: str, mode: str, people: int) -> dict[str, Any]:
    service = LedgerService(url, inline=False)
    if mode == "clear":
        service.app.personal = IN_THE_CLEAR
    ids = count()

    def prov(role: str = "council", reason: str | None = None) -> Provenance:
        return Provenance(f"bench-{role}", role, f"cmd-pii-{next(ids)}", reason=reason)

    try:
        service.app.register_council(COUNCIL, "Benchshire", START, prov("admin"))
        budgets: list[str] = []
        commands_s = _timed(lambda: budgets.extend(_people(service, people, prov)))
        names = [v.name for v in service.runner.views]
        events = service.runner.head()
        rebuild_s = _timed(lambda: service.runner.rebuild(names))
        reads_s = _timed(lambda: _reads(service, budgets))
        return {
            "commands_per_s": round(PER_PERSON * people / commands_s, 1),
            "rebuild_events": events,
            "rebuild_events_per_s": round(events / rebuild_s, 1),
            "reads_per_s": round(len(budgets) / reads_s, 1),
        }
    finally:
        service.close()


def _people(service: LedgerService, people: int, prov: Callable[..., Provenance]) -> list[str]:
    app, budgets = service.app, []
    for n in range(people):
        budget_id = app.open_budget(COUNCIL, f"P-{n:06d}", "physical", START, prov())["budget_id"]
        app.appoint_representative(budget_id, f"REP-{n:06d}", "carer", "none", START, prov())
        app.end_budget(budget_id, "moved-away", date(2010, 5, 1), prov(reason="moved-to-sister"))
        note = f"Officer {n} signed off a claim without a second signature"
        app.add_audit_note(None, "ctrl-weak", note, START, prov("auditor"), council=COUNCIL)
        budgets.append(budget_id)
    return budgets


def _reads(service: LedgerService, budgets: list[str]) -> None:
    personal = service.app.personal
    for budget_id in budgets:
        stored = service.app.budget(budget_id).person_ref
        person_shown(personal, stored, context(budget_id, "person_ref"))


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started
