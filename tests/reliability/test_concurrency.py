"""Concurrency storm (issue 6): many clients at once against one budget, over real servers.

Twenty clients post invoices, approve and pay them, race each other to approve and pay the same
invoices, post the same invoice numbers again and issue cash payments — all against one mixed
budget whose funds cover only part of what they ask for. SQLite serves from one process; on
PostgreSQL two server processes race for the same aggregate, their views caught up either inline
by both (``serve``'s default) or by a ``project --follow`` worker. Every answer is recorded, then
the store is read back: never overdrawn at any event, every accepted command there exactly once,
every refused one absent, repeats with the same Idempotency-Key answered alike with nothing
written, and the views equal a replay.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import TokenStore
from ledger.ids import command_record_id, invoice_id
from ledger.values import Deployment
from projections.balance import apply, balance_of
from projections.service import LedgerService
from projections.verify import verify
from projections.views.balances import get_balance
from tests.reliability.servers import cli, kill9, server
from tests.support import COUNCIL, PROVIDER, START, World, allocation

# The plan is 10 hours a week at £13; the budget just covers it, plus a 5% contingency.
TOTAL, CONTINGENCY = 6_800_00, 340_00
CAPACITY = TOTAL + CONTINGENCY  # rule 3: nothing is paid beyond available + contingency
POSTERS, RIVALS, DUPLICATORS, CASH_PAYERS = 8, 4, 2, 6  # 20 clients
INVOICES_EACH, PAYMENTS_EACH = 5, 6  # 40 invoices (£78-£130), 36 cash payments (£150-£300)
RETRIES = 10  # a client repeats, with the same key, what the API says to retry (or no answer)
RETRYABLE = {"concurrent-update", "store-unavailable", "no-answer"}
STORM_SECONDS = 30  # after this a client sends nothing more (a healthy storm takes 5-10 s)

# Every refusal the storm may meet, with its status; anything else fails the test.
REFUSALS = {
    "duplicate-invoice": 409,
    "concurrent-update": 409,
    "invalid-transition": 409,
    "invoice-not-found": 404,
    "version-mismatch": 412,
    "insufficient-funds": 422,
}
ALLOWED = {
    "post": {"duplicate-invoice", "concurrent-update"},
    "approve": {
        "invoice-not-found",
        "invalid-transition",
        "version-mismatch",
        "insufficient-funds",
        "concurrent-update",
    },
    "pay": {"invoice-not-found", "invalid-transition", "version-mismatch", "concurrent-update"},
    "cash": {"insufficient-funds", "version-mismatch", "concurrent-update"},
}
# The events one accepted command writes: each exactly once, nothing else.
EFFECTS = {
    "post": {"Invoice.Posted", "PersonalBudget.InvoiceReceived"},
    "approve": {"Invoice.Approved", "PersonalBudget.InvoiceCharged"},
    "pay": {"Invoice.Paid", "PersonalBudget.InvoiceSettled"},
    "cash": {"PersonalBudget.CashPaymentIssued"},
}


@dataclass(frozen=True)
class Call:
    """One write of the storm, repeatable exactly (same key, body and If-Match)."""

    kind: str  # post | approve | pay | cash
    who: str  # provider | council
    path: str
    body: dict[str, Any]
    if_match: str | None = None
    pence: int = 0  # the money it moves if accepted: charged, settled or paid in cash
    invoice: str | None = None
    key: str = field(default_factory=lambda: f"storm-{uuid.uuid4().hex}")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    etag: str | None
    media_type: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> str:
        return str(self.body.get("type", "")).removeprefix("/problems/")


@dataclass
class Log:
    """Every answer of the storm (threads append under the lock) and each call's last one."""

    attempts: list[tuple[Call, Answer]] = field(default_factory=list)
    final: dict[str, tuple[Call, Answer]] = field(default_factory=dict)
    reads: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, call: Call, answer: Answer) -> None:
        with self.lock:
            self.attempts.append((call, answer))
            self.final[call.key] = (call, answer)

    def accepted(self, kind: str | None = None) -> list[Call]:
        return [c for c, a in self.final.values() if a.ok and kind in (None, c.kind)]

    def refused(self) -> list[tuple[Call, Answer]]:
        return [(c, a) for c, a in self.final.values() if not a.ok]


class Client:
    """One client of the storm: its own connection, the tokens, the shared log."""

    def __init__(
        self, base: str, tokens: dict[str, str], log: Log, seed: int, deadline: float
    ) -> None:
        self.http = httpx.Client(base_url=base, timeout=10)
        self.tokens, self.log, self.rng = tokens, log, random.Random(seed)
        self.deadline = deadline

    def once(self, call: Call) -> Answer:
        headers = {"Authorization": f"Bearer {self.tokens[call.who]}", "Idempotency-Key": call.key}
        if call.if_match is not None:
            headers["If-Match"] = call.if_match
        try:
            r = self.http.post(call.path, json=call.body, headers=headers)
        except httpx.TransportError as error:  # the connection dropped: status 0, retried
            return Answer(0, {"type": "no-answer", "detail": repr(error)}, None, "")
        media = r.headers.get("content-type", "").split(";")[0]
        return Answer(r.status_code, r.json(), r.headers.get("etag"), media)

    def send(self, call: Call) -> Answer:
        """Send, repeating with the same key while the answer says to retry (or never came)."""
        for _ in range(RETRIES):
            if time.monotonic() > self.deadline:  # not sent: fails check_answers, writes nothing
                answer = Answer(0, {"type": "storm-overran"}, None, "")
                self.log.record(call, answer)
                return answer
            answer = self.once(call)
            self.log.record(call, answer)
            if answer.problem not in RETRYABLE:
                break
            time.sleep(self.rng.uniform(0, 0.05))
        return answer

    def budget_etag(self, budget_id: str) -> str | None:
        try:
            r = self.http.get(f"/v1/budgets/{budget_id}", headers=self._auth("council"))
        except httpx.TransportError:
            r = httpx.Response(0)
        with self.log.lock:
            self.log.reads.append(r.status_code)
        etag: str | None = r.headers.get("etag")
        return etag

    def _auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


# --- the calls ---------------------------------------------------------------------------------


def iso(day: date) -> str:
    return day.isoformat()


def invoice_body(budget_id: str, n: int) -> dict[str, Any]:
    """The n-th week's invoice: 6 to 10 hours at the plan's rate, so never flagged."""
    start = START + timedelta(weeks=n)
    hours = 600 + (n * 97) % 401
    return {
        "invoice_number": f"INV-{n:04d}",
        "budget_id": budget_id,
        "period": {"start": iso(start), "end": iso(start + timedelta(days=6))},
        "lines": [{"service": "home-care", "units_hundredths": hours, "rate_pence": 13_00}],
        "invoice_date": iso(start + timedelta(days=7)),
    }


def invoice_pence(n: int) -> int:
    return (600 + (n * 97) % 401) * 13_00 // 100


def invoice_ref(n: int) -> str:
    return str(invoice_id(PROVIDER, f"INV-{n:04d}"))


def post(budget_id: str, n: int) -> Call:
    body = invoice_body(budget_id, n)
    return Call("post", "provider", "/v1/invoices", body, invoice=invoice_ref(n))


def approve(n: int, if_match: str | None) -> Call:
    day = iso(START + timedelta(weeks=n, days=7))
    path = f"/v1/invoices/{invoice_ref(n)}/approval"
    body = {"effective_on": day}
    return Call("approve", "council", path, body, if_match, invoice_pence(n), invoice_ref(n))


def pay(n: int, if_match: str | None) -> Call:
    body = {"effective_on": iso(START + timedelta(weeks=n, days=8)), "remittance_ref": f"R-{n}"}
    path = f"/v1/invoices/{invoice_ref(n)}/payment"
    return Call("pay", "council", path, body, if_match, invoice_pence(n), invoice_ref(n))


def cash(budget_id: str, i: int, if_match: str | None) -> Call:
    start = START + timedelta(weeks=i)
    pence = 150_00 + (i * 1733) % 150_01
    body = {
        "amount_pence": pence,
        "period": {"start": iso(start), "end": iso(start + timedelta(days=6))},
        "effective_on": iso(start),
    }
    return Call("cash", "council", f"/v1/budgets/{budget_id}/cash-payments", body, if_match, pence)


# --- the clients' scripts ----------------------------------------------------------------------

Script = Callable[[Client], None]


def poster(budget_id: str, p: int) -> Script:
    """Posts its invoices, approves each (If-Match: the version it posted), then pays it."""

    def run(c: Client) -> None:
        for n in range(p, POSTERS * INVOICES_EACH, POSTERS):
            posted = c.send(post(budget_id, n))
            approved = c.send(approve(n, posted.etag if posted.ok else None))
            c.send(pay(n, approved.etag if approved.ok else None))

    return run


def rival(r: int) -> Script:
    """Approves every invoice in its own order, whether posted yet or not; pays those it won."""

    def run(c: Client) -> None:
        numbers = list(range(POSTERS * INVOICES_EACH))
        random.Random(r).shuffle(numbers)
        for n in numbers:
            approved = c.send(approve(n, None))
            if approved.ok:
                c.send(pay(n, approved.etag))

    return run


def duplicator(budget_id: str, d: int) -> Script:
    """Posts the same invoices again, same body, its own keys: one posting of each may win."""

    def run(c: Client) -> None:
        for n in range(d, POSTERS * INVOICES_EACH, DUPLICATORS):
            c.send(post(budget_id, n))

    return run


def cash_payer(budget_id: str, k: int) -> Script:
    """Issues cash payments; every other one conditional on the budget version it just read."""

    def run(c: Client) -> None:
        for j in range(PAYMENTS_EACH):
            i = k * PAYMENTS_EACH + j
            if_match = c.budget_etag(budget_id) if j % 2 == 0 else None
            c.send(cash(budget_id, i, if_match))

    return run


def scripts(budget_id: str) -> list[Script]:
    return [
        *(poster(budget_id, p) for p in range(POSTERS)),
        *(rival(r) for r in range(RIVALS)),
        *(duplicator(budget_id, d) for d in range(DUPLICATORS)),
        *(cash_payer(budget_id, k) for k in range(CASH_PAYERS)),
    ]


def storm(base: str, tokens: dict[str, str], budget_id: str) -> Log:
    """Every script on its own thread and connection, released at the same instant."""
    log, plan = Log(), scripts(budget_id)
    start = threading.Barrier(len(plan), timeout=30)
    deadline = time.monotonic() + STORM_SECONDS

    def run(i: int, script: Script) -> None:
        client = Client(base, tokens, log, i, deadline)
        with client.http:
            start.wait()
            script(client)

    with ThreadPoolExecutor(max_workers=len(plan)) as pool:
        for future in [pool.submit(run, i, s) for i, s in enumerate(plan)]:
            future.result()  # a client's exception fails the test
    return log


# --- set-up ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    budget_id: str
    tokens: dict[str, str]
    scopes: dict[str, str]  # who → the account its Idempotency-Keys belong to


def prepare(url: str) -> Setup:
    """Council, provider, one active mixed budget (invoices and cash) and the two tokens."""
    service = LedgerService(url, inline=True)
    try:
        world = World(service.app).setup()
        alloc = allocation(total=TOTAL, client=680_00, contingency=CONTINGENCY)
        budget_id = world.active_budget(alloc, Deployment("mixed", None, 2_000_00))
        store = TokenStore(service.db)
        council, council_who = store.create("council", council=COUNCIL)
        provider, provider_who = store.create("provider", provider=PROVIDER)
    finally:
        service.close()
    return Setup(
        budget_id,
        {"council": council, "provider": provider},
        {"council": council_who.idempotency_scope, "provider": provider_who.idempotency_scope},
    )


@contextmanager
def projection_worker(url: str, log: Path) -> Iterator[None]:
    process = cli(["project", "--follow", "--interval", "0.2"], url, inline=False, log=log)
    try:
        yield
    finally:
        kill9(process)


# --- the checks --------------------------------------------------------------------------------


def stored_events(service: LedgerService) -> list[Any]:
    app = service.app
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 10**7)]


def by_command(events: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for event in events:
        grouped.setdefault(event.prov.command_id, []).append(event)
    return grouped


def check_answers(log: Log, summary: str) -> None:
    """No 5xx and no dropped connection; every refusal a problem+json with a named type the call
    may meet."""
    failed = [(c.kind, a.status, a.body) for c, a in log.attempts if not 0 < a.status < 500]
    assert not failed, f"{len(failed)} failed answers, first {failed[:3]}; {summary}"
    assert log.reads and set(log.reads) == {200}, Counter(log.reads)
    for call, answer in log.attempts:
        if answer.ok:
            continue
        assert answer.media_type == "application/problem+json", (call, answer)
        assert answer.problem in ALLOWED[call.kind], (call, answer)
        assert answer.status == REFUSALS[answer.problem], (call, answer)
    for call, answer in log.final.values():
        if answer.ok and call.kind == "post":
            assert answer.status == 201 and answer.body["flags"] == [], answer


def check_each_command(log: Log, events: list[Any], setup: Setup, service: LedgerService) -> None:
    """Each accepted command wrote its effects once (plus its record); each refused one nothing."""
    grouped = by_command(events)
    storm_keys = {k for k in grouped if k.startswith("storm-")}
    assert storm_keys == {c.key for c in log.accepted()}  # no trace of any refused command
    for call, answer in log.refused():
        record = command_record_id(setup.scopes[call.who], call.key)
        assert not service.app.exists(record), (call, answer)
    for call in log.accepted():
        written = Counter(type(e).__qualname__ for e in grouped[call.key])
        assert written == Counter(["CommandRecord.Accepted", *EFFECTS[call.kind]]), call
        check_effect(call, grouped[call.key], setup.budget_id)


def check_effect(call: Call, events: list[Any], budget_id: str) -> None:
    """The effect is on the right records, for the amount asked."""
    for event in events:
        name = type(event).__qualname__
        if name.startswith("Invoice."):
            assert str(event.originator_id) == call.invoice, (call, event)
        if name.startswith("PersonalBudget."):
            assert str(event.originator_id) == budget_id
        if name in ("PersonalBudget.InvoiceCharged", "PersonalBudget.CashPaymentIssued"):
            assert event.amount_pence == call.pence, (call, event)
        if name == "PersonalBudget.InvoiceCharged":
            assert event.invoice_id == call.invoice


def check_each_invoice(log: Log, events: list[Any]) -> None:
    """Each invoice posted, charged and paid at most once, and exactly when a call says so."""
    per_invoice: dict[str, Counter[str]] = {}
    for event in events:
        name = type(event).__qualname__
        subject = getattr(event, "invoice_id", None) if name.startswith("PersonalBudget.") else None
        if name.startswith("Invoice."):
            subject = str(event.originator_id)
        if subject is not None:
            per_invoice.setdefault(subject, Counter())[name] += 1
    posted = {c.body["invoice_number"] for c in log.accepted("post")}
    assert len(log.accepted("post")) == len(posted) == POSTERS * INVOICES_EACH
    assert set(per_invoice) == {invoice_ref(n) for n in range(POSTERS * INVOICES_EACH)}
    approved = Counter(c.invoice for c in log.accepted("approve"))
    paid = Counter(c.invoice for c in log.accepted("pay"))
    for ref, counts in per_invoice.items():
        assert counts["Invoice.Posted"] == counts["PersonalBudget.InvoiceReceived"] == 1
        assert counts["Invoice.Approved"] == counts["PersonalBudget.InvoiceCharged"]
        assert counts["Invoice.Approved"] == approved[ref] <= 1, ref
        assert counts["Invoice.Paid"] == counts["PersonalBudget.InvoiceSettled"] == paid[ref]
        assert paid[ref] <= approved[ref], ref


def check_money(log: Log, service: LedgerService, budget_id: str) -> int:
    """Never overdrawn, after any event; drawn is exactly what the accepted calls asked for;
    every refusal for funds was right to refuse. Returns what was drawn."""
    app = service.app
    balance = None
    for event in app.events.get(uuid.UUID(budget_id)):
        balance = apply(balance, event)
        assert balance.available_pence >= -balance.contingency_pence, event
        assert balance.invoices_paid_pence <= balance.invoices_approved_pence, event
    final = balance_of(app, budget_id)
    assert balance == final
    charged = sum(c.pence for c in log.accepted("approve"))
    cash_paid = sum(c.pence for c in log.accepted("cash"))
    settled = sum(c.pence for c in log.accepted("pay"))
    assert (final.invoices_approved_pence, final.cash_paid_pence) == (charged, cash_paid)
    assert final.invoices_paid_pence == settled
    assert final.net_drawn_pence == charged + cash_paid == app.budget(budget_id).drawn_pence
    assert final.allocated_pence == TOTAL and final.net_drawn_pence <= CAPACITY
    # Funds only ever fell, so what was refused then is still more than is left now.
    short = [c for c, a in log.refused() if a.problem == "insufficient-funds"]
    assert short, "the storm never reached the budget's limit"
    assert all(c.pence > CAPACITY - final.net_drawn_pence for c in short)
    return final.net_drawn_pence


def check_repeats(base: str, setup: Setup, log: Log, service: LedgerService) -> int:
    """A sample of accepted calls sent again: the same answer, marked replayed, nothing written."""
    sample = sorted(log.accepted(), key=lambda c: c.key)
    random.Random(7).shuffle(sample)
    by_kind: dict[str, list[Call]] = {}
    for call in sample:
        by_kind.setdefault(call.kind, []).append(call)
    chosen = [c for calls in by_kind.values() for c in calls[:4]]
    assert {c.kind for c in chosen} == set(EFFECTS)
    before = len(service.app.recorder.select_notifications(1, 10**7))
    client = Client(base, setup.tokens, Log(), 99, time.monotonic() + STORM_SECONDS)
    with client.http:
        for call in chosen:
            first, again = log.final[call.key][1], client.once(call)
            assert (again.status, again.etag) == (first.status, first.etag), call
            assert again.body == {**first.body, "replayed": True}, call
    assert len(service.app.recorder.select_notifications(1, 10**7)) == before
    return len(chosen)


def check_views(url: str, budget_id: str) -> None:
    """The views, caught up, equal a replay of the store; the whole-ledger checks pass."""
    with opened(url) as service:
        service.runner.catch_up()
        expected = dataclasses.asdict(balance_of(service.app, budget_id))
        assert get_balance(service.db, budget_id) == expected
        report = verify(service.app, service.runner)
        assert report.ok, [c for c in report.checks if not c.ok]


def summary(log: Log, seconds: float) -> str:
    """Every attempt's outcome (retries included), e.g. ``cash/insufficient-funds=12``."""
    outcomes = Counter((c.kind, "ok" if a.ok else a.problem) for c, a in log.attempts)
    shown = ", ".join(f"{k}/{o}={n}" for (k, o), n in sorted(outcomes.items()))
    return f"{len(log.attempts)} writes in {seconds:.1f}s: {shown}"


@contextmanager
def opened(url: str) -> Iterator[LedgerService]:
    service = LedgerService(url, inline=False)
    try:
        yield service
    finally:
        service.close()


# --- the tests ---------------------------------------------------------------------------------


def run_storm_and_check(url: str, tmp_path: Path, *, workers: int, inline: bool) -> None:
    setup = prepare(url)
    log_file = tmp_path / "servers.log"
    with ExitStack() as stack:
        if not inline:
            stack.enter_context(projection_worker(url, log_file))
        base, _ = stack.enter_context(server(url, inline=inline, workers=workers, log=log_file))
        began = time.monotonic()
        log = storm(base, setup.tokens, setup.budget_id)
        seconds = time.monotonic() - began
        check_answers(log, summary(log, seconds))
        repeated = check_repeats(base, setup, log, stack.enter_context(opened(url)))
    with opened(url) as service:
        events = stored_events(service)
        check_each_command(log, events, setup, service)
        check_each_invoice(log, events)
        drawn = check_money(log, service, setup.budget_id)
    check_views(url, setup.budget_id)
    print(f"{summary(log, seconds)}; drawn {drawn}/{CAPACITY}p; {repeated} repeats")


@pytest.mark.timeout(60)
def test_a_storm_on_one_sqlite_server_never_overdraws_and_keeps_each_command_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    run_storm_and_check(sqlite_url, tmp_path, workers=1, inline=True)


@pytest.mark.postgres
@pytest.mark.timeout(60)
@pytest.mark.parametrize("inline", [True, False], ids=["views-inline", "views-worker"])
def test_a_storm_on_two_postgres_servers_never_overdraws_and_keeps_each_command_once(
    postgres_url: str, tmp_path: Path, inline: bool
) -> None:
    run_storm_and_check(postgres_url, tmp_path, workers=2, inline=inline)
