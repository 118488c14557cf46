"""Every page and every role in a real browser: each role sees exactly what its API allows
(another council's budget is not found), and axe-core finds no WCAG 2.2 A/AA violation."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.console.conftest import (
    Console,
    axe_violations,
    browser_errors,
    heading,
    screenshot,
    sign_in,
)

# Pages each role may open (200) and may not (403), by path template.
PAGES = {
    "national": "/ui/national",
    "council": "/ui/councils/{council}",
    "budget": "/ui/budgets/{budget}",
    "invoices": "/ui/invoices",
    "upload": "/ui/invoices/upload",
    "exceptions": "/ui/exceptions",
    "audit": "/ui/audit",
    "integrity": "/ui/integrity",
}
MAY = {
    "regulator": {"national", "council", "audit", "integrity"},
    "auditor": {"national", "council", "budget", "invoices", "exceptions", "audit", "integrity"},
    "council": {"national", "council", "budget", "invoices", "exceptions"},
    "provider": {"national", "council", "invoices", "upload"},
    "representative": {"budget"},  # their own budget's statement, nothing else
    "admin": set(),
}


def _path(console: Console, name: str) -> str:
    return PAGES[name].format(council=console.council, budget=console.budget)


def test_serve_prints_the_sign_in_address(console: Console) -> None:
    assert console.output is not None
    printed = console.output.read_text()
    assert f"Web console: {console.base}/ui/sign-in" in printed
    assert "assets are missing" not in printed


def test_the_front_door_leads_to_sign_in(browser, console: Console) -> None:
    browser.delete_all_cookies()
    browser.get(console.base + "/")
    assert browser.current_url.startswith(console.base + "/ui/sign-in"), browser.page_source[:500]
    assert heading(browser) == "Sign in to CareLedger", browser.page_source[:800]
    assert axe_violations(browser) == []
    screenshot(browser, "sign-in")


@pytest.mark.parametrize("role", sorted(MAY))
def test_each_role_opens_exactly_its_pages(browser, console: Console, role: str) -> None:
    sign_in(browser, console, console.tokens[role])
    assert "Signed in as " + role in browser.find_element(By.TAG_NAME, "header").text
    for name in PAGES:
        browser.get(console.base + _path(console, name))
        title = heading(browser)
        if name in MAY[role]:
            assert "Your role may not do this" not in title, (role, name)
            assert browser.find_elements(By.ID, "problem-detail") == [], (role, name, title)
        else:
            assert title == "Your role may not do this", (role, name, title)


@pytest.mark.parametrize("role", ["council", "auditor", "representative"])
def test_another_councils_budget_is_not_found(browser, console: Console, role: str) -> None:
    token = console.tokens["other_council"] if role == "council" else console.tokens[role]
    sign_in(browser, console, token)
    if role == "representative":  # their own budget is their start page; another is not found
        assert heading(browser) == "Budget statement"
        browser.get(f"{console.base}/ui/budgets/{console.other_budget}")
        assert heading(browser) == "No such personal budget"
        return
    browser.get(f"{console.base}/ui/budgets/{console.budget}")
    if role == "council":  # the other council's officer
        assert heading(browser) == "No such personal budget"
        assert (
            "no PersonalBudget with that id" in browser.find_element(By.ID, "problem-detail").text
        )
    else:  # a national auditor reads every council's budgets
        assert heading(browser) == "Budget statement"


def test_a_council_officer_sees_only_their_councils_budgets(browser, console: Console) -> None:
    sign_in(browser, console, console.tokens["council"])
    browser.get(f"{console.base}/ui/councils/{console.other_council}")
    assert browser.find_elements(By.ID, "budgets") == []  # another council's list: not shown
    assert browser.find_elements(By.ID, "exceptions") == []
    browser.get(f"{console.base}/ui/councils/{console.council}")
    listed = browser.find_elements(By.CSS_SELECTOR, "#budgets tbody a")
    assert listed, "the council's own budgets are listed"
    ids = {a.get_attribute("href").rsplit("/", 1)[-1] for a in listed}
    rows = console.query("SELECT budget_id FROM v_budget_balances WHERE council = ?",
                         (console.council,))  # fmt: skip
    assert ids <= {r["budget_id"] for r in rows}


def test_a_care_firm_sees_only_its_own_invoices(browser, console: Console) -> None:
    sign_in(browser, console, console.tokens["provider"])
    browser.get(console.base + "/ui/invoices")
    firms = {
        td.text
        for td in browser.find_elements(By.CSS_SELECTOR, "#invoices tbody tr td:nth-child(2)")
    }
    assert firms == {console.provider}
    other = console.query("SELECT invoice_id FROM v_invoices WHERE provider <> ? LIMIT 1",
                          (console.provider,))  # fmt: skip
    browser.get(f"{console.base}/ui/invoices/{other[0]['invoice_id']}")
    assert heading(browser) == "No such invoice"


MAIN = [
    ("regulator", "national", "/ui/national?on=2011-03-31"),
    ("auditor", "council", "/ui/councils/{council}?on=2011-03-31"),
    ("auditor", "budget", "/ui/budgets/{budget}"),
    ("auditor", "audit-trail", "/ui/audit"),
    ("auditor", "integrity", "/ui/integrity?run=true"),
    ("auditor", "exceptions", "/ui/exceptions"),
    ("council", "invoices", "/ui/invoices"),
    ("provider", "upload", "/ui/invoices/upload"),
    ("admin", "admin", "/ui/"),
]


@pytest.mark.parametrize(("role", "name", "path"), MAIN)
def test_main_pages_have_no_accessibility_violations(
    browser, console: Console, role: str, name: str, path: str
) -> None:
    sign_in(browser, console, console.tokens[role])
    browser_errors(browser)  # the sign-in's
    browser.get(console.base + path.format(council=console.council, budget=console.budget))
    assert browser.find_elements(By.ID, "problem-detail") == []
    assert browser_errors(browser) == []
    assert "js-enabled" in browser.find_element(By.TAG_NAME, "body").get_attribute("class")
    assert axe_violations(browser) == []
    screenshot(browser, name)


def test_an_invoice_page_has_no_accessibility_violations(browser, console: Console) -> None:
    sign_in(browser, console, console.tokens["council"])
    invoice = console.facts["open_invoices"][0]
    browser.get(f"{console.base}/ui/invoices/{invoice}")
    assert browser.find_elements(By.ID, "form-approval"), heading(browser)  # an officer's forms
    assert axe_violations(browser) == []
    screenshot(browser, "invoice")


def test_national_figures_are_the_apis(browser, console: Console) -> None:
    """The page shows the API's own numbers: councils meeting the target, of how many."""
    import httpx

    bearer = {"Authorization": f"Bearer {console.tokens['regulator']}"}
    api = httpx.get(f"{console.base}/v1/national/progress", headers=bearer).json()
    sign_in(browser, console, console.tokens["regulator"])
    browser.get(console.base + "/ui/national")
    text = browser.find_element(By.ID, "headline").text
    assert f"{api['councils_meeting_target']} of {api['councils']} councils" in text
    rows = browser.find_elements(By.CSS_SELECTOR, "#councils tbody tr")
    assert len(rows) == api["councils"]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_render_offline_from_the_apps_own_assets(
    browser, console: Console, path: str
) -> None:
    browser.get(console.base + path)
    scripts = [s.get_attribute("src") for s in browser.find_elements(By.TAG_NAME, "script")]
    assert all(src.startswith(console.base) for src in scripts if src)
    import time

    for _ in range(100):  # the bundle renders the OpenAPI document from /openapi.json
        if "CareLedger" in browser.find_element(By.TAG_NAME, "body").text:
            break
        time.sleep(0.1)
    assert "CareLedger" in browser.find_element(By.TAG_NAME, "body").text
