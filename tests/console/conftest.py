"""The console in a real browser: one `careledger serve` and one headless Chromium per test
module (Debian's chromium and chromium-driver, as `.ci/run` installs them), over a small demo
ledger with a token for every role. axe-core (npm, from node_modules) checks each page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from api.auth import TokenStore
from ledger.app_invoices import InvoiceDraft
from ledger.provenance import Provenance
from ledger.values import InvoiceLine, Period
from scripts.bench_console import sign_in as form_sign_in
from scripts.cli_common import open_service
from scripts.cli_serve import demo_scope
from scripts.demo_cli import _load
from scripts.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@dataclass
class Console:
    """The running server, its store and the facts tests need about the demo ledger."""

    base: str
    url: str
    tokens: dict[str, str]
    token_ids: dict[str, str]
    council: str
    other_council: str
    provider: str
    budget: str
    other_budget: str
    facts: dict[str, Any] = field(default_factory=dict)
    output: Path | None = None  # what `careledger serve` printed

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with open_service(self.url) as service:
            return service.db.query(sql, params)

    def new_token(self, role: str, **scope: str) -> tuple[str, str]:
        with open_service(self.url) as service:
            token, principal = TokenStore(service.db).create(role, "console test", **scope)
        return token, principal.token_id

    def revoke(self, token_id: str) -> None:
        with open_service(self.url) as service:
            assert TokenStore(service.db).revoke(token_id)


def _open_invoices(service: Any, provider: str, council: str, count: int) -> list[str]:
    """``count`` new invoices from the firm, each four weeks after one of its paid ones on a
    budget of the council: open (posted or flagged) for an officer to act on."""
    paid = service.db.query(
        "SELECT invoice_id FROM v_invoices WHERE provider = ? AND council = ? AND status = 'paid'"
        " ORDER BY invoice_id LIMIT ?",
        (provider, council, count),
    )
    made = []
    for n, row in enumerate(paid):
        old = service.app.invoice(row["invoice_id"])
        shift = timedelta(days=28)
        period = Period(old.period.start + shift, old.period.end + shift)
        lines = tuple(old.lines)
        if n == 1:  # three times the plan: flagged over-plan, an exception with a position
            lines = tuple(
                InvoiceLine(x.service, x.units_hundredths * 3, x.rate_pence) for x in lines
            )
        draft = InvoiceDraft(f"CONSOLE-{n}", old.budget_id, period, lines, period.end)
        prov = Provenance(provider, "provider", f"console-seed-{n}")
        made.append(service.app.post_invoice(provider, draft, prov)["invoice_id"])
    service.runner.catch_up()
    return made


def _seed(url: str) -> dict[str, Any]:
    with open_service(url, create=True) as service:
        _load(service, 2011, 3, 60, 8)
        service.runner.catch_up()
        council, provider = demo_scope(service)
        store = TokenStore(service.db)
        scopes = {
            "admin": {}, "auditor": {}, "regulator": {}, "council": {"council": council},
            "provider": {"provider": provider},
        }  # fmt: skip
        made = {role: store.create(role, "console test", **s) for role, s in scopes.items()}
        open_invoices = _open_invoices(service, provider, council, 3)
        q = service.db.query
        other = q("SELECT MIN(code) AS c FROM v_councils WHERE code <> ?", (council,))[0]["c"]
        made["other_council"] = store.create("council", "console test", council=other)
        budget = q("SELECT MIN(budget_id) AS b FROM v_budget_balances WHERE council = ?",
                   (council,))[0]["b"]  # fmt: skip
        appointed = Provenance("console-officer", "council", "console-seed-rep")
        service.app.appoint_representative(
            budget, "rep-console-1", "carer", "none", date(2010, 4, 6), appointed
        )
        service.runner.catch_up()
        made["representative"] = store.create(
            "representative", "console test", budget_id=budget, representative_id="rep-console-1"
        )
        other_budget = q("SELECT MIN(budget_id) AS b FROM v_budget_balances WHERE council = ?",
                         (other,))[0]["b"]  # fmt: skip
    return {
        "tokens": {r: t for r, (t, _) in made.items()},
        "token_ids": {r: p.token_id for r, (_, p) in made.items()},
        "council": council, "other_council": other, "provider": provider,
        "budget": budget, "other_budget": other_budget,
        "facts": {"open_invoices": open_invoices},
    }  # fmt: skip


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'careledger.db'}"
    keys = {
        "CARELEDGER_SIGNING_KEY_FILE": str(folder / "signing.key"),
        "CARELEDGER_PSEUDONYM_KEY_FILE": str(folder / "pseudonym.key"),
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in keys.items():
            mp.setenv(name, value)
        seeded = _seed(url)
    port = free_port()
    env = {**os.environ, **keys, "CARELEDGER_DATABASE_URL": url, "CARELEDGER_LOG_JSON": "1",
           "CARELEDGER_CONSOLE_SECRET": "console-test-secret"}  # fmt: skip
    output = (folder / "serve.out").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "scripts.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("careledger serve did not start")
        yield Console(base, url, output=folder / "serve.out", **seeded)
    finally:
        server.terminate()
        server.wait(timeout=10)
        output.close()


@pytest.fixture(scope="module")
def browser(console: Console) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--lang=en-GB"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=ChromeService(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def gone(element: Any) -> Any:
    """A wait's condition: the element's page has been replaced (Chromium answers a stale
    element, or, mid-navigation, that the node is not in the document)."""

    def check(_: Any) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:  # StaleElementReferenceException among them
            return True
        return False

    return check


def sign_in(driver: webdriver.Chrome, console: Console, token: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{console.base}/ui/sign-in")
    driver.find_element(By.ID, "token").send_keys(token)
    button = driver.find_element(By.ID, "sign-in")
    button.click()
    # The answer's page replaces the form before the test goes on (else its next page can be
    # asked for before the session cookie is set).
    WebDriverWait(driver, 10).until(gone(button))


def submit(driver: webdriver.Chrome, element: Any) -> None:
    """Click a button or link that loads a page, and wait until that page has replaced this one
    (reading the page straight after a click can read the old one on a busy machine)."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 15).until(gone(old))


def heading(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.TAG_NAME, "h1").text)


def axe_violations(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 A and AA violations on the page now."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', help: String(e)}]));",
        WCAG,
    )
    return list(result)


def browser_errors(driver: webdriver.Chrome) -> list[str]:
    """The page's console errors since the last call: a refused script or style (the content
    security policy), an asset not found, a script that failed."""
    return [str(e["message"]) for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    """The page at full height (up to 2,400 px), as docs/screenshots/<name>.png."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(int(height), 800), 2400))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def session_client(console: Console, token: str) -> httpx.Client:
    """A plain HTTP client signed in through the form, for requests a browser would not send."""
    client = httpx.Client(base_url=console.base, follow_redirects=False)
    signed = form_sign_in(client, token)
    assert signed.status_code == 303
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)
