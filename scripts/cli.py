"""The ``careledger`` command line."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from threading import Event
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.settings import get_settings
from ledger.errors import LedgerError
from ledger.money import format_pounds
from projections.asat import position_at
from projections.balance import balance_of, figures_of
from projections.service import LedgerService
from projections.verify import Check, Checkpoint, check_extends, take_checkpoint, verify
from scripts.demo_cli import demo

app = typer.Typer(
    help="CareLedger: an event-sourced ledger for personal budgets in adult social care.",
    no_args_is_help=True,
)
console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="Overrides CARELEDGER_DATABASE_URL.")
]
JsonOut = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


@contextmanager
def open_service(database_url: str | None, *, inline: bool = False) -> Iterator[LedgerService]:
    service = LedgerService(database_url or get_settings().database_url, inline=inline)
    try:
        yield service
    finally:
        service.close()


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Any]:
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (CARELEDGER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CARELEDGER_PORT).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (PostgreSQL only for > 1).")
    ] = 1,
    demo_if_empty: Annotated[
        bool, typer.Option(help="Load the demo into an empty store and print ready tokens first.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API."""
    import os

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
        os.environ["CARELEDGER_DATABASE_URL"] = database_url  # for worker processes
    if workers > 1 and not settings.database_url.startswith("postgres"):
        console.print("[red]several workers need PostgreSQL; SQLite serves from one process[/red]")
        raise typer.Exit(2)
    bind_host, bind_port = host or settings.host, port or settings.port
    if demo_if_empty:
        _prepare_demo(settings.database_url, f"http://{bind_host}:{bind_port}")
    typer.echo(f"CareLedger on http://{bind_host}:{bind_port}  (health: /healthz, docs: /docs)")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        log_config=None,
    )


def _prepare_demo(database_url: str, base: str) -> None:
    """``make run``: the default demo into an empty store, then a token for each kind of user."""
    from api.auth import TokenStore
    from scripts.demo_cli import _load

    with open_service(database_url) as service:
        if service.runner.head() == 0:
            console.print("the store is empty: loading the demo (England 2010-11, seed 2011) …")
            summary = _load(service, 2011, 152, None, 52)
            console.print(f"loaded {summary.events} events in {summary.seconds:.0f} s")
        service.runner.catch_up()
        council = service.db.query("SELECT MIN(code) AS c FROM v_councils")[0]["c"]
        provider = service.db.query(
            "SELECT MIN(provider) AS p FROM v_refs WHERE kind = 'provider'"
        )[0]["p"]
        store = TokenStore(service.db)
        ready = [
            ("admin", {}),
            ("council", {"council": council}),
            ("provider", {"provider": provider}),
            ("auditor", {}),
            ("regulator", {}),
        ]
        lines = [(role, scope, store.create(role, "make run", **scope)[0]) for role, scope in ready]
    typer.echo(f"\nAPI docs: {base}/docs   OpenAPI: {base}/openapi.json   health: {base}/healthz")
    typer.echo("Ready tokens (created now; revoke with careledger tokens revoke):")
    for role, scope, token in lines:
        where = " ".join(f"{k}={v}" for k, v in scope.items())
        typer.echo(f"  {role:<10} {where:<24} {token}")
    typer.echo(
        f"Try: curl -H 'Authorization: Bearer <auditor token>' {base}/v1/national/progress\n"
    )


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
        unknown = sorted(set(names) - {v.name for v in runner.views})
        if unknown:
            console.print(f"[red]no such view: {', '.join(unknown)}[/red]")
            raise typer.Exit(2)
        with progress_bar("rebuilding", runner.head()) as advance:
            if jobs == 1:
                runner.rebuild(names, on_page=advance)
            elif database_is_memory(service):
                console.print("[red]--jobs needs a database file or PostgreSQL[/red]")
                raise typer.Exit(2)
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
    """Recompute the hash chain, check the trial balance and every view; exit 1 on any failure."""
    with open_service(database_url) as service:
        caught_up = catch_up_check(service)
        with progress_bar("verifying", service.runner.head()) as advance:
            report = verify(service.app, service.runner, on_event=lambda: advance(1))
        report.checks.insert(0, caught_up)
        if checkpoint:
            with open(checkpoint, encoding="utf-8") as f:
                report.checks.append(check_extends(service.app, Checkpoint(**json.load(f))))
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
        stop = position_at(service.db, as_at) if as_at else None
        try:
            figures = balance_of(
                service.app,
                budget_id,
                stop_position=stop,
                effective_on=effective_on.date() if effective_on else None,
                db=service.db,
            )
        except LedgerError as error:
            console.print(f"[red]{error.detail}[/red]")
            raise typer.Exit(1) from None
        head = service.runner.head()
    values = figures_of(figures)
    values["as_at_position"] = stop if stop is not None else head
    if json_out:
        typer.echo(json.dumps(values, indent=2, default=str))
        return
    table = Table("figure", "value")
    for key, value in values.items():
        shown = (
            format_pounds(value, symbol="£")
            if key.endswith("_pence") and value is not None
            else value
        )
        table.add_row(key, str(shown))
    Console().print(table)


export = typer.Typer(help="Exports auditors can check independently: journal, CSV views.")
app.add_typer(export, name="export")


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
        console.print(f"[red]--format must be one of: {', '.join(FORMATS)}[/red]")
        raise typer.Exit(2)
    with open_service(database_url) as service:
        service.runner.catch_up()
        stop = position_at(service.db, as_at) if as_at else None
        _write_lines(journal_lines(service.db, format_, council, stop), output)


@export.command("csv")
def export_csv(
    view: Annotated[str, typer.Argument(help="A view's table, e.g. v_budget_balances.")],
    output: Annotated[str | None, typer.Option(help="Write to this file (default stdout).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """A view as CSV with a header row, for spreadsheets."""
    import csv
    import io

    with open_service(database_url) as service:
        service.runner.catch_up()
        tables = sorted(t for v in service.runner.views for t in v.tables)
        if view not in tables:
            console.print(f"[red]no such view table; choose one of: {', '.join(tables)}[/red]")
            raise typer.Exit(2)
        header = service.db.columns(view)
        rows = service.db.query(f"SELECT * FROM {view} ORDER BY 1, 2")  # noqa: S608 - checked name
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if r[c] is None else r[c] for c in header] for r in rows])
    _write_lines(buffer.getvalue().splitlines(), output)


def _write_lines(lines: Iterable[str], output: str | None) -> None:
    if output is None:
        for line in lines:
            typer.echo(line)
        return
    with open(output, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
    console.print(f"written to {output}")


tokens = typer.Typer(help="Access tokens: create, list, revoke. Stored only as hashes.")
app.add_typer(tokens, name="tokens")


@tokens.command("create")
def tokens_create(
    role: Annotated[
        str, typer.Option(help="admin, council, provider, representative, auditor, regulator")
    ],
    council: Annotated[
        str | None, typer.Option(help="Council code (council; optional for auditor).")
    ] = None,
    provider: Annotated[str | None, typer.Option(help="Provider reference (provider).")] = None,
    budget: Annotated[str | None, typer.Option(help="Budget id (representative).")] = None,
    representative: Annotated[
        str | None, typer.Option(help="Representative id on that budget (representative).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A note to recognise the token by.")] = None,
    json_out: JsonOut = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a token. It is shown once: only its hash is kept."""
    from api.auth import TokenStore

    with open_service(database_url) as service:
        try:
            token, who = TokenStore(service.db).create(
                role,
                label,
                council=council,
                provider=provider,
                budget_id=budget,
                representative_id=representative,
            )
        except LedgerError as error:
            console.print(f"[red]{error.detail}[/red]")
            raise typer.Exit(2) from None
    if json_out:
        typer.echo(json.dumps({"token": token, "token_id": who.token_id, "role": who.role.value}))
    else:
        typer.echo(token)
        console.print(f"token id {who.token_id} ({who.role.value}); keep the token safe")


@tokens.command("list")
def tokens_list(database_url: DatabaseUrl = None) -> None:
    """List tokens (never the tokens themselves)."""
    from api.auth import TokenStore

    with open_service(database_url) as service:
        rows = TokenStore(service.db).list()
    table = Table("token id", "role", "scope", "label", "created", "revoked")
    for r in rows:
        scope = " ".join(
            f"{k}={r[k]}" for k in ("council", "provider", "budget_id", "representative_id") if r[k]
        )
        table.add_row(
            r["token_id"],
            r["role"],
            scope,
            r["label"] or "",
            r["created_at"],
            r["revoked_at"] or "",
        )
    Console().print(table)


@tokens.command("revoke")
def tokens_revoke(token_id: str, database_url: DatabaseUrl = None) -> None:
    """Revoke a token by its id; it stops working at once."""
    from api.auth import TokenStore

    with open_service(database_url) as service:
        found = TokenStore(service.db).revoke(token_id)
    if not found:
        console.print(f"[red]no live token {token_id}[/red]")
        raise typer.Exit(1)
    console.print(f"revoked {token_id}")


@app.command(name="checkpoint")
def checkpoint_command(database_url: DatabaseUrl = None) -> None:
    """Print a checkpoint (log size, head hash, time) to keep and verify against later."""
    with open_service(database_url) as service:
        point = take_checkpoint(service.app)
    typer.echo(json.dumps(vars(point), indent=2))


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
) -> None:
    """Measure speed against baselines in the same run; write JSON and print a table."""
    from scripts.bench_run import run_bench, table

    results = run_bench(
        events, postgres_url, output, console, http=http, scale_events=tuple(scale or ()),
        rebuild_jobs=rebuild_jobs,
    )  # fmt: skip
    Console().print(table(results))
    console.print(f"written to {results['path']}")


if __name__ == "__main__":  # pragma: no cover - `python -m scripts.cli`
    main()
