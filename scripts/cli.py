"""The ``careledger`` command line."""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from threading import Event
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ledger.money import format_pounds
from ledger.personal import PersonalData, reveal_reasons
from ledger.provenance import plain_identity
from projections.asat import aggregate_at
from projections.balance import balance_of, figures_of
from projections.budget_years import years_of
from projections.service import LedgerService
from projections.tlog import kept_checks, signed_checkpoint
from projections.verify import Check, Checkpoint, take_checkpoint, verify
from projections.views.people import mask_erased
from scripts.cli_audit import export_bundle, keys
from scripts.cli_common import (
    CliError,
    DatabaseUrl,
    JsonOut,
    Typer,
    as_at_position,
    console,
    open_service,
    require_registered,
)
from scripts.cli_people import (
    erase,
    erase_note_command,
    erase_representative_command,
    migrate_personal_data,
    retention,
    retention_policy,
)
from scripts.cli_runs import payment_run
from scripts.cli_serve import serve
from scripts.cli_tokens import tokens
from scripts.demo_cli import demo


class ScaleStore(StrEnum):
    sqlite = "sqlite"
    postgres = "postgres"


app = Typer(
    help="CareLedger: an event-sourced ledger for personal budgets in adult social care.",
    no_args_is_help=True,
)


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Any]:
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


app.command()(serve)
app.command()(erase)
app.command(name="erase-note")(erase_note_command)
app.command(name="erase-representative")(erase_representative_command)
app.command()(retention)
app.command(name="retention-policy")(retention_policy)
app.command(name="migrate-personal-data")(migrate_personal_data)
app.command(name="payment-run")(payment_run)
app.add_typer(tokens, name="tokens")


@app.command()
def project(
    follow: Annotated[bool, typer.Option(help="Keep running as a worker process.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls when idle.")] = 1.0,
    database_url: DatabaseUrl = None,
) -> None:
    """Catch every view up with the event log (``--follow``: run as a projection worker)."""
    with open_service(database_url) as service:
        runner = service.runner
        behind = runner.head() - min(runner.positions().values())
        with progress_bar("projecting", behind) as advance:
            done = runner.catch_up(on_page=advance)
        console.print(f"views at position {runner.head()} ({done} events applied)")
        if follow:
            stop = Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            console.print("following the log; Ctrl-C to stop")
            runner.follow(interval=interval, until=stop)


app.command()(demo)


@app.command()
def rebuild(
    view: Annotated[
        list[str] | None, typer.Argument(help="Views to rebuild (default: all).")
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes, each rebuilding a share of the views (a database file or"
            " PostgreSQL; pays only with cores to spare beside the database's).",
        ),
    ] = 1,
    database_url: DatabaseUrl = None,
) -> None:
    """Drop views and rebuild them from the event log."""
    from projections.parallel import database_is_memory, rebuild_in_processes

    with open_service(database_url) as service:
        runner = service.runner
        names = view or [v.name for v in runner.views]
        valid = [v.name for v in runner.views]
        unknown = sorted(set(names) - set(valid))
        if unknown:
            raise CliError(f"no such view: {', '.join(unknown)} (views: {', '.join(valid)})")
        with progress_bar("rebuilding", runner.head()) as advance:
            if jobs == 1:
                runner.rebuild(names, on_page=advance)
            elif database_is_memory(service):
                raise CliError("--jobs needs a database file or PostgreSQL")
            else:
                rebuild_in_processes(runner, names, jobs, on_page=advance)
        console.print(f"rebuilt {', '.join(names)} to position {runner.head()}")


@app.command(name="verify")
def verify_command(
    checkpoint: Annotated[
        str | None, typer.Option(help="A checkpoint JSON file the log must still extend.")
    ] = None,
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Recompute the hash chain, check the trial balance and every view; exit 1 on any failure
    (an empty event log too: there is nothing to vouch for)."""
    kept = load_checkpoint(checkpoint) if checkpoint else None
    with open_service(database_url) as service:
        caught_up = catch_up_check(service)
        with progress_bar("verifying", service.runner.head()) as advance:
            report = verify(service.app, service.runner, on_events=advance)
        report.checks.insert(0, caught_up)
        if service.runner.head() == 0:
            report.checks.insert(0, Check("events", False, "the event log is empty"))
        if kept is not None:
            report.checks.extend(kept_checks(service, kept))
    if json_out:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        table = Table("check", "result", "first bad position", "detail")
        for c in report.checks:
            mark = "[green]ok[/green]" if c.ok else "[red]FAILED[/red]"
            table.add_row(c.name, mark, str(c.first_bad_position or ""), c.detail)
        Console().print(table)
    if not report.ok:
        raise typer.Exit(1)


TREE_FIELDS = {"tree_size": int, "root_hash": str, "signed_note": str}


def load_checkpoint(path: str) -> dict[str, Any]:
    """A checkpoint file written by ``careledger checkpoint``: the chain's ``Checkpoint`` fields,
    and the Merkle tree's (optional: files kept before the tree existed lack them); CliError
    naming what is wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as error:
        raise CliError(f"cannot read the checkpoint file {path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CliError(f"the checkpoint file {path} is not JSON: {error}") from None
    kinds = {"int": int, "str": str}  # Checkpoint's annotations, as strings
    fields = {f.name: kinds.get(str(f.type), object) for f in dataclasses.fields(Checkpoint)}
    allowed = {**fields, **TREE_FIELDS}
    if not (
        isinstance(data, dict)
        and set(fields) <= set(data) <= set(allowed)
        and all(isinstance(data[k], allowed[k]) and type(data[k]) is not bool for k in data)
    ):
        raise CliError(
            f"the checkpoint file {path} is not a checkpoint: expected an object with"
            f" {', '.join(fields)} (and optionally {', '.join(TREE_FIELDS)}),"
            " as `careledger checkpoint` writes"
        )
    return data


def catch_up_check(service: LedgerService) -> Check:
    """Bring the views to the head first; a log that cannot be read back is itself a finding."""
    try:
        service.runner.catch_up()
    except Exception as error:
        return Check("catch-up", False, f"the log cannot be projected: {type(error).__name__}")
    return Check("catch-up", True, f"views at position {service.runner.head()}")


@app.command()
def balance(
    budget_id: Annotated[str, typer.Argument(help="The personal budget's id.")],
    as_at: Annotated[
        datetime | None, typer.Option(help="What was known at this recorded instant (UTC).")
    ] = None,
    effective_on: Annotated[
        datetime | None, typer.Option(help="The business date the balance is for.")
    ] = None,
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """A budget's balance for a business date, as it was known at an instant."""
    with open_service(database_url) as service:
        service.runner.catch_up()
        stop = as_at_position(service, as_at)
        figures = balance_of(
            service.app,
            budget_id,
            stop_position=stop,
            effective_on=effective_on.date() if effective_on else None,
            db=service.db,
        )
        budget = service.app.budget(budget_id)
        if stop is not None:
            budget = aggregate_at(service.app, service.db, budget.id, stop)
    # the same fields, with the same meaning, as GET /v1/budgets/{id}/balance (null: now)
    values = {
        **figures_of(figures),
        "years": years_of(budget),
        "as_at_position": stop,
        "effective_on": effective_on.date() if effective_on else None,
    }
    if json_out:
        typer.echo(json.dumps(values, indent=2, default=str))
        return
    table = Table("figure", "value")
    for key, value in values.items():
        if key == "years":  # a line a budget year
            for y in value:
                table.add_row(
                    f"year {y['year']}",
                    " · ".join(
                        f"{name} {format_pounds(y[f'year_{name}_pence'], symbol='£')}"
                        for name in ("allocated", "drawn", "available")
                    ),
                )
            continue
        shown = (
            format_pounds(value, symbol="£")
            if key.endswith("_pence") and value is not None
            else value
        )
        table.add_row(key, str(shown))
    Console().print(table)


export = Typer(help="Exports auditors can check independently: journal, CSV views.")
app.add_typer(export, name="export")
export.command("bundle")(export_bundle)
app.add_typer(keys, name="keys")


@export.command("journal")
def export_journal(
    format_: Annotated[str, typer.Option("--format", help="hledger or beancount")] = "hledger",
    council: Annotated[str | None, typer.Option(help="One council's books only.")] = None,
    as_at: Annotated[
        datetime | None, typer.Option(help="The journal as known at this instant (UTC).")
    ] = None,
    output: Annotated[str | None, typer.Option(help="Write to this file (default stdout).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Every posting with its date, accounts, £ amounts, entry id and actor."""
    from projections.export import FORMATS, journal_lines

    if format_ not in FORMATS:
        raise CliError(f"--format must be one of: {', '.join(FORMATS)}")
    council = plain_identity(council) if council is not None else None
    with open_service(database_url) as service:
        require_registered(service, council=council)
        service.runner.catch_up()
        stop = as_at_position(service, as_at)
        _write_lines(journal_lines(service.db, format_, council, stop), output)


YEARS_EXPORT = "budget-years"  # not a view's table: the budgets' years, as the API shows them


@export.command("csv")
def export_csv(
    view: Annotated[str, typer.Argument(help="A view's table, e.g. v_budget_balances.")],
    output: Annotated[str | None, typer.Option(help="Write to this file (default stdout).")] = None,
    as_at: Annotated[
        datetime | None, typer.Option(help="The view as known at this instant (UTC).")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """A view as CSV with a header row, for spreadsheets (as it stood at `--as-at`);
    `budget-years`: every budget's years, one row each, with the API's per-year figures."""
    import csv
    import io

    from projections.asat import view_db
    from projections.budget_years import YEAR_COLUMNS, budget_year_rows

    with open_service(database_url) as service:
        service.runner.catch_up()
        tables = sorted(t for v in service.runner.views for t in v.tables)
        if view not in (*tables, YEARS_EXPORT):
            choices = ", ".join([*tables, YEARS_EXPORT])
            raise CliError(f"no such view table {view!r}; choose one of: {choices}")
        stop = as_at_position(service, as_at)
        personal = service.app.personal  # reasons stored sealed are opened (or shown erased)
        if view == YEARS_EXPORT:
            header = list(YEAR_COLUMNS)
            rows = budget_year_rows(service.app, service.db, stop)
        else:
            header = service.db.columns(view)
            rows = view_db(service.db, stop).query(f"SELECT * FROM {view} ORDER BY 1, 2")  # noqa: S608 - checked name
            rows = mask_erased(service.db, rows)  # an erased person's values stored in the clear
        cells = [[_cell(personal, r[c]) for c in header] for r in rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(cells)
    _write_lines(buffer.getvalue().splitlines(), output)


def _cell(personal: PersonalData, value: Any) -> Any:
    if value is None:
        return ""
    return reveal_reasons(personal, value) if isinstance(value, str) else value


def _write_lines(lines: Iterable[str], output: str | None) -> None:
    if output is None:
        for line in lines:
            typer.echo(line)
        return
    with open(output, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
    console.print(f"written to {output}")


@app.command(name="checkpoint")
def checkpoint_command(database_url: DatabaseUrl = None) -> None:
    """Print a checkpoint to keep and verify against later: the log's size, head hash and time,
    and the Merkle tree's size and root as a signed note (`signed_note`, DESIGN.md §9)."""
    with open_service(database_url, inline=True) as service:  # the tree caught up first
        point = {**vars(take_checkpoint(service.app)), **signed_checkpoint(service)}
    typer.echo(json.dumps(point, indent=2))


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


@app.command()
def bench(
    events: Annotated[int, typer.Option(help="About how many events to load per store.")] = 50_000,
    postgres_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL URL to bench beside SQLite (a fresh schema is used)."),
    ] = None,
    output: Annotated[str, typer.Option(help="Where to write the JSON results.")] = "bench-results",
    http: Annotated[
        bool, typer.Option(help="Also the HTTP figures (needs --postgres-url).")
    ] = True,
    scale: Annotated[
        list[int] | None,
        typer.Option(
            help="Demo history lengths (events) for rebuild, memory and balance reads;"
            " repeat for several, e.g. --scale 100000 --scale 1000000."
        ),
    ] = None,
    rebuild_jobs: Annotated[
        int | None, typer.Option(min=1, help="Processes for the scale rebuild.")
    ] = None,
    console_events: Annotated[
        list[int] | None,
        typer.Option(
            help="Demo history lengths (events) at which to time the web console's pages"
            " beside their API routes; repeat for several."
        ),
    ] = None,
    console_only: Annotated[
        bool, typer.Option(help="Only the console's pages (with --console-events).")
    ] = False,
    history: Annotated[
        list[int] | None,
        typer.Option(
            help="Demo history lengths (events) for views as at past instants vs now, rebuild"
            " and catch-up with history vs without; e.g. --history 100000 --history 1000000."
        ),
    ] = None,
    history_only: Annotated[
        bool, typer.Option(help="Only the history figures (--history sizes and snapshots).")
    ] = False,
    console_url: Annotated[
        str | None,
        typer.Option(
            help="Time the console's pages on this existing store (e.g. a 1,000,000-event"
            " PostgreSQL demo loaded once) instead of loading --console-events afresh."
        ),
    ] = None,
    history_url: Annotated[
        str | None,
        typer.Option(
            help="The history figures (rebuild, catch-up, as-at reads) on this existing demo"
            " store instead of fresh ones (with --history-only); its views are rebuilt."
        ),
    ] = None,
    replica_events: Annotated[
        int,
        typer.Option(
            min=0,
            help="Reads on a PostgreSQL standby: a throwaway primary and standby (initdb,"
            " pg_basebackup) holding the demo at about this many events; 0 leaves it out.",
        ),
    ] = 0,
    replicas_only: Annotated[
        bool, typer.Option(help="Only the standby figures (with --replica-events).")
    ] = False,
    scale_only: Annotated[
        bool,
        typer.Option(help="Only the --scale runs and the capacity model drawn from them."),
    ] = False,
    scale_store: Annotated[
        ScaleStore | None,
        typer.Option(help="Run the --scale sizes on this store alone (default: each store)."),
    ] = None,
) -> None:
    """Measure speed against baselines in the same run; write JSON and print a table."""
    from scripts.bench_run import run_bench, table

    if scale_only and not scale:
        raise CliError("--scale-only needs at least one --scale size")
    if scale_store is ScaleStore.postgres and not postgres_url:
        raise CliError("--scale-store postgres needs --postgres-url")

    results = run_bench(
        events, postgres_url, output, console, http=http, scale_events=tuple(scale or ()),
        rebuild_jobs=rebuild_jobs, console_events=tuple(console_events or ()),
        console_only=console_only,
        history_events=tuple(history or ()), history_only=history_only,
        console_url=console_url, history_url=history_url, replica_events=replica_events,
        replicas_only=replicas_only, scale_only=scale_only,
        scale_store=scale_store.value if scale_store else None,
    )  # fmt: skip
    Console().print(table(results))
    console.print(f"written to {results['path']}")


if __name__ == "__main__":  # pragma: no cover - `python -m scripts.cli`
    main()
