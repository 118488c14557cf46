"""One meaning per figure through the API (issue 11): the balance, the statement, the trial
balance and the council's progress agree on a budget paid 335,000p in cash, 8,000p of it
corrected and 50,000p of surplus recovered; and /openapi.json describes each figure with its
glossary meaning."""

from __future__ import annotations

from typing import Any

from api.glossary import GLOSSARY
from tests.api.conftest import Api, active_budget

PERIOD = {"start": "2010-04-05", "end": "2010-05-02"}
ALLOCATED = 10_000_00
YEAR_END = "2011-03-31"


def paid_corrected_and_recovered(api: Api) -> str:
    budget_id = active_budget(api, deployment="direct-payment")
    paid = api.post(
        "council",
        f"/v1/budgets/{budget_id}/cash-payments",
        {"amount_pence": 335_000, "period": PERIOD, "effective_on": "2010-04-05"},
    )
    correction = {
        "entry_id": f"{budget_id}/{paid.json()['version']}",
        "amount_pence": 8_000,
        "effective_on": "2010-04-06",
        "reason": "paid-twice",
    }
    assert api.post("council", "/v1/corrections", correction).status_code == 200
    recovery = {"amount_pence": 50_000, "effective_on": "2010-06-14"}
    recovered = api.post("council", f"/v1/budgets/{budget_id}/surplus-recoveries", recovery)
    assert recovered.status_code == 200, recovered.json()
    return budget_id


def test_the_balance_names_gross_figures_adjustments_and_nets_apart(api: Api) -> None:
    budget_id = paid_corrected_and_recovered(api)

    balance = api.get("council", f"/v1/budgets/{budget_id}/balance").json()

    # 8 weeks of £10,000 a year (19,230p a week) is 153,840p; 327,000 held - 153,840 = 173,160.
    assert {k: balance[k] for k in FIGURES} == {
        "allocated_pence": ALLOCATED,
        "cash_paid_pence": 335_000,  # gross
        "cash_reversed_pence": 8_000,
        "net_drawn_pence": 335_000 - 8_000 - 50_000,  # 277,000: the journal's Budgets:Drawn
        "available_pence": ALLOCATED - 327_000,  # recovered money goes to the council
        "surplus_identified_pence": 173_160,
        "surplus_outstanding_pence": 173_160 - 50_000,
        "surplus_recovered_pence": 50_000,
        "surplus_refunded_pence": 0,
        "held_pence": 327_000 - 50_000,
        "weekly_funding_pence": 19_230,
        "weeks_of_funding_held_x100": 277_000 * 100 // 19_230,  # 14.40 weeks
    }


FIGURES = (
    "allocated_pence", "cash_paid_pence", "cash_reversed_pence", "net_drawn_pence",
    "available_pence", "surplus_identified_pence", "surplus_outstanding_pence",
    "surplus_recovered_pence", "surplus_refunded_pence", "held_pence", "weekly_funding_pence",
    "weeks_of_funding_held_x100",
)  # fmt: skip


def test_the_trial_balance_statement_and_progress_agree_with_the_balance(api: Api) -> None:
    budget_id = paid_corrected_and_recovered(api)
    balance = api.get("council", f"/v1/budgets/{budget_id}/balance").json()

    trial = api.get("auditor", "/v1/ledger/trial-balance").json()
    statement = api.get("council", f"/v1/budgets/{budget_id}/statement").json()
    progress = api.get("council", "/v1/councils/E09000033/progress", on=YEAR_END).json()

    accounts = {a["account"]: a["balance_pence"] for a in trial["accounts"]}
    assert accounts["Budgets:Drawn"] == balance["net_drawn_pence"] == 277_000
    assert accounts["Budgets:Available"] == balance["available_pence"]
    assert accounts["Budgets:Recovered"] == 50_000
    assert accounts["Assets:DirectPaymentAccounts"] == balance["held_pence"]
    lines = statement["items"]
    assert [line["available_change_pence"] for line in lines] == [ALLOCATED, -335_000, 8_000]
    assert lines[-1]["available_pence"] == balance["available_pence"]
    assert progress["users"]["net_budget_spend_pence"] == 277_000
    assert progress["spend"]["net_budget_spend_pence"] == 277_000


def described(schema: dict[str, Any], component: str) -> dict[str, str | None]:
    properties = schema["components"]["schemas"][component]["properties"]
    return {name: p.get("description") for name, p in properties.items()}


def test_openapi_describes_every_figure_with_its_glossary_meaning(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    paths = schema["paths"]
    routes = {
        "/v1/budgets/{budget_id}/balance": "BudgetBalanceOut",
        "/v1/budgets/{budget_id}/statement": "Statement",
        "/v1/ledger/trial-balance": "TrialBalance",
        "/v1/councils/{code}/progress": "CouncilProgress",
        "/v1/national/progress": "NationalProgress",
        "/v1/spend-by-provider": "SpendByProvider",
    }

    for path, component in routes.items():
        ok = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{component}"}
    nested = ("StatementLine", "TrialBalanceAccount", "Users", "UserMeasures", "Carers",
              "Spend", "CouncilPooledFunds", "PoolFund", "Uptake", "SpendRow")  # fmt: skip
    for component in (*routes.values(), *nested):
        descriptions = described(schema, component)
        assert descriptions == {name: GLOSSARY[name] for name in descriptions}, component
    assert "weeks_of_funding_held_x100" in described(schema, "BudgetBalanceOut")


def test_a_budgets_and_an_invoices_figures_carry_their_glossary_meaning(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    figures = {
        "BudgetOut": ("available_pence", "held_pence"),
        "AllocationOut": ("contingency_pence",),
        "InvoiceLineOut": ("amount_pence",),
        "InvoiceEvent": ("amount_pence",),
        "InvoiceWritten": ("amount_pence",),
    }

    for component, names in figures.items():
        descriptions = described(schema, component)
        assert {n: descriptions[n] for n in names} == {n: GLOSSARY[n] for n in names}, component
