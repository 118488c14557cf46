"""Payment runs, budget years and the net/gross choice through the API."""

from __future__ import annotations

from tests.api.conftest import Api, active_budget, approval_body
from tests.support import COUNCIL

RUNS = f"/v1/councils/{COUNCIL}/payment-runs"


def test_a_council_runs_its_payments_once_per_run_date(api: Api) -> None:
    budget_id = active_budget(api, "direct-payment")
    net = api.post(
        "council",
        f"/v1/budgets/{budget_id}/payment-basis",
        {"payment_basis": "net", "effective_on": "2010-04-05"},
    )
    assert net.status_code == 200

    first = api.post("council", RUNS, {"run_date": "2010-05-03"})
    before = api.event_count()
    again = api.post("council", RUNS, {"run_date": "2010-05-03"})  # another key

    assert first.status_code == 200
    body = first.json()
    (line,) = body["results"]
    assert (line["budget_id"], line["periods_paid"], line["skipped_reason"]) == (budget_id, 2, None)
    assert line["contributions_charged_pence"] > 0
    assert body["run_cash_paid_pence"] == line["run_cash_paid_pence"] > 0
    assert again.json()["replayed"] is True
    assert again.json()["results"] == body["results"]
    assert api.event_count() == before


def test_only_the_councils_own_finance_officers_run_its_payments(api: Api) -> None:
    active_budget(api, "direct-payment")
    before = api.event_count()
    body = {"run_date": "2010-05-03"}

    other = api.post("other_council", RUNS, body)
    provider = api.post("provider", RUNS, body)
    auditor = api.post("auditor", RUNS, body)
    admin = api.post("admin", RUNS, body)

    assert other.status_code == 403
    assert (provider.status_code, auditor.status_code, admin.status_code) == (403, 403, 403)
    assert api.event_count() == before


def test_a_bad_run_date_is_a_400_problem(api: Api) -> None:
    for bad in ({"run_date": "2010-02-30"}, {"run_date": 20100503}, {}, {"run_date": "x", "y": 1}):
        response = api.post("council", RUNS, bad)
        assert response.status_code in (400, 422)
        assert response.headers["content-type"] == "application/problem+json"


def test_the_next_year_is_allocated_and_a_wrong_one_refused(api: Api) -> None:
    budget_id = active_budget(api, "direct-payment")
    path = f"/v1/budgets/{budget_id}/years"
    before = api.event_count()
    wrong = api.post(
        "council",
        path,
        {"year_starts_on": "2012-04-01", "basis": "rolled-over", "effective_on": "2011-03-20"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["type"] == "/problems/budget-year-refused"
    assert wrong.json()["expected_year_starts_on"] == "2011-04-01"
    assert api.event_count() == before

    reassessed = api.post(
        "council",
        path,
        {
            "year_starts_on": "2011-04-01",
            "basis": "re-assessed",
            "allocation": approval_body(total=11_000_00),
            "effective_on": "2011-03-20",
        },
    )
    assert reassessed.status_code == 200


def test_a_budget_reads_back_its_years_and_contributions_owed(api: Api) -> None:
    budget_id = active_budget(api, "direct-payment")
    api.post(
        "council",
        f"/v1/budgets/{budget_id}/payment-basis",
        {"payment_basis": "gross", "effective_on": "2010-04-05"},
    )
    api.post(
        "council",
        f"/v1/budgets/{budget_id}/years",
        {"year_starts_on": "2011-04-01", "basis": "rolled-over", "effective_on": "2011-03-20"},
    )
    api.post("council", RUNS, {"run_date": "2010-05-03"})

    budget = api.get("council", f"/v1/budgets/{budget_id}").json()

    assert [y["year"] for y in budget["years"]] == ["2010-04-05 approval year", "2011-12"]
    assert budget["years"][0]["year_closed"] is True
    assert budget["years"][1]["year_allocated_pence"] == 10_000_00 * 362 // 366
    assert budget["payment_basis"] == "gross"
    assert budget["contributions_owed_pence"] == 2 * (1_000_00 // 52 * 4)
    assert budget["contribution_arrears_pence"] == 1_000_00 // 52 * 4


def _pay(api: Api, budget_id: str, pence: int, start: str, end: str) -> None:
    paid = api.post(
        "council",
        f"/v1/budgets/{budget_id}/cash-payments",
        {"amount_pence": pence, "period": {"start": start, "end": end}, "effective_on": start},
    )
    assert paid.status_code == 200, paid.text


def test_the_statement_and_balance_say_which_year_each_entry_is_charged_to(api: Api) -> None:
    # given cash in the approval year, 2011-12 rolled over, then cash in 2011-12
    budget_id = active_budget(api, "direct-payment")
    _pay(api, budget_id, 800_00, "2010-04-05", "2010-05-02")
    rolled = api.post(
        "council",
        f"/v1/budgets/{budget_id}/years",
        {"year_starts_on": "2011-04-01", "basis": "rolled-over", "effective_on": "2011-03-20"},
    )
    assert rolled.status_code == 200
    _pay(api, budget_id, 300_00, "2011-04-05", "2011-05-02")

    statement = api.get("council", f"/v1/budgets/{budget_id}/statement").json()
    balance = api.get("council", f"/v1/budgets/{budget_id}/balance").json()
    budget = api.get("council", f"/v1/budgets/{budget_id}").json()

    # then each line names its year: the approval's, and 2011-12
    lines = [(line["event_type"].split(".")[-1], line["year"], line["available_change_pence"])
             for line in statement["items"]]  # fmt: skip
    year2 = 10_000_00 * 362 // 366
    assert lines == [
        ("Approved", "2010-04-05 approval year", 10_000_00),
        ("CashPaymentIssued", "2010-04-05 approval year", -800_00),
        ("YearAllocated", "2011-12", year2),  # allocated before its year: charged to it
        ("CashPaymentIssued", "2011-12", -300_00),
    ]
    # and the statement and balance carry the budget's years, the same list the budget shows
    assert statement["years"] == balance["years"] == budget["years"]
    drawn = {y["year"]: y["year_drawn_pence"] for y in balance["years"]}
    assert drawn == {"2010-04-05 approval year": 800_00, "2011-12": 300_00}
    assert balance["years"][1]["year_available_pence"] == year2 - 300_00


def test_an_invoice_approved_in_the_next_year_is_charged_to_its_service_periods_year(
    api: Api,
) -> None:
    # given 2011-12 rolled over, and an invoice for care in March 2011 approved in May 2011
    budget_id = active_budget(api, "council-managed")
    api.post(
        "council",
        f"/v1/budgets/{budget_id}/years",
        {"year_starts_on": "2011-04-01", "basis": "rolled-over", "effective_on": "2011-03-20"},
    )
    march = {"start": "2011-03-01", "end": "2011-03-28"}
    body = {
        "invoice_number": "INV-MAR",
        "budget_id": budget_id,
        "period": march,
        "lines": [{"service": "home-care", "units_hundredths": 4000, "rate_pence": 13_00}],
        "invoice_date": march["end"],
    }
    posted = api.post("provider", "/v1/invoices", body)
    assert posted.status_code == 201, posted.json()
    approval = {"effective_on": "2011-05-03"}
    path = f"/v1/invoices/{posted.json()['id']}/approval"
    assert api.post("council", path, approval).status_code == 200

    statement = api.get("council", f"/v1/budgets/{budget_id}/statement").json()

    # then its line is dated in 2011-12 but charged to the approval year, as the ledger drew it
    (charge,) = [i for i in statement["items"] if i["event_type"] == "Invoice.Approved"]
    assert (charge["effective_on"], charge["year"]) == ("2011-05-03", "2010-04-05 approval year")
    drawn = {y["year"]: y["year_drawn_pence"] for y in statement["years"]}
    assert drawn == {"2010-04-05 approval year": 520_00, "2011-12": 0}
