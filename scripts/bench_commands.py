"""Commands/s through the application, beside the library's raw ``save`` of one equivalent event.

The command is a direct payment of cash (``issue_cash_payment``): the application loads the budget
from the store, checks the rules (active, deployed as cash, funds available), records the command
for idempotency and saves both in one transaction. The baseline triggers the same
``CashPaymentIssued`` event on a budget already in memory and saves it: no read, no rules, no
command record — the floor a command cannot go below. Both run at 1 and 8 threads; the threads
work on disjoint budgets, so the figures measure the write path, not lost races.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.provenance import Provenance
from ledger.values import Allocation, Deployment, FundingStream, Period, PlanLine
from scripts.bench import COUNCIL, PROVIDER, START

THREADS = (1, 8)
PERIOD = Period(date(2010, 4, 5), date(2010, 5, 2))
PAYMENT = 10_00  # £10: a budget of £1m never runs out in a benchmark


def bench_commands(app: CareLedger, commands: int = 2000) -> dict[str, Any]:
    """Commands/s and raw saves/s at 1 and 8 threads, and their ratios."""
    ids = itertools.count()

    def prov(role: str = "council", actor: str = "bench-officer") -> Provenance:
        return Provenance(actor, role, f"cmd-bench-{next(ids)}")

    if not app.recorder.max_notification_id():
        app.register_council(COUNCIL, "Benchshire", START, prov("admin", "bench-admin"))
        app.register_provider(
            PROVIDER, "Bench Care Ltd", date(2009, 1, 1), prov("admin", "bench-admin")
        )
    results: dict[str, Any] = {"command": "issue_cash_payment", "commands": commands}
    for threads in THREADS:
        # About ten payments a budget, as in a year of four-weekly payments: the command's read
        # replays a budget of realistic length, not one grown by the benchmark itself.
        budgets = [_cash_budget(app, prov) for _ in range(max(8 * threads, commands // 10))]
        command_rate = _per_thread(threads, commands, budgets, lambda b: _command(app, b, prov))
        raw_rate = _raw_saves(app, threads, commands, budgets, prov)
        results[f"threads_{threads}"] = {
            "commands_per_s": round(command_rate, 1),
            "raw_save_per_s": round(raw_rate, 1),
            "ratio": round(command_rate / raw_rate, 3),
        }
    return results


def _cash_budget(app: CareLedger, prov: Callable[..., Provenance]) -> str:
    budget_id: str = app.open_budget(
        COUNCIL, f"cash-person-{prov().command_id}", "physical", START, prov()
    )["budget_id"]
    app.agree_support_plan(budget_id, (PlanLine("personal-assistant", 1000, 9_50),), START, prov())
    alloc = Allocation(
        1_000_000_00, 0, 1_000_000_00, (FundingStream("council-fund", 1_000_000_00),), 0
    )
    app.approve_budget(budget_id, alloc, START, prov())
    app.choose_deployment(budget_id, Deployment("direct-payment"), START, prov())
    return budget_id


def _command(app: CareLedger, budget_id: str, prov: Callable[..., Provenance]) -> None:
    app.issue_cash_payment(budget_id, PAYMENT, PERIOD, PERIOD.start, prov())


def _per_thread(
    threads: int, commands: int, budgets: list[str], work: Callable[[str], None]
) -> float:
    """``commands`` calls of ``work`` over ``threads``; thread t uses only its own budgets."""
    mine = [budgets[t::threads] for t in range(threads)]

    def run(t: int) -> None:
        for i in range(commands // threads):
            work(mine[t][i % len(mine[t])])

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, range(threads)))
    return (commands // threads) * threads / (time.perf_counter() - started)


def _raw_saves(
    app: CareLedger,
    threads: int,
    commands: int,
    budgets: list[str],
    prov: Callable[..., Provenance],
) -> float:
    """The same event on budgets held in memory, saved one event per ``save``."""
    loaded: dict[str, PersonalBudget] = {b: app.budget(b) for b in budgets}

    def save(budget_id: str) -> None:
        budget = loaded[budget_id]
        budget._cash_payment_issued(  # the bare event: no rule checks
            amount_pence=PAYMENT, period=PERIOD, effective_on=PERIOD.start, prov=prov()
        )
        app.save(budget)

    return _per_thread(threads, commands, budgets, save)
