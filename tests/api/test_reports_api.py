"""Reports through a real client: spend by provider, progress, exceptions, the trial balance and
the journal export — hand-checked figures, as known now and at an earlier instant, and who may
read each."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger.values import Period
from tests.api.conftest import Api
from tests.support import COUNCIL, FOUR_WEEKS, OTHER_COUNCIL, PROVIDER, World

MAY = Period(date(2010, 5, 3), date(2010, 5, 30))
BEAN_CHECK = Path(".venv/bin/bean-check")


@dataclass
class Scenario:
    world: World
    budget_id: str
    april_invoice: str
    may_invoice: str
    before_payment: datetime  # after the April invoice's approval and the cash payment


def pause() -> datetime:
    """An instant strictly between the events recorded before and after it."""
    time.sleep(0.01)
    instant = datetime.now(UTC)
    time.sleep(0.01)
    return instant


def build(api: Api) -> Scenario:
    """One budget (£10,000: £9,000 council fund, £1,000 client) in Westminster; an April invoice
    of £520 (40 hours at £13) approved, a £400 cash payment, then — after ``before_payment`` —
    the April invoice paid and a £520 May invoice posted."""
    world = World(api.service.app, itertools.count(1000))
    app = api.service.app
    budget_id = world.active_budget()
    april = app.post_invoice(PROVIDER, world.draft(budget_id), world.as_provider())["invoice_id"]
    app.approve_invoice(april, date(2010, 5, 3), world.prov())
    app.issue_cash_payment(budget_id, 400_00, FOUR_WEEKS, date(2010, 4, 5), world.prov())
    instant = pause()
    app.pay_invoice(april, "REM-1", date(2010, 5, 10), world.prov())
    may = app.post_invoice(
        PROVIDER, world.draft(budget_id, "INV-0002", period=MAY), world.as_provider()
    )["invoice_id"]
    return Scenario(world, budget_id, april, may, instant)


def measures(**figures: tuple[int, int]) -> dict[str, int]:
    stages = ("invoiced", "flagged", "approved", "disputed", "rejected", "paid", "credit_notes")
    row = {f"{s}_{unit}": 0 for s in stages for unit in ("count", "pence")}
    for stage, (count, pence) in figures.items():
        row[f"{stage}_count"], row[f"{stage}_pence"] = count, pence
    return row


# --- spend by provider ----------------------------------------------------------------------


def test_spend_by_provider_counts_each_stage_in_the_months_asked_for(api: Api) -> None:
    build(api)

    april = api.get("council", "/v1/spend-by-provider", **{"from": "2010-04", "to": "2010-04"})
    both = api.get("regulator", "/v1/spend-by-provider", council=COUNCIL)

    assert april.status_code == 200
    assert april.json()["items"] == [
        {"council": COUNCIL, "provider": PROVIDER,
         **measures(invoiced=(1, 520_00), approved=(1, 520_00), paid=(1, 520_00))}
    ]  # fmt: skip
    assert both.json()["items"] == [
        {"council": COUNCIL, "provider": PROVIDER,
         **measures(invoiced=(2, 1_040_00), approved=(1, 520_00), paid=(1, 520_00))}
    ]  # fmt: skip


def test_spend_as_at_an_earlier_instant_excludes_the_later_payment(api: Api) -> None:
    s = build(api)

    then = api.get("auditor", "/v1/spend-by-provider", as_at=s.before_payment.isoformat())

    assert then.status_code == 200
    assert then.json()["items"] == [
        {"council": COUNCIL, "provider": PROVIDER,
         **measures(invoiced=(1, 520_00), approved=(1, 520_00))}
    ]  # fmt: skip
    assert 0 < then.json()["as_at_position"] < api.event_count()


def test_spend_refuses_a_malformed_or_reversed_month_range(api: Api) -> None:
    bad_month = api.get("auditor", "/v1/spend-by-provider", **{"from": "2010-13"})
    reversed_ = api.get("auditor", "/v1/spend-by-provider", **{"from": "2010-05", "to": "2010-04"})

    assert (bad_month.status_code, reversed_.status_code) == (422, 422)
    assert reversed_.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("as_at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1"])
@pytest.mark.parametrize("path", ["/v1/spend-by-provider", "/v1/ledger/trial-balance"])
def test_an_instant_outside_the_ledgers_years_is_refused(api: Api, path: str, as_at: str) -> None:
    response = api.get("auditor", path, as_at=as_at)

    assert (response.status_code, response.json()["field"]) == (422, "query.as_at")


# --- progress ----------------------------------------------------------------------------------


def with_population(api: Api, s: Scenario) -> None:
    app = api.service.app
    app.record_eligible_population(COUNCIL, {"physical": 10}, date(2010, 4, 1), s.world.admin())


def test_a_councils_progress_counts_its_budgets_against_its_eligible_people(api: Api) -> None:
    s = build(api)
    with_population(api, s)

    later = api.get("provider", f"/v1/councils/{COUNCIL}/progress", on="2011-03-31")
    before_approval = api.get("council", f"/v1/councils/{COUNCIL}/progress", on="2010-04-04")

    assert later.status_code == 200
    users = later.json()["users"]
    people = ("eligible_people", "people_with_budget", "people_on_direct_payment")
    assert tuple(users[k] for k in people) == (10, 1, 1)
    assert users["with_budget_share_of_eligible_bp"] == 1000
    assert users["with_budget_share_of_eligible_ratio"] == "1/10"
    assert later.json()["meets_target"] is False
    assert before_approval.json()["users"]["people_with_budget"] == 0


def test_progress_as_at_an_instant_before_the_population_was_recorded(api: Api) -> None:
    s = build(api)
    instant = pause()
    with_population(api, s)

    now = api.get("regulator", "/v1/national/progress", on="2011-03-31")
    then = api.get("regulator", "/v1/national/progress", on="2011-03-31", as_at=instant.isoformat())

    assert now.status_code == then.status_code == 200
    assert (now.json()["councils"], now.json()["councils_with_population"]) == (2, 1)
    assert now.json()["users"]["eligible_people"] == 10
    assert then.json()["users"]["eligible_people"] == 0
    assert then.json()["users"]["people_with_budget"] == 1


def test_a_missing_council_has_no_progress(api: Api) -> None:
    assert api.get("regulator", "/v1/councils/E99999999/progress").status_code == 404


# --- exceptions ----------------------------------------------------------------------------------


def test_exceptions_list_an_over_plan_invoice_for_its_council(api: Api) -> None:
    s = build(api)
    over = Period(date(2010, 6, 7), date(2010, 7, 4))
    draft = s.world.draft(s.budget_id, "INV-0003", hours_hundredths=10_000, period=over)
    invoice = api.service.app.post_invoice(PROVIDER, draft, s.world.as_provider())["invoice_id"]

    page = api.get("council", "/v1/exceptions", kind="over-plan", on="2010-12-31")
    none_elsewhere = api.get("other_council", "/v1/exceptions", kind="over-plan", on="2010-12-31")

    assert page.status_code == 200
    (item,) = page.json()["items"]
    assert {k: item[k] for k in ("kind", "invoice_id", "amount_pence", "provider")} == {
        "kind": "over-plan", "invoice_id": invoice, "amount_pence": 1_300_00, "provider": PROVIDER
    }  # fmt: skip
    assert (item["council"], item["effective_on"]) == (COUNCIL, "2010-07-04")  # invoice date
    assert none_elsewhere.json()["items"] == []


def test_exceptions_refuse_an_unknown_kind_or_cursor(api: Api) -> None:
    bad_kind = api.get("auditor", "/v1/exceptions", kind="no-such-kind")
    bad_cursor = api.get("auditor", "/v1/exceptions", cursor="zz")

    assert (bad_kind.status_code, bad_cursor.status_code) == (422, 400)
    assert bad_cursor.json()["type"] == "/problems/invalid-cursor"


# --- trial balance -------------------------------------------------------------------------------

WESTMINSTER_NOW = {
    "Assets:Bank": -920_00,
    "Assets:DirectPaymentAccounts": 400_00,
    "Budgets:Available": 10_000_00 - 520_00 - 400_00,
    "Budgets:Drawn": 920_00,
    "Expenses:CommissionedCare": 520_00,
    "Funding:ClientContribution": -1_000_00,
    "Funding:CouncilFund": -9_000_00,
    "Liabilities:ProviderPayable": 0,
    "Pool:Held": 50_000_00,
    "Pool:PartnerContributions": -50_000_00,
}


def balances(body: dict[str, Any]) -> dict[str, int]:
    return {a["account"]: a["balance_pence"] for a in body["accounts"]}


def trial_balance(api: Api, **params: Any) -> dict[str, int]:
    return balances(api.get("auditor", "/v1/ledger/trial-balance", **params).json())


def test_the_trial_balance_is_zero_and_equals_the_ledgers_postings(api: Api) -> None:
    s = build(api)

    response = api.get("auditor", "/v1/ledger/trial-balance", council=COUNCIL)

    body = response.json()
    assert response.status_code == 200
    assert balances(body) == WESTMINSTER_NOW
    assert body["total"]["balance_pence"] == 0 and body["balanced"] is True
    assert body["total"]["debit_pence"] == body["total"]["credit_pence"] > 0
    assert balances(body) == s.world.trial_balance()  # the postings of every stored event


def test_the_trial_balance_as_at_an_earlier_instant_excludes_the_later_payment(api: Api) -> None:
    s = build(api)

    then = api.get("auditor", "/v1/ledger/trial-balance", as_at=s.before_payment.isoformat())

    figures = balances(then.json())
    assert then.json()["balanced"] is True
    assert figures["Assets:Bank"] == -400_00  # only the cash payment: the invoice is not paid
    assert figures["Liabilities:ProviderPayable"] == -520_00
    assert then.json()["as_at_position"] < api.event_count()


# --- the journal export --------------------------------------------------------------------------

EXPORTED_ROOTS = {"Equity:Funding": "Funding", "Equity:Budgets": "Budgets",
                  "Assets:Pool": "Pool", "Liabilities:Pool": "Pool"}  # fmt: skip


def ledger_account(exported: str) -> str:
    """An exported name back to the ledger's own account (drop the council; undo the roots)."""
    name = exported.rsplit(":", 1)[0]
    for prefix, root in EXPORTED_ROOTS.items():
        if name.startswith(prefix + ":"):
            return root + name[len(prefix) :]
    return name


def hledger_totals(text: str) -> dict[str, int]:
    """Per-account totals of an hledger journal; every transaction must balance."""
    totals: dict[str, int] = {}
    for block in text.strip().split("\n\n"):
        lines = [x for x in block.splitlines() if not x.startswith((";", "account "))]
        if not lines:
            continue
        head, postings = lines[0], lines[1:]
        assert head[:10] == date.fromisoformat(head[:10]).isoformat()
        assert "entry:" in head and "actor:" in head
        entry = 0
        for line in postings:
            account, amount = line.split()
            pence = int(Decimal(amount.replace("£", "")) * 100)
            entry += pence
            totals[ledger_account(account)] = totals.get(ledger_account(account), 0) + pence
        assert entry == 0, head
    return totals


def test_the_hledger_export_balances_and_totals_to_the_trial_balance(api: Api) -> None:
    build(api)

    response = api.get("auditor", "/v1/export/journal", format="hledger")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "Assets:Bank:E09000033" in response.text
    assert hledger_totals(response.text) == trial_balance(api) == WESTMINSTER_NOW


def test_the_beancount_export_passes_bean_check_and_totals_to_the_trial_balance(
    api: Api, tmp_path: Path
) -> None:
    if not BEAN_CHECK.exists() and shutil.which("bean-check") is None:
        pytest.skip("bean-check (beancount, a dev dependency) is not installed")
    from beancount import loader

    build(api)

    text = api.get("auditor", "/v1/export/journal", format="beancount").text
    path = tmp_path / "careledger.beancount"
    path.write_text(text)
    checked = subprocess.run(
        [str(BEAN_CHECK if BEAN_CHECK.exists() else shutil.which("bean-check")), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    totals: dict[str, int] = {}
    for entry in entries:
        for posting in getattr(entry, "postings", None) or []:
            account = ledger_account(posting.account)
            totals[account] = totals.get(account, 0) + int(posting.units.number * 100)
    assert totals == trial_balance(api) == WESTMINSTER_NOW


def test_the_export_as_at_an_instant_and_for_one_council(api: Api) -> None:
    s = build(api)

    then = api.get("auditor", "/v1/export/journal", as_at=s.before_payment.isoformat())
    elsewhere = api.get("auditor", "/v1/export/journal", council=OTHER_COUNCIL)

    assert "Invoice.Paid" not in then.text and "Invoice.Approved" in then.text
    assert hledger_totals(then.text) == trial_balance(api, as_at=s.before_payment.isoformat())
    assert hledger_totals(then.text)["Assets:Bank"] == -400_00
    assert hledger_totals(elsewhere.text) == {}


def test_the_export_refuses_an_unknown_format(api: Api) -> None:
    assert api.get("auditor", "/v1/export/journal", format="csv").status_code == 422


# --- who may read what -----------------------------------------------------------------------

READERS = {"council", "other_council", "provider", "other_provider", "auditor", "regulator"}
ACCESS = {
    "/v1/spend-by-provider": {"council", "other_council", "auditor", "regulator"},
    f"/v1/councils/{COUNCIL}/progress": READERS,  # published measures: any council's
    "/v1/national/progress": READERS,
    "/v1/exceptions": {"council", "other_council", "auditor"},
    "/v1/ledger/trial-balance": {"auditor"},
    "/v1/export/journal": {"auditor"},
}


@pytest.mark.parametrize("path", list(ACCESS))
def test_each_report_admits_its_readers_and_refuses_everyone_else(api: Api, path: str) -> None:
    s = build(api)
    api.tokens["representative"] = api.token(
        "representative", budget_id=s.budget_id, representative_id="R1"
    )

    statuses = {who: api.get(who, path).status_code for who in api.tokens}

    assert statuses == {who: 200 if who in ACCESS[path] else 403 for who in api.tokens}
    assert api.client.get(path).status_code == 401


SCOPED = {
    "/v1/spend-by-provider": ("other_council", "scoped_auditor"),
    "/v1/exceptions": ("other_council", "scoped_auditor"),
    "/v1/ledger/trial-balance": ("scoped_auditor",),
    "/v1/export/journal": ("scoped_auditor",),
}


@pytest.mark.parametrize("path", list(SCOPED))
def test_a_council_and_a_scoped_auditor_read_only_their_own_council(api: Api, path: str) -> None:
    api.tokens["scoped_auditor"] = api.token("auditor", council=OTHER_COUNCIL)

    own = [api.get(who, path, council=OTHER_COUNCIL).status_code for who in SCOPED[path]]
    other = [api.get(who, path, council=COUNCIL) for who in SCOPED[path]]

    assert own == [200] * len(SCOPED[path])
    assert [r.status_code for r in other] == [403] * len(SCOPED[path])
    assert {r.json()["type"] for r in other} == {"/problems/out-of-scope"}


def test_a_scoped_readers_default_is_its_own_council(api: Api) -> None:
    build(api)
    api.tokens["scoped_auditor"] = api.token("auditor", council=OTHER_COUNCIL)

    spend = api.get("other_council", "/v1/spend-by-provider").json()
    balance = api.get("scoped_auditor", "/v1/ledger/trial-balance").json()
    journal = api.get("scoped_auditor", "/v1/export/journal").text

    assert (spend["council"], spend["items"]) == (OTHER_COUNCIL, [])
    assert (balance["council"], balance["accounts"]) == (OTHER_COUNCIL, [])
    assert COUNCIL not in journal
