"""The web console over HTTP on every backend (the browser tests in ``tests/console`` run on
SQLite): sign-in, expiry, CSRF, scoping and refusals as pages; the formats a person reads; the
invoice CSV layout."""

from __future__ import annotations

import time
from datetime import date

import pytest

from api.console import invoice_csv
from api.console.render import day, instant, money, percent
from api.console.session import COOKIE, Sessions
from scripts.bench_console import sign_in
from tests.api.conftest import OTHER_COUNCIL, Api, active_budget
from tests.support import COUNCIL


def _sign_in(api: Api, who: str) -> None:
    signed = sign_in(api.client, api.tokens[who])
    assert signed.status_code == 303


def test_money_dates_and_shares_read_as_people_write_them() -> None:
    assert money(123_456) == "£1,234.56"
    assert money(-5) == "\u2212£0.05"
    assert money(0) == "£0.00"
    assert day("2011-03-31") == "31 March 2011"
    assert day(date(2010, 4, 5)) == "5 April 2010"
    assert instant("2011-05-01T09:03:04.5Z") == "1 May 2011, 09:03:04 UTC"
    assert percent(3000) == "30.00%"
    assert percent(None) == "no data"


def test_a_csv_row_becomes_the_apis_invoice_and_bad_rows_say_why() -> None:
    rows = invoice_csv.template().splitlines()
    found = invoice_csv.read(("\n".join(rows) + "\n").encode())
    assert [len(i.lines) for i in found.invoices] == [2]
    assert found.rows == [[2, 3]]
    assert found.invoices[0].lines[1].units_hundredths == 750
    assert found.invoices[0].lines[1].rate_pence == 15_50
    bad = rows[1].replace(",13.00", ",13.005")
    late = rows[1].replace("2010-05-02,2010-05-03", "2010-04-01,2010-05-03")
    other = (
        rows[1]
        .replace("INV-2010-0417", "INV-2")
        .replace("0b8f5f9e-2c1d-5a57-9d1e-4c9f0a6b7e21", "not-a-budget")
    )
    found = invoice_csv.read("\n".join([rows[0], bad, late.replace("INV-2010", "INV-X"),
                                        other]).encode())  # fmt: skip
    assert found.invoices == []
    why = dict((tuple(r), w) for r, w in found.problems)
    assert why[(2,)] == "rate '13.005' has more than 2 decimal places"
    assert "end is before start" in why[(3,)]
    assert why[(4,)].startswith("budget id: ")
    with pytest.raises(invoice_csv.FileRefusedError, match="missing: rate"):
        invoice_csv.read(
            b"invoice_number,budget_id,period_start,period_end,invoice_date,service,units\n"
        )
    with pytest.raises(invoice_csv.FileRefusedError, match="not UTF-8"):
        invoice_csv.read(b"\xff\xfe" + rows[0].encode("utf-16-le"))


def test_signing_in_needs_the_forms_csrf_token(api: Api) -> None:
    refused = api.client.post("/ui/sign-in", data={"token": api.tokens["auditor"]})
    assert refused.status_code == 403
    assert COOKIE not in refused.cookies


def test_an_expired_session_asks_to_sign_in_again(api: Api) -> None:
    _sign_in(api, "auditor")
    sessions: Sessions = api.client.app.state.console_sessions  # type: ignore[attr-defined]
    cookie = api.client.cookies.get(COOKIE)
    assert sessions.open(cookie) is not None
    assert sessions.open(cookie, now=time.time() + sessions.seconds + 61) is None
    tampered = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
    api.client.cookies.set(COOKIE, tampered, path="/ui")
    page = api.client.get("/ui/national", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/ui/sign-in?notice=")


def test_pages_are_scoped_as_the_api_on_every_backend(api: Api) -> None:
    budget = active_budget(api)
    _sign_in(api, "council")
    assert api.client.get(f"/ui/budgets/{budget}").status_code == 200
    assert api.client.get(f"/ui/councils/{COUNCIL}").status_code == 200
    assert api.client.get("/ui/audit").status_code == 403
    _sign_in(api, "other_council")
    refused = api.client.get(f"/ui/budgets/{budget}")
    assert refused.status_code == 404
    assert "No such personal budget" in refused.text
    assert refused.headers["content-type"].startswith("text/html")
    own = api.client.get(f"/ui/councils/{OTHER_COUNCIL}")
    assert own.status_code == 200 and 'id="budgets"' in own.text
    theirs = api.client.get(f"/ui/councils/{COUNCIL}")
    assert theirs.status_code == 200 and 'id="budgets"' not in theirs.text
    _sign_in(api, "auditor")
    pages = ("/ui/national", f"/ui/councils/{COUNCIL}", f"/ui/budgets/{budget}", "/ui/audit",
             "/ui/integrity?run=true", "/ui/exceptions", "/ui/invoices")  # fmt: skip
    for path in pages:
        assert api.client.get(path).status_code == 200, path
    bad = api.client.get("/ui/national", params={"on": "31/03/2011"})
    assert bad.status_code == 400
    assert "The form is not valid" in bad.text


def test_docs_and_redoc_are_served_by_the_app(api: Api) -> None:
    for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        page = api.client.get(path)
        assert page.status_code == 200
        assert f'src="/ui/assets/{asset}"' in page.text
        assert "http" not in page.text.split("<body>", 1)[1]  # nothing from elsewhere
        assert api.client.get(f"/ui/assets/{asset}").status_code == 200
    assert api.client.get("/ui/assets/govuk-crest.svg").status_code == 404
    styles = api.client.get("/ui/assets/govuk-frontend.min.css")
    assert ".govuk-button" in styles.text
    assert "GDS Transport" not in styles.text  # the GOV.UK typeface is GOV.UK's alone
    front = api.client.get("/", follow_redirects=True)
    assert front.url.path == "/ui/sign-in"
