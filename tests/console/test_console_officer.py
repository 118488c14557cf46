"""The pages added as history, budget years, payment runs, endings, short-pay and erasure
landed: each form for the roles that may use it, one role that may not, the as-at pickers with
their resolved log position, and axe-core on each new or changed page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.console.conftest import (
    Console,
    axe_violations,
    browser_errors,
    csrf_of,
    heading,
    session_client,
    sign_in,
    submit,
)


def _api(console: Console, role: str, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {console.tokens[role]}", **kw.pop("headers", {})}
    return httpx.request(method, console.base + path, headers=headers, timeout=30, **kw)


def _set(browser, element_id: str, value: str) -> None:
    """A date or datetime input takes its value as the locale types it: set it directly."""
    element = browser.find_element(By.ID, element_id)
    browser.execute_script("arguments[0].value = arguments[1]", element, value)


@pytest.fixture(scope="module")
def ended(console: Console) -> dict[str, Any]:
    """Two running budgets of the council holding cash, ended through the API: one to recover
    its balance, one to reinstate (its ending's version kept)."""
    rows = console.query(
        "SELECT budget_id FROM v_budget_balances WHERE council = ? AND status = 'active'"
        " AND held_pence > 0 AND budget_id <> ? ORDER BY budget_id LIMIT 2",
        (console.council, console.budget),
    )
    assert len(rows) == 2, rows
    out: dict[str, Any] = {}
    for name, row in zip(("recover", "reinstate"), rows, strict=True):
        bid = row["budget_id"]
        got = _api(console, "council", "GET", f"/v1/budgets/{bid}")
        done = _api(console, "council", "POST", f"/v1/budgets/{bid}/ending",
                    json={"end_reason": "moved-away", "effective_on": "2011-03-31"},
                    headers={"Idempotency-Key": f"console-end-{name}",
                             "If-Match": got.headers["etag"]})  # fmt: skip
        assert done.status_code in (200, 201), done.text
        out[name] = {"id": bid, "ending_version": done.json()["version"]}
    return out


def test_the_budget_statement_shows_its_years_basis_and_contributions(
    browser, console: Console
) -> None:
    api = _api(console, "auditor", "GET", f"/v1/budgets/{console.budget}").json()
    sign_in(browser, console, console.tokens["auditor"])
    browser.get(f"{console.base}/ui/budgets/{console.budget}")
    rows = browser.find_elements(By.CSS_SELECTOR, "#years tbody tr")
    assert len(rows) == len(api["years"]) >= 1
    first = api["years"][0]
    assert first["year"] in rows[0].text
    assert f"£{first['year_allocated_pence'] // 100:,}" in rows[0].text
    basis = browser.find_element(By.ID, "payment-basis").text
    assert basis.startswith(api["payment_basis"] or "not chosen")
    assert browser.find_elements(By.ID, "ending-actions") == []  # not an officer's page
    assert axe_violations(browser) == []


def test_the_as_at_picker_reads_history_and_shows_the_resolved_position(
    browser, console: Console
) -> None:
    first = _api(console, "auditor", "GET", "/v1/audit",
                 params={"budget": console.budget, "limit": 1}).json()["items"][0]  # fmt: skip
    recorded = datetime.fromisoformat(first["recorded_at"].replace("Z", "+00:00"))
    # The second after the budget's first entry (a datetime input keeps whole seconds).
    instant = (recorded.replace(microsecond=0) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    api = _api(console, "auditor", "GET", f"/v1/budgets/{console.budget}/balance",
               params={"as_at": instant}).json()  # fmt: skip
    sign_in(browser, console, console.tokens["auditor"])
    browser.get(f"{console.base}/ui/budgets/{console.budget}")
    _set(browser, "as_at", instant)
    submit(browser, browser.find_element(By.ID, "show-balance"))
    assert browser.find_elements(By.ID, "balance-caption"), (browser.current_url, heading(browser),
        browser.find_element(By.TAG_NAME, "main").text)  # fmt: skip
    caption = browser.find_element(By.ID, "balance-caption").text
    assert f"log position {api['as_at_position']}" in caption
    available = browser.find_element(By.CSS_SELECTOR, "[data-field=available_pence]").text
    assert available == f"£{api['available_pence'] // 100:,}.{api['available_pence'] % 100:02d}"
    assert f"log position {api['as_at_position']}" in browser.find_element(By.ID, "years").text
    for text in ("2001-01-01T00:00:00", (datetime.now(UTC) + timedelta(days=2)).isoformat()[:19]):
        browser.get(f"{console.base}/ui/budgets/{console.budget}?as_at={text}")
        assert heading(browser) == "No such instant in the ledger's life"
        assert browser.find_element(By.ID, "problem-detail").text
        assert "{" not in browser.find_element(By.TAG_NAME, "main").text  # words, not JSON
    assert axe_violations(browser) == []


@pytest.mark.parametrize("path", ["/ui/audit", "/ui/exceptions", "/ui/councils/{council}"])
def test_audit_exceptions_and_council_pages_read_as_at(
    browser, console: Console, path: str
) -> None:
    first = _api(console, "auditor", "GET", "/v1/audit", params={"limit": 30}).json()
    recorded = datetime.fromisoformat(first["items"][-1]["recorded_at"].replace("Z", "+00:00"))
    instant = (recorded.replace(microsecond=0) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    expected = _api(console, "auditor", "GET", "/v1/audit",
                    params={"as_at": instant, "limit": 1}).json()["as_at_position"]  # fmt: skip
    sign_in(browser, console, console.tokens["auditor"])
    browser.get(console.base + path.format(council=console.council) + f"?as_at={instant}")
    assert browser.find_elements(By.ID, "problem-detail") == [], heading(browser)
    shown = browser.find_element(By.ID, "as-at-position").text
    assert f"log position {expected}" in shown
    assert axe_violations(browser) == []


def test_an_officer_recovers_an_ended_budgets_balance_with_if_match(
    browser, console: Console, ended: dict[str, Any]
) -> None:
    bid = ended["recover"]["id"]
    held = console.query("SELECT held_pence FROM v_budget_balances WHERE budget_id = ?", (bid,))
    sign_in(browser, console, console.tokens["council"])
    browser.get(f"{console.base}/ui/budgets/{bid}")
    assert browser.find_elements(By.ID, "form-reinstatement")
    assert axe_violations(browser) == []
    stale = browser.current_url
    _set(browser, "recovery-effective_on", "2011-04-05")
    submit(browser, browser.find_element(By.ID, "recovery-submit"))
    assert "The direct-payment balance was recovered." in browser.page_source
    after = _api(console, "council", "GET", f"/v1/budgets/{bid}").json()
    assert after["held_pence"] == 0 < held[0]["held_pence"]
    # The page read before the recovery holds the old version: refused, nothing written.
    client = session_client(console, console.tokens["council"])
    old = client.get(stale).text
    version = old.split('name="version" value="')[1].split('"')[0]
    refused = client.post(f"/ui/budgets/{bid}/balance-recoveries", data={
        "version": str(int(version) - 1), "key": "stale-recovery", "effective_on": "2011-04-06",
        "amount": "1.00", "csrf_token": csrf_of(old),
    })  # fmt: skip
    assert refused.status_code == 412
    assert "problem-detail" in refused.text


def test_an_officer_reinstates_an_ending_recorded_in_error(
    browser, console: Console, ended: dict[str, Any]
) -> None:
    bid = ended["reinstate"]["id"]
    sign_in(browser, console, console.tokens["council"])
    browser.get(f"{console.base}/ui/budgets/{bid}")
    assert browser.find_elements(By.ID, "reinstatement-ending"), browser.find_element(
        By.TAG_NAME, "main").text[:600]  # fmt: skip
    browser.find_element(By.ID, "reinstatement-ending").send_keys(
        f"{bid}/{ended['reinstate']['ending_version']}"
    )
    _set(browser, "reinstatement-effective_on", "2011-04-01")
    browser.find_element(By.ID, "reinstatement-reason").send_keys("ended-in-error")
    submit(browser, browser.find_element(By.ID, "reinstatement-submit"))
    assert "The budget was reinstated" in browser.page_source
    assert browser.find_elements(By.ID, "ending-actions") == []  # running again
    assert _api(console, "council", "GET", f"/v1/budgets/{bid}").json()["status"] != "ended"


def test_an_auditor_may_not_use_the_officers_forms(console: Console, ended: dict[str, Any]) -> None:
    client = session_client(console, console.tokens["auditor"])
    html = client.get(f"/ui/budgets/{ended['recover']['id']}").text
    assert 'id="form-recovery"' not in html
    assert 'id="form-payment-run"' not in client.get(f"/ui/councils/{console.council}").text
    csrf = csrf_of(html)
    refused = client.post(f"/ui/councils/{console.council}/payment-runs",
                          data={"run_date": "2011-03-31", "key": "k-auditor",
                                "csrf_token": csrf})  # fmt: skip
    assert refused.status_code == 403
    assert "problem-detail" in refused.text
    invoice = console.facts["open_invoices"][2]
    refused = client.post(f"/ui/invoices/{invoice}/approval", data={
        "version": "1", "key": "k-aud", "effective_on": "2010-07-01", "approved": "1.00",
        "rest": "rejected", "reason": "x", "csrf_token": csrf})  # fmt: skip
    assert refused.status_code == 403


def test_an_officer_runs_the_payments_and_sees_each_budget_paid_or_skipped(
    browser, console: Console, ended: dict[str, Any]
) -> None:
    other = session_client(console, console.tokens["other_council"])
    refused = other.post(f"/ui/councils/{console.council}/payment-runs",
                         data={"run_date": "2011-04-30", "key": "k-other",
                               "csrf_token": csrf_of(other.get("/ui/national").text)})  # fmt: skip
    assert refused.status_code in (403, 404)
    sign_in(browser, console, console.tokens["council"])
    browser.get(f"{console.base}/ui/councils/{console.council}")
    assert axe_violations(browser) == []
    _set(browser, "run_date", "2011-04-30")
    submit(browser, browser.find_element(By.ID, "payment-run-submit"))
    assert heading(browser) == "Payment run for 30 April 2011", browser_errors(browser)
    results = browser.find_element(By.ID, "run-results").text
    assert "skipped: ended" in results or "skipped" in results
    summary = browser.find_element(By.ID, "run-summary").text
    assert "paid" in summary
    assert axe_violations(browser) == []
    browser.back()  # the same form sent again: the first run's results, nothing paid twice
    browser.refresh()
    _set(browser, "run_date", "2011-04-30")
    submit(browser, browser.find_element(By.ID, "payment-run-submit"))
    assert "nothing was paid again" in browser.find_element(By.ID, "run-summary").text


def test_an_officer_short_pays_an_invoice(browser, console: Console) -> None:
    invoice = console.facts["open_invoices"][1]  # the flagged one: a reason overrides it
    before = _api(console, "council", "GET", f"/v1/invoices/{invoice}").json()
    sign_in(browser, console, console.tokens["council"])
    browser.get(f"{console.base}/ui/invoices/{invoice}")
    browser.find_element(By.CSS_SELECTOR, "#short-pay summary").click()
    assert axe_violations(browser) == []
    _set(browser, "approval-effective_on", "2010-07-01")
    browser.find_element(By.ID, "approval-reason").send_keys("over-plan-part")
    browser.find_element(By.ID, "approval-approved").send_keys("10.50")
    browser.find_element(By.CSS_SELECTOR, "#approval-rest option[value=disputed]").click()
    submit(browser, browser.find_element(By.ID, "approval-submit"))
    assert "The invoice was approved." in browser.page_source, heading(browser)
    after = _api(console, "council", "GET", f"/v1/invoices/{invoice}").json()
    assert after["approved_pence"] == 1050 < before["amount_pence"]


def test_a_bad_amount_is_refused_in_words(console: Console) -> None:
    client = session_client(console, console.tokens["council"])
    invoice = console.facts["open_invoices"][2]
    page = client.get(f"/ui/invoices/{invoice}").text
    refused = client.post(f"/ui/invoices/{invoice}/approval", data={
        "version": "1", "key": "k-bad", "effective_on": "2010-07-01", "approved": "10.505",
        "rest": "rejected", "reason": "x", "csrf_token": csrf_of(page)})  # fmt: skip
    assert refused.status_code == 400
    assert "pounds and pence" in refused.text


def test_only_an_administrator_erases_and_sees_the_apis_answer(browser, console: Console) -> None:
    officer = session_client(console, console.tokens["council"])
    assert officer.get("/ui/erasure").status_code == 403
    person = "P-CONSOLE-ERASE-1"  # a person recorded now, sealed under their own key
    opened = _api(console, "council", "POST", "/v1/budgets",
                  json={"council": console.council, "person_ref": person,
                        "primary_support_reason": "physical", "carer_budget": False,
                        "effective_on": "2011-04-01"},
                  headers={"Idempotency-Key": "console-erase-open"})  # fmt: skip
    assert opened.status_code == 201, opened.text
    bid = opened.json()["id"]
    sign_in(browser, console, console.tokens["admin"])
    submit(browser, browser.find_element(By.LINK_TEXT, "Erasure"))
    assert heading(browser) == "Erase a person's data"
    assert axe_violations(browser) == []
    browser.find_element(By.ID, "person").send_keys(person)
    submit(browser, browser.find_element(By.ID, "erase"))
    assert browser.find_elements(By.ID, "erasure-result"), browser.find_element(
        By.TAG_NAME, "main").text  # fmt: skip
    plain = browser.find_element(By.ID, "plain-events").text
    assert plain.startswith("none") or "before sealing" in plain
    assert axe_violations(browser) == []
    assert _api(console, "auditor", "GET", f"/v1/budgets/{bid}").json()["person_ref"] != person
    # The same person again: the API's refusal (409 person-erased), as a page.
    browser.find_element(By.ID, "person").send_keys(person)
    submit(browser, browser.find_element(By.ID, "erase"))
    assert browser.find_elements(By.ID, "problem-detail")
