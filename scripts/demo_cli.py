"""``careledger demo``: load the synthetic national scenario into an empty store, with progress
bars, then print the headline figures beside the published 2011 picture."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from projections.service import LedgerService
from scripts.cli_common import CliError, DatabaseUrl, open_service
from scripts.demo import demo_budgets, load_demo
from scripts.demo_summary import DemoSummary, headline_rows

console = Console(stderr=True)  # the progress bars


def demo(
    seed: Annotated[int, typer.Option(help="The same seed always loads the same England.")] = 2011,
    councils: Annotated[int, typer.Option(min=1, max=152, help="How many councils.")] = 152,
    people: Annotated[
        int | None,
        typer.Option(min=1, help="Budget holders at 31 March 2011 in all (default 6 a council)."),
    ] = None,
    weeks: Annotated[int, typer.Option(min=1, max=52, help="Weeks of 2010-11 to simulate.")] = 52,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    real_clock: Annotated[
        bool,
        typer.Option(
            "--real-clock",
            help="Record every entry now, not when a council would have recorded it in 2010-11.",
        ),
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Load the synthetic national scenario (England, 2010-11) into an empty store (creating the
    store if there is none)."""
    with open_service(database_url, create=True) as service:
        if service.app.recorder.max_notification_id():
            raise CliError(
                "the store is not empty: the demo loads only into an empty store"
                " (use another --database-url, or remove the database)"
            )
        summary = _load(service, seed, councils, people, weeks, real_clock)
    if json_out:
        typer.echo(json.dumps({**asdict(summary), "events_per_second": summary.events_per_second}))
        return
    table = Table("figure", "31 March 2011 in this ledger", "published (Audit Commission 2011)")
    for row in headline_rows(summary):
        table.add_row(*row)
    Console().print(table)


def _load(
    service: LedgerService,
    seed: int,
    councils: int,
    people: int | None,
    weeks: int,
    real_clock: bool = False,
) -> DemoSummary:
    """Two bars: budgets written, then events projected into the views."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        loading = bar.add_task("budgets", total=demo_budgets(seed, councils, people))
        projecting = bar.add_task("projecting", total=None, visible=False)

        def on_project(n: int) -> None:
            if bar.tasks[projecting].total is None:
                bar.update(projecting, total=service.runner.head(), visible=True)
            bar.advance(projecting, n)

        return load_demo(
            service.app,
            seed,
            councils,
            people,
            weeks,
            lambda n: bar.advance(loading, n),
            runner=service.runner,
            on_project=on_project,
            real_clock=real_clock,
        )
