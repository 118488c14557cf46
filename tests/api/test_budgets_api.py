"""Councils' budget routes through a real client: allowed, forbidden, idempotent, conditional."""

from __future__ import annotations

from tests.api.conftest import Api, active_budget, budget_body


def test_a_council_opens_a_budget_and_reads_it_back(api: Api) -> None:
    created = api.post("council", "/v1/budgets", budget_body())

    assert created.status_code == 201
    budget_id = created.json()["id"]
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"/v1/budgets/{budget_id}"
    read = api.get("council", f"/v1/budgets/{budget_id}")
    assert read.status_code == 200
    assert (read.json()["status"], read.json()["council"]) == ("opened", "E09000033")


def test_a_retry_with_the_same_key_returns_the_first_outcome_and_writes_nothing(api: Api) -> None:
    first = api.post("council", "/v1/budgets", budget_body(), key="open-1")
    before = api.event_count()

    again = api.post("council", "/v1/budgets", budget_body(), key="open-1")
    clash = api.post("council", "/v1/budgets", budget_body(person_ref="P-999"), key="open-1")

    assert (again.status_code, again.json()["id"], again.json()["replayed"]) == (
        201,
        first.json()["id"],
        True,
    )
    assert clash.status_code == 409
    assert clash.json()["type"] == "/problems/idempotency-key-reused"
    assert api.event_count() == before


def test_another_councils_budget_is_invisible_and_untouchable(api: Api) -> None:
    budget_id = active_budget(api)
    before = api.event_count()

    read = api.get("other_council", f"/v1/budgets/{budget_id}")
    pay = api.post(
        "other_council",
        f"/v1/budgets/{budget_id}/cash-payments",
        {
            "amount_pence": 100,
            "period": {"start": "2010-04-05", "end": "2010-05-02"},
            "effective_on": "2010-04-05",
        },
    )
    opened_elsewhere = api.post("other_council", "/v1/budgets", budget_body())

    assert (read.status_code, pay.status_code, opened_elsewhere.status_code) == (404, 404, 403)
    assert api.event_count() == before


def test_payment_beyond_the_balance_is_a_422_problem_naming_the_rule(api: Api) -> None:
    budget_id = active_budget(api)
    before = api.event_count()

    refused = api.post(
        "council",
        f"/v1/budgets/{budget_id}/cash-payments",
        {
            "amount_pence": 10_500_01,
            "period": {"start": "2010-04-05", "end": "2010-05-02"},
            "effective_on": "2010-04-06",
        },
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/insufficient-funds"
    assert refused.json()["available_pence"] == 10_000_00
    assert api.event_count() == before


def test_if_match_makes_a_write_conditional(api: Api) -> None:
    budget_id = active_budget(api)
    version = api.get("council", f"/v1/budgets/{budget_id}").headers["ETag"]
    body = {"effective_on": "2010-05-01"}

    stale = api.post("council", f"/v1/budgets/{budget_id}/suspension", body, **{"If-Match": '"1"'})
    fresh = api.post(
        "council", f"/v1/budgets/{budget_id}/suspension", body, **{"If-Match": version}
    )

    assert stale.status_code == 412
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] == f'"{int(version.strip(chr(34))) + 1}"'


def test_no_token_is_401_and_the_wrong_role_403(api: Api) -> None:
    anonymous = api.client.post("/v1/budgets", json=budget_body(), headers={"Idempotency-Key": "k"})
    provider = api.post("provider", "/v1/budgets", budget_body())
    auditor = api.post("auditor", "/v1/budgets", budget_body())

    assert anonymous.status_code == 401
    assert (provider.status_code, auditor.status_code) == (403, 403)
    assert provider.json()["type"] == "/problems/forbidden-role"


def test_a_write_without_an_idempotency_key_is_refused(api: Api) -> None:
    response = api.client.post("/v1/budgets", json=budget_body(), headers=api.headers("council"))

    assert response.status_code == 400
    assert response.json()["type"] == "/problems/idempotency-key-required"


def test_the_openapi_examples_are_accepted_by_their_own_routes(api: Api) -> None:
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    example = schemas["OpenBudget"]["examples"][0]

    created = api.post("council", "/v1/budgets", example)

    assert created.status_code == 201
    assert {"AllocationIn", "InvoiceIn", "DeploymentIn", "CashPayment"} <= {
        name for name, schema in schemas.items() if schema.get("examples")
    }


def test_a_stale_if_match_is_412_on_every_kind_of_budget_and_invoice_write(api: Api) -> None:
    budget_id = active_budget(api)
    invoice = api.post(
        "provider",
        "/v1/invoices",
        {
            "invoice_number": "INV-IFM",
            "budget_id": budget_id,
            "period": {"start": "2010-04-05", "end": "2010-05-02"},
            "lines": [{"service": "home-care", "units_hundredths": 4000, "rate_pence": 13_00}],
            "invoice_date": "2010-05-03",
        },
    ).json()
    before = api.event_count()
    stale = {"If-Match": '"99"'}
    writes = [
        (
            f"/v1/budgets/{budget_id}/representatives",
            {
                "representative_id": "rep-9",
                "kind": "carer",
                "basis": "none",
                "effective_on": "2010-04-06",
            },
        ),
        (
            f"/v1/budgets/{budget_id}/contributions",
            {"received_pence": 100, "effective_on": "2010-04-06"},
        ),
        (f"/v1/budgets/{budget_id}/reviews", {"effective_on": "2010-10-01"}),
        (
            f"/v1/invoices/{invoice['id']}/dispute",
            {"effective_on": "2010-05-04", "reason": "hours"},
        ),
    ]

    statuses = [api.post("council", path, body, **stale).status_code for path, body in writes]

    assert statuses == [412, 412, 412, 412]
    assert api.event_count() == before


def test_a_surplus_recovery_identifies_and_recovers_in_one_request(api: Api) -> None:
    budget_id = active_budget(api, deployment="direct-payment")
    period = {"start": "2010-04-05", "end": "2010-05-02"}
    paid = api.post(
        "council",
        f"/v1/budgets/{budget_id}/cash-payments",
        {"amount_pence": 3_000_00, "period": period, "effective_on": "2010-04-05"},
    )
    version = paid.headers["ETag"]
    body = {"effective_on": "2010-06-14"}

    first = api.post(
        "council",
        f"/v1/budgets/{budget_id}/surplus-recoveries",
        body,
        key="recover-1",
        **{"If-Match": version},
    )
    count = api.event_count()
    again = api.post(
        "council",
        f"/v1/budgets/{budget_id}/surplus-recoveries",
        body,
        key="recover-1",
        **{"If-Match": version},
    )

    # £10,000 a year is £192 a week; 8 weeks is £1,538.40 (192.30 x 8): £1,461.60 recovered
    assert first.status_code == 200, first.json()
    assert again.json() == {**first.json(), "replayed": True}
    assert api.event_count() == count
    balance = api.get("council", f"/v1/budgets/{budget_id}/balance").json()
    returned = balance["surplus_recovered_pence"] + balance["surplus_refunded_pence"]
    assert (balance["held_pence"], returned) == (1_538_40, 1_461_60)
    assert balance["surplus_identified_pence"] == 1_461_60
    assert balance["surplus_outstanding_pence"] == 0
    assert balance["net_drawn_pence"] == 3_000_00 - 1_461_60  # the journal's Budgets:Drawn
