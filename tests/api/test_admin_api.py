"""Administrators' routes through a real client: councils, providers and pooled funds — who may
call them, what they record, and bad input refused with nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.support import COUNCIL, OTHER_COUNCIL, POOL, PROVIDER

NEW, NEW_PROVIDER = "E06000001", "1-555000111"
FORBIDDEN = ("council", "provider", "auditor", "regulator", "representative")
REGISTER = {"code": NEW, "name": "Hartlepool", "effective_on": "2010-04-01"}
POPULATION = {"effective_on": "2010-04-01", "counts": {"physical": 4200, "social": 300}}
SPEND = {"financial_year": "2010-11", "gross_pence": 150_000_000_00, "effective_on": "2011-03-31"}
POLICY = {"surplus_weeks": 6, "invoice_tolerance_bp": 250, "effective_on": "2010-10-01"}
PROVIDER_IN = {"provider_ref": NEW_PROVIDER, "name": "Tees Care Ltd", "effective_on": "2009-06-01"}
STATUS = {"status": "suspended", "effective_on": "2010-07-01"}
FUND = {"fund_ref": "LD-S75", "partners": ["NHS-RV3", "NHS-RRP"], "effective_on": "2010-04-01"}
PAY_IN = {"partner": "NHS-RV3", "amount_pence": 100, "effective_on": "2010-05-01"}
POOLS = f"/v1/councils/{COUNCIL}/pooled-funds"

# Every admin-only route with a body the administrator may send, in an order that works.
ADMIN_ROUTES: list[tuple[str, dict[str, Any]]] = [
    ("/v1/councils", REGISTER),
    (f"/v1/councils/{NEW}/eligible-population", POPULATION),
    (f"/v1/councils/{NEW}/gross-spend", SPEND),
    (f"/v1/councils/{NEW}/policy", POLICY),
    ("/v1/providers", PROVIDER_IN),
    (f"/v1/providers/{NEW_PROVIDER}/status", STATUS),
]


def problem(response: Any) -> tuple[int, str]:
    """The status and the problem's type, without its /problems/ prefix."""
    return response.status_code, response.json()["type"].removeprefix("/problems/")


def with_representative(api: Api) -> None:
    api.tokens["representative"] = api.token(
        "representative", budget_id="0b7c6a52-3f1e-5d44-9a51-2f0e7c11aa01", representative_id="R1"
    )


def test_only_an_administrator_may_call_the_admin_routes(api: Api) -> None:
    with_representative(api)
    for path, body in ADMIN_ROUTES:
        before = api.event_count()

        refusals = [problem(api.post(who, path, body)) for who in FORBIDDEN]
        anonymous = api.client.post(path, json=body, headers={"Idempotency-Key": "anon"})

        assert refusals == [(403, "forbidden-role")] * len(FORBIDDEN), path
        assert problem(anonymous) == (401, "unauthenticated")
        assert api.event_count() == before
        allowed = api.post("admin", path, body)
        assert allowed.status_code in (200, 201), (path, allowed.json())
        assert api.event_count() > before


def test_an_admin_registers_a_council_once(api: Api) -> None:
    created = api.post("admin", "/v1/councils", {**REGISTER, "surplus_weeks": 6}, key="reg-1")
    before = api.event_count()

    again = api.post("admin", "/v1/councils", {**REGISTER, "surplus_weeks": 6}, key="reg-1")
    duplicate = api.post("admin", "/v1/councils", {**REGISTER, "name": "Other name"})

    assert (created.status_code, created.json()["id"], created.headers["ETag"]) == (201, NEW, '"1"')
    assert (again.status_code, again.json()["replayed"]) == (201, True)
    assert problem(duplicate) == (409, "already-exists")
    assert api.event_count() == before
    assert api.service.app.council(NEW).surplus_weeks == 6


def test_eligible_population_and_gross_spend_are_recorded_on_the_council(api: Api) -> None:
    population = api.post("admin", f"/v1/councils/{COUNCIL}/eligible-population", POPULATION)
    spend = api.post("admin", f"/v1/councils/{COUNCIL}/gross-spend", SPEND)

    assert (population.status_code, spend.status_code) == (200, 200)
    assert (population.json()["id"], spend.headers["ETag"]) == (COUNCIL, '"3"')
    council = api.service.app.council(COUNCIL)
    assert list(council.populations.values()) == [{"physical": 4200, "social": 300}]
    assert council.gross_spend == {"2010-11": 150_000_000_00}


def test_a_policy_change_applies_and_refuses_an_implausible_threshold(api: Api) -> None:
    path = f"/v1/councils/{COUNCIL}/policy"
    changed = api.post("admin", path, {**POLICY, "max_contingency_bp": 2000})
    before = api.event_count()

    refused = api.post("admin", path, {**POLICY, "surplus_weeks": 53})
    unknown = api.post("admin", "/v1/councils/E99999999/policy", POLICY)

    assert changed.status_code == 200
    council = api.service.app.council(COUNCIL)
    policy = (council.surplus_weeks, council.invoice_tolerance_bp, council.max_contingency_bp)
    assert policy == (6, 250, 2000)
    assert (refused.status_code, refused.json()["field"]) == (422, "surplus_weeks")
    assert problem(unknown) == (404, "council-not-found")
    assert api.event_count() == before


def test_a_provider_is_registered_once_and_its_status_changes_from_a_date(api: Api) -> None:
    status_path = f"/v1/providers/{NEW_PROVIDER}/status"
    created = api.post("admin", "/v1/providers", PROVIDER_IN)
    suspended = api.post("admin", status_path, STATUS)
    before = api.event_count()

    duplicate = api.post("admin", "/v1/providers", PROVIDER_IN)
    same_again = api.post("admin", status_path, {**STATUS, "effective_on": "2010-08-01"})
    unknown = api.post("admin", "/v1/providers/1-000000000/status", STATUS)

    assert (created.status_code, created.json()["id"]) == (201, NEW_PROVIDER)
    assert (suspended.status_code, suspended.headers["ETag"]) == (200, '"2"')
    assert problem(duplicate) == (409, "already-exists")
    assert problem(same_again) == (409, "invalid-transition")
    assert same_again.json()["record_status"] == "suspended"  # "status" stays the HTTP status
    assert problem(unknown) == (404, "provider-not-found")
    assert api.event_count() == before


def test_a_council_officer_sets_up_its_own_pooled_fund_but_not_anothers(api: Api) -> None:
    with_representative(api)
    before = api.event_count()

    elsewhere = api.post("other_council", POOLS, FUND)
    others = [api.post(who, POOLS, FUND) for who in FORBIDDEN[1:]]
    anonymous = api.client.post(POOLS, json=FUND, headers={"Idempotency-Key": "anon"})

    assert problem(elsewhere) == (403, "out-of-scope")
    assert [problem(r) for r in others] == [(403, "forbidden-role")] * 4
    assert anonymous.status_code == 401
    assert api.event_count() == before
    established = api.post("council", POOLS, FUND)
    pay_in = {**PAY_IN, "partner": "NHS-RRP", "amount_pence": 250_000_00}
    paid_in = api.post("council", f"{POOLS}/LD-S75/contributions", pay_in)
    assert (established.status_code, established.json()["id"]) == (201, "LD-S75")
    assert (paid_in.status_code, paid_in.headers["ETag"]) == (200, '"2"')
    assert api.service.app.pooled_fund(COUNCIL, "LD-S75").contributed_pence == 250_000_00


def test_an_admin_may_pay_into_any_councils_pool_but_only_from_its_partners(api: Api) -> None:
    path = f"{POOLS}/{POOL}/contributions"
    paid_in = api.post("admin", path, PAY_IN)
    before = api.event_count()

    stranger = api.post("admin", path, {**PAY_IN, "partner": "NHS-XYZ"})
    elsewhere = api.post("other_council", path, PAY_IN)
    no_fund = api.post(
        "admin", f"/v1/councils/{OTHER_COUNCIL}/pooled-funds/{POOL}/contributions", PAY_IN
    )
    duplicate = api.post("council", POOLS, {**FUND, "fund_ref": POOL})

    assert paid_in.status_code == 200
    assert (stranger.status_code, stranger.json()["field"]) == (422, "partner")
    assert problem(elsewhere) == (403, "out-of-scope")
    assert problem(no_fund) == (404, "pooled-fund-not-found")
    assert problem(duplicate) == (409, "already-exists")
    assert api.event_count() == before


ROUTES: dict[str, tuple[str, dict[str, Any]]] = {
    "council": ("/v1/councils", REGISTER),
    "population": (f"/v1/councils/{COUNCIL}/eligible-population", POPULATION),
    "spend": (f"/v1/councils/{COUNCIL}/gross-spend", SPEND),
    "provider": ("/v1/providers", PROVIDER_IN),
    "status": (f"/v1/providers/{PROVIDER}/status", STATUS),
    "fund": (POOLS, FUND),
    "pay-in": (f"{POOLS}/{POOL}/contributions", PAY_IN),
}


@pytest.mark.parametrize(
    ("route", "changes"),
    [
        pytest.param("council", {"code": "E06\x00001"}, id="nul-in-code"),
        pytest.param("council", {"name": "Hartle\npool"}, id="newline-in-name"),
        pytest.param("council", {"code": "E06\u202e001"}, id="bidi-in-code"),
        pytest.param("council", {"code": "E" * 17}, id="over-long-code"),
        pytest.param("council", {"surplus_weeks": 10**30}, id="huge-weeks"),
        pytest.param("council", {"surplus_weeks": "8"}, id="weeks-as-string"),
        pytest.param("council", {"max_contingency_bp": -1}, id="negative-contingency"),
        pytest.param("council", {"effective_on": 20100401}, id="date-as-number"),
        pytest.param("council", {"colour": "red"}, id="unknown-field"),
        pytest.param("population", {"counts": {"wellbeing": 10}}, id="unknown-support-reason"),
        pytest.param("population", {"counts": {"physical": -1}}, id="negative-count"),
        pytest.param("population", {"counts": {"physical": 10**12}}, id="huge-count"),
        pytest.param("population", {"counts": {"physical": 1.5}}, id="fractional-count"),
        pytest.param("population", {"counts": {"physical": True}}, id="boolean-count"),
        pytest.param("population", {"counts": {}}, id="no-counts"),
        pytest.param("spend", {"financial_year": "2010-12"}, id="non-consecutive-year"),
        pytest.param(
            "spend", {"financial_year": "\uff12\uff10\uff11\uff10-11"}, id="full-width-digits"
        ),
        pytest.param("spend", {"gross_pence": 10**30}, id="huge-spend"),
        pytest.param("spend", {"gross_pence": 0}, id="zero-spend"),
        pytest.param("provider", {"provider_ref": "1-\t23"}, id="tab-in-provider-ref"),
        pytest.param("provider", {"name": "x" * 121}, id="over-long-name"),
        pytest.param("status", {"status": "closed"}, id="unknown-status"),
        pytest.param("fund", {"partners": ["A", "A"]}, id="repeated-partner"),
        pytest.param("fund", {"partners": [f"P{i}" for i in range(11)]}, id="too-many-partners"),
        pytest.param("fund", {"partners": []}, id="no-partners"),
        pytest.param("pay-in", {"amount_pence": 0}, id="zero-contribution"),
        pytest.param("pay-in", {"amount_pence": -100}, id="negative-contribution"),
        pytest.param("pay-in", {"amount_pence": 10**30}, id="huge-contribution"),
    ],
)
def test_bad_input_is_a_4xx_problem_and_writes_nothing(
    api: Api, route: str, changes: dict[str, Any]
) -> None:
    path, body = ROUTES[route]
    before = api.event_count()

    refused = api.post("admin", path, {**body, **changes})

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert problem(refused)[1] in ("invalid-request", "invalid-command")
    assert api.event_count() == before


def test_malformed_json_and_control_characters_in_the_path_are_refused(api: Api) -> None:
    before = api.event_count()

    malformed = api.client.post(
        "/v1/councils",
        content=b'{"code": "E06000001",',
        headers=api.headers(
            "admin", **{"Idempotency-Key": "m", "Content-Type": "application/json"}
        ),
    )
    control = api.post("admin", "/v1/councils/E09%0A000033/policy", POLICY)

    assert problem(malformed) == (400, "malformed-json")
    assert problem(control) == (422, "invalid-request")
    assert api.event_count() == before


# --- one identity, however it is spelt --------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", [COUNCIL.lower(), f" {COUNCIL} ", COUNCIL[:3] + " " + COUNCIL[3:]]
)
def test_a_look_alike_council_code_is_the_council_itself(api: Api, spelling: str) -> None:
    before = api.event_count()

    again = api.post("admin", "/v1/councils", {**REGISTER, "code": spelling})
    full_width = api.post("admin", "/v1/councils", {**REGISTER, "code": "\uff25" + COUNCIL[1:]})
    progress = api.get("auditor", f"/v1/councils/{spelling}/progress")
    trial = api.get("auditor", "/v1/ledger/trial-balance", council=spelling)
    exact = api.get("auditor", "/v1/ledger/trial-balance", council=COUNCIL)
    invoices = api.get("auditor", "/v1/invoices", council=spelling)
    audit = api.get("regulator", "/v1/audit", council=spelling)

    assert problem(again) == problem(full_width) == (409, "already-exists")
    assert api.event_count() == before
    assert progress.status_code == 200 and progress.json()["council"] == COUNCIL
    assert trial.json() == exact.json() and trial.json()["accounts"]
    assert invoices.json() == api.get("auditor", "/v1/invoices", council=COUNCIL).json()
    assert audit.json()["items"]


def test_a_look_alike_provider_or_fund_is_the_one_registered(api: Api) -> None:
    before = api.event_count()

    provider = api.post("admin", "/v1/providers", {**PROVIDER_IN, "provider_ref": f"{PROVIDER} "})
    fund = api.post("admin", POOLS, {**FUND, "fund_ref": POOL.lower()})
    refused = api.event_count()
    status = api.post("admin", f"/v1/providers/{PROVIDER.lower()}%20/status", STATUS)

    assert problem(provider) == problem(fund) == (409, "already-exists")
    assert refused == before
    assert status.status_code == 200, status.json()
    assert status.json()["id"] == PROVIDER  # the registered firm's status changed


FILTERED_ROUTES = [
    ("auditor", "/v1/spend-by-provider"),
    ("auditor", "/v1/exceptions"),
    ("auditor", "/v1/ledger/trial-balance"),
    ("auditor", "/v1/export/journal"),
    ("regulator", "/v1/audit"),
    ("auditor", "/v1/invoices"),
]


@pytest.mark.parametrize(("who", "path"), FILTERED_ROUTES)
def test_a_filter_naming_no_registered_council_is_404_not_an_empty_answer(
    api: Api, who: str, path: str
) -> None:
    unknown = api.get(who, path, council="E99999999")

    assert problem(unknown) == (404, "council-not-found")
    assert unknown.json()["council"] == "E99999999"


def test_an_invoice_filter_naming_no_registered_firm_is_404(api: Api) -> None:
    unknown = api.get("auditor", "/v1/invoices", provider="1-000000000")

    assert problem(unknown) == (404, "provider-not-found")
