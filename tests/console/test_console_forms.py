"""Sessions and forms in a real browser: sign-in and sign-out, a revoked token ending its
session, CSRF refused without the token, an officer acting on an invoice with If-Match behind
the form, a care firm's CSV upload, an auditor's note, the audit trail's CSV and checkpoints."""

from __future__ import annotations

import csv
import io
import json

import httpx
from selenium.webdriver.common.by import By

from tests.console.conftest import (
    Console,
    axe_violations,
    csrf_of,
    heading,
    screenshot,
    session_client,
    sign_in,
    submit,
)


def test_a_bad_token_is_refused_in_words(browser, console: Console) -> None:
    sign_in(browser, console, "clt_not-a-real-token")
    assert heading(browser) == "Sign in to CareLedger"
    assert "not valid" in browser.find_element(By.CLASS_NAME, "govuk-error-summary").text
    assert axe_violations(browser) == []


def test_the_session_cookie_is_httponly_strict_and_holds_no_readable_token(
    browser, console: Console
) -> None:
    sign_in(browser, console, console.tokens["auditor"])
    cookie = browser.get_cookie("careledger_session")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert console.tokens["auditor"] not in cookie["value"]  # sealed, not merely signed
    assert browser.execute_script("return document.cookie") == ""


def test_signing_out_ends_the_session(browser, console: Console) -> None:
    sign_in(browser, console, console.tokens["regulator"])
    old = browser.get_cookie("careledger_session")
    submit(browser, browser.find_element(By.ID, "sign-out"))
    assert "You have signed out" in browser.find_element(By.ID, "notice").text
    browser.get(console.base + "/ui/national")
    assert heading(browser) == "Sign in to CareLedger"
    assert old is not None  # a copy of the ended session's cookie is refused too
    copied = httpx.get(f"{console.base}/ui/national", cookies={old["name"]: old["value"]})
    assert copied.status_code == 303
    assert "signed%20out" in copied.headers["location"]


def test_revoking_the_token_ends_its_session_at_the_next_click(browser, console: Console) -> None:
    token, token_id = console.new_token("regulator")
    sign_in(browser, console, token)
    browser.get(console.base + "/ui/national")
    assert heading(browser).startswith("National progress")
    console.revoke(token_id)
    browser.get(console.base + "/ui/national")
    assert heading(browser) == "Sign in to CareLedger"
    assert "revoked" in browser.find_element(By.ID, "notice").text


def test_a_form_without_the_csrf_token_is_refused_and_writes_nothing(console: Console) -> None:
    client = session_client(console, console.tokens["council"])
    invoice = console.facts["open_invoices"][2]
    page = client.get(f"/ui/invoices/{invoice}")
    form = {"version": "1", "key": "csrf-test", "effective_on": "2010-07-01", "reason": "x"}
    refused = client.post(f"/ui/invoices/{invoice}/dispute", data=form)
    assert refused.status_code == 403
    assert "security token" in refused.text
    forged = client.post(f"/ui/invoices/{invoice}/dispute", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403
    status = console.query("SELECT status FROM v_invoices WHERE invoice_id = ?", (invoice,))
    assert status[0]["status"] in ("posted", "flagged")
    assert csrf_of(page.text)  # the page's own forms carry it
    signed_out = client.post("/ui/sign-out", data={})
    assert signed_out.status_code == 403  # sign-out is a form too


def test_an_officer_approves_then_pays_and_a_stale_page_is_refused(
    browser, console: Console
) -> None:
    invoice = console.facts["open_invoices"][0]
    sign_in(browser, console, console.tokens["council"])
    browser.get(f"{console.base}/ui/invoices/{invoice}")
    flagged = "flagged" in browser.find_element(By.ID, "invoice-status").text
    stale = browser.current_url
    _fill(browser, "approval", effective_on="2010-07-01", reason="ok-checked" if flagged else "")
    assert "The invoice was approved." in browser.page_source
    assert "approved" in browser.find_element(By.ID, "invoice-status").text
    _fill(browser, "payment", effective_on="2010-07-02", remittance_ref="REM-CONSOLE-1")
    assert "paid" in browser.find_element(By.ID, "invoice-status").text
    assert "REM-CONSOLE-1" in browser.find_element(By.ID, "invoice").text
    screenshot(browser, "invoice-paid")
    # A second officer's page, opened before both acts, still holds version 1.
    client = session_client(console, console.tokens["council"])
    form = {"version": "1", "key": "stale-dispute", "effective_on": "2010-07-03",
            "reason": "late", "csrf_token": csrf_of(client.get(stale).text)}  # fmt: skip
    refused = client.post(f"/ui/invoices/{invoice}/dispute", data=form)
    assert refused.status_code == 412
    assert "paid" in console.query(
        "SELECT status FROM v_invoices WHERE invoice_id = ?", (invoice,))[0]["status"]  # fmt: skip


def _fill(browser, action: str, **fields: str) -> None:
    for name, value in fields.items():
        element = browser.find_element(By.ID, f"{action}-{name}")
        if name == "effective_on":  # a date input takes the date as the locale types it
            browser.execute_script("arguments[0].value = arguments[1]", element, value)
        elif value:
            element.send_keys(value)
    submit(browser, browser.find_element(By.ID, f"{action}-submit"))


def test_a_care_firm_uploads_a_csv_and_sees_each_rows_result(
    browser, console: Console, tmp_path
) -> None:
    sign_in(browser, console, console.tokens["provider"])
    template = httpx.get(f"{console.base}/ui/invoices/template.csv").text
    assert template.splitlines()[0] == (
        "invoice_number,budget_id,period_start,period_end,invoice_date,service,units,rate"
    )
    seed = console.query(
        "SELECT invoice_number, budget_id, period_start, period_end FROM v_invoices"
        " WHERE provider = ? AND status = 'paid' ORDER BY invoice_id LIMIT 1 OFFSET 5",
        (console.provider,),
    )[0]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(template.splitlines()[0].split(","))
    new = ["CSV-UPLOAD-1", seed["budget_id"], "2010-08-02", "2010-08-29", "2010-08-30"]
    w.writerow([*new, "home-care", "10", "13.00"])
    w.writerow([*new, "night-sitting", "2.5", "15.50"])  # a second line of the same invoice
    w.writerow([seed["invoice_number"], seed["budget_id"], seed["period_start"],
                seed["period_end"], seed["period_end"], "home-care", "1", "13.00"])  # fmt: skip
    w.writerow(["CSV-UPLOAD-3", "00000000-0000-5000-8000-000000000000", "2010-08-02",
                "2010-08-29", "2010-08-30", "home-care", "1", "13.00"])  # fmt: skip
    w.writerow(["CSV-UPLOAD-4", seed["budget_id"], "2010-08-02", "2010-08-29", "2010-08-30",
                "home-care", "ten", "13.00"])  # fmt: skip
    path = tmp_path / "invoices.csv"
    path.write_text(out.getvalue())
    browser.get(console.base + "/ui/invoices/upload")
    browser.find_element(By.ID, "file").send_keys(str(path))
    submit(browser, browser.find_element(By.ID, "upload"))
    assert browser.find_element(By.ID, "summary").text == "Accepted: 1. Refused: 3."
    rows = {r.find_elements(By.TAG_NAME, "td")[0].text: r.text
            for r in browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")}  # fmt: skip
    assert "accepted" in rows["2, 3"]
    assert "refused" in rows["4"] and "Duplicate" in rows["4"]
    assert "refused" in rows["5"]
    assert "refused" in rows["6"] and "units 'ten' is not a number" in rows["6"]
    assert axe_violations(browser) == []
    screenshot(browser, "upload-results")
    posted = console.query(
        "SELECT amount_pence FROM v_invoices WHERE provider = ? AND invoice_number = ?",
        (console.provider, "CSV-UPLOAD-1"),
    )
    assert [r["amount_pence"] for r in posted] == [10 * 13_00 + 2 * 15_50 + 15_50 // 2]
    # The same file again is the same command: nothing is written twice.
    browser.get(console.base + "/ui/invoices/upload")
    browser.find_element(By.ID, "file").send_keys(str(path))
    submit(browser, browser.find_element(By.ID, "upload"))
    again = console.query("SELECT COUNT(*) AS n FROM v_invoices WHERE invoice_number = ?",
                          ("CSV-UPLOAD-1",))  # fmt: skip
    assert again[0]["n"] == 1


def test_an_auditor_adds_a_note_from_the_exceptions_queue(browser, console: Console) -> None:
    sign_in(browser, console, console.tokens["auditor"])
    browser.get(console.base + "/ui/exceptions")
    links = browser.find_elements(By.CSS_SELECTOR, "#note-links a")
    assert links, "exceptions with a log position offer a note"
    submit(browser, links[0])
    assert "About log position" in browser.find_element(By.ID, "subject").text
    browser.find_element(By.ID, "code").send_keys("ctrl-console-check")
    browser.find_element(By.ID, "note").send_keys("Reviewed from the console.")
    submit(browser, browser.find_element(By.ID, "add-note"))
    assert "The audit note was added." in browser.page_source
    browser.get(console.base + "/ui/audit?type=NoteAdded")
    text = browser.find_element(By.ID, "trail").get_attribute("textContent")
    assert "ctrl-console-check: Reviewed from the console." in text


def test_the_audit_trail_filters_pages_and_downloads_as_csv(console: Console) -> None:
    client = session_client(console, console.tokens["regulator"])
    page = client.get("/ui/audit", params={"type": "Paid"})
    assert page.status_code == 200
    assert "Invoice.Paid" in page.text
    first = client.get("/ui/audit")  # the whole trail: more than a page of 50
    following = first.text.split('id="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = client.get("/ui/audit" + following)
    assert 'id="pos-51"' not in first.text
    assert second.status_code == 200
    assert 'id="pos-1"' not in second.text
    body = client.get("/ui/audit.csv", params={"type": "Paid"})
    assert body.status_code == 200
    rows = list(csv.DictReader(io.StringIO(body.text)))
    bearer = {"Authorization": f"Bearer {console.tokens['regulator']}"}
    api = httpx.get(f"{console.base}/v1/audit", params={"type": "Paid", "limit": 1000},
                    headers=bearer).json()  # fmt: skip
    assert [r["position"] for r in rows] == [str(r["position"]) for r in api["items"]]
    assert {r["event_type"] for r in rows} == {"Invoice.Paid"}


def test_a_kept_checkpoint_is_checked_against_the_log(browser, console: Console, tmp_path) -> None:
    client = session_client(console, console.tokens["auditor"])
    kept = client.get("/ui/integrity/checkpoint.json")
    assert kept.status_code == 200
    assert json.loads(kept.text)["size"] > 0
    path = tmp_path / "checkpoint.json"
    path.write_text(kept.text)
    sign_in(browser, console, console.tokens["auditor"])
    browser.get(console.base + "/ui/integrity")
    browser.find_element(By.ID, "file").send_keys(str(path))
    submit(browser, browser.find_element(By.ID, "check"))
    assert (
        "The log still extends this checkpoint." in browser.find_element(By.ID, "check-result").text
    )
    forged = {**json.loads(kept.text), "head_hash": "0" * 64}
    path.write_text(json.dumps(forged))
    browser.get(console.base + "/ui/integrity")
    browser.find_element(By.ID, "file").send_keys(str(path))
    submit(browser, browser.find_element(By.ID, "check"))
    assert "does NOT extend" in browser.find_element(By.ID, "check-result").text
    path.write_text("not json")
    browser.get(console.base + "/ui/integrity")
    browser.find_element(By.ID, "file").send_keys(str(path))
    submit(browser, browser.find_element(By.ID, "check"))
    assert heading(browser) == "That is not a kept checkpoint"


def test_verify_shows_every_check(browser, console: Console) -> None:
    sign_in(browser, console, console.tokens["regulator"])
    browser.get(console.base + "/ui/integrity")
    submit(browser, browser.find_element(By.ID, "verify"))
    assert "Every check passed" in browser.find_element(By.ID, "verify-result").text
    assert browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")


def test_the_balance_as_known_at_a_past_instant(browser, console: Console) -> None:
    sign_in(browser, console, console.tokens["auditor"])
    opened = console.query(
        "SELECT recorded_at FROM v_audit WHERE budget_id = ? ORDER BY position LIMIT 1",
        (console.budget,),
    )[0]["recorded_at"]
    bearer = {"Authorization": f"Bearer {console.tokens['auditor']}"}
    for params in ({"as_at": opened}, {"effective_on": "2010-04-30"},
                   {"as_at": opened, "effective_on": "2011-03-31"}):  # fmt: skip
        browser.get(f"{console.base}/ui/budgets/{console.budget}?{httpx.QueryParams(params)}")
        api = httpx.get(f"{console.base}/v1/budgets/{console.budget}/balance", params=params,
                        headers=bearer).json()  # fmt: skip
        caption = browser.find_element(By.ID, "balance-caption").text
        if "as_at" in params:
            assert f"as the ledger knew it at log position {api['as_at_position']}" in caption
        for name in ("allocated_pence", "available_pence", "invoices_paid_pence"):
            shown = browser.find_element(By.CSS_SELECTOR, f"[data-field={name}]").text
            pence = api[name]
            assert shown == f"£{pence // 100:,}.{pence % 100:02d}", (params, name)
