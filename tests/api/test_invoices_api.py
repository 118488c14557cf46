"""Care firms' invoices through a real client: posting, handling, credit notes, reads, batches."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import OTHER_PROVIDER, Api, active_budget
from tests.support import COUNCIL, OTHER_COUNCIL, PROVIDER

FOUR_WEEKS = {"start": "2010-04-05", "end": "2010-05-02"}
NEXT_FOUR_WEEKS = {"start": "2010-05-03", "end": "2010-05-30"}
THIRD_FOUR_WEEKS = {"start": "2010-05-31", "end": "2010-06-27"}


def invoice_body(
    budget_id: str, number: str = "INV-0001", hours: int = 4000, period: Any = None
) -> dict[str, Any]:
    """Hours of home care at £13.00 an hour: 40 hours in four weeks is £520, within the plan."""
    period = period or FOUR_WEEKS
    return {
        "invoice_number": number,
        "budget_id": budget_id,
        "period": period,
        "lines": [{"service": "home-care", "units_hundredths": hours, "rate_pence": 13_00}],
        "invoice_date": period["end"],
    }


def posted(api: Api, budget_id: str, who: str = "provider", **body: Any) -> str:
    response = api.post(who, "/v1/invoices", invoice_body(budget_id, **body))
    assert response.status_code == 201, response.json()
    invoice_id: str = response.json()["id"]
    return invoice_id


def approved(api: Api, budget_id: str) -> str:
    invoice_id = posted(api, budget_id)
    approval = {"effective_on": "2010-05-03"}
    assert api.post("council", f"/v1/invoices/{invoice_id}/approval", approval).status_code == 200
    return invoice_id


def refused_with(response: Any, status: int, problem: str) -> None:
    assert response.status_code == status, response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"/problems/{problem}"


def test_a_provider_posts_a_council_approves_and_pays_and_the_provider_credits(api: Api) -> None:
    budget_id = active_budget(api)

    created = api.post("provider", "/v1/invoices", invoice_body(budget_id))
    invoice_id = created.json()["id"]
    path = f"/v1/invoices/{invoice_id}"
    approval = api.post(
        "council", f"{path}/approval", {"effective_on": "2010-05-03"}, **{"If-Match": '"1"'}
    )
    payment = api.post(
        "council",
        f"{path}/payment",
        {"effective_on": "2010-05-10", "remittance_ref": "BACS-000123"},
        **{"If-Match": approval.headers["ETag"]},
    )
    credit = api.post(
        "provider",
        f"{path}/credit-notes",
        {"credit_note_number": "CN-1", "amount_pence": 13_00, "effective_on": "2010-05-20"},
    )

    assert created.status_code == 201
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == path
    assert created.json() == {
        "id": invoice_id,
        "version": 1,
        "status": "posted",
        "flags": [],
        "amount_pence": 520_00,
        "approved_pence": 0,
        "short_paid_pence": 0,
        "short_pay_rest": None,
        "replayed": False,
    }
    assert (approval.status_code, approval.json()["status"], approval.headers["ETag"]) == (
        200,
        "approved",
        '"2"',
    )
    assert (payment.status_code, payment.json()["status"]) == (200, "paid")
    assert (credit.status_code, credit.headers["ETag"]) == (200, '"4"')


def test_the_provider_reads_its_invoice_with_status_and_history(api: Api) -> None:
    budget_id = active_budget(api)
    invoice_id = approved(api, budget_id)

    read = api.get("provider", f"/v1/invoices/{invoice_id}")

    assert read.status_code == 200
    assert read.headers["ETag"] == '"2"'
    invoice = read.json()
    assert (invoice["status"], invoice["provider"], invoice["council"]) == (
        "approved",
        PROVIDER,
        COUNCIL,
    )
    assert (invoice["amount_pence"], invoice["approved_pence"]) == (520_00, 520_00)
    assert [(h["version"], h["event_type"], h["status"]) for h in invoice["history"]] == [
        (1, "Invoice.Posted", "posted"),
        (2, "Invoice.Approved", "approved"),
    ]
    assert invoice["history"][1]["actor_role"] == "council"


def test_lists_are_scoped_to_the_caller_and_paged_with_a_cursor(api: Api) -> None:
    budget_id = active_budget(api)
    mine = [
        posted(api, budget_id, number=f"INV-{n}", period=p)
        for n, p in ((1, FOUR_WEEKS), (2, NEXT_FOUR_WEEKS))
    ]
    theirs = posted(api, budget_id, who="other_provider", number="X-1")

    own = api.get("provider", "/v1/invoices").json()
    first = api.get("auditor", "/v1/invoices", limit=2).json()
    rest = api.get("auditor", "/v1/invoices", limit=2, cursor=first["next_cursor"]).json()
    whole = api.get("auditor", "/v1/invoices", limit=3).json()
    flagged = api.get("council", "/v1/invoices", status="flagged").json()
    elsewhere = api.get("other_council", "/v1/invoices").json()

    assert ([i["id"] for i in own["items"]], own["next_cursor"], own["has_more"]) == (
        mine,
        None,
        False,
    )
    assert first["has_more"] is True
    assert [i["id"] for i in first["items"] + rest["items"]] == [*mine, theirs]
    assert (rest["next_cursor"], len(whole["items"]), whole["next_cursor"]) == (None, 3, None)
    assert [(i["id"], i["provider"]) for i in flagged["items"]] == [(theirs, OTHER_PROVIDER)]
    assert elsewhere["items"] == []


def test_asking_to_list_another_provider_or_council_is_forbidden(api: Api) -> None:
    other_provider = api.get("provider", "/v1/invoices", provider=OTHER_PROVIDER)
    other_council = api.get("council", "/v1/invoices", council=OTHER_COUNCIL)
    regulator = api.get("regulator", "/v1/invoices")

    refused_with(other_provider, 403, "out-of-scope")
    refused_with(other_council, 403, "out-of-scope")
    refused_with(regulator, 403, "forbidden-role")


def test_an_auditor_scoped_to_a_council_reads_only_that_councils_invoices(api: Api) -> None:
    budget_id = active_budget(api)
    invoice_id = posted(api, budget_id)
    api.tokens["other_auditor"] = api.token("auditor", council=OTHER_COUNCIL)

    read = api.get("other_auditor", f"/v1/invoices/{invoice_id}")
    listed = api.get("other_auditor", "/v1/invoices")
    asked = api.get("other_auditor", "/v1/invoices", council=COUNCIL)

    refused_with(read, 404, "invoice-not-found")
    assert (listed.status_code, listed.json()["items"]) == (200, [])
    refused_with(asked, 403, "out-of-scope")


def test_other_providers_and_councils_cannot_see_or_touch_an_invoice(api: Api) -> None:
    budget_id = active_budget(api)
    invoice_id = posted(api, budget_id)
    path = f"/v1/invoices/{invoice_id}"
    before = api.event_count()

    other_provider_read = api.get("other_provider", path)
    other_provider_credit = api.post(
        "other_provider",
        f"{path}/credit-notes",
        {"credit_note_number": "CN-1", "amount_pence": 100, "effective_on": "2010-05-20"},
    )
    other_council_read = api.get("other_council", path)
    other_council_approval = api.post(
        "other_council", f"{path}/approval", {"effective_on": "2010-05-03"}
    )
    auditor_read = api.get("auditor", path)
    auditor_approval = api.post("auditor", f"{path}/approval", {"effective_on": "2010-05-03"})
    provider_approval = api.post("provider", f"{path}/approval", {"effective_on": "2010-05-03"})
    regulator_read = api.get("regulator", path)

    for response in (other_provider_read, other_provider_credit):
        refused_with(response, 404, "invoice-not-found")
    for response in (other_council_read, other_council_approval):
        refused_with(response, 404, "invoice-not-found")
    assert auditor_read.status_code == 200
    for response in (auditor_approval, provider_approval, regulator_read):
        refused_with(response, 403, "forbidden-role")
    assert api.event_count() == before


def test_a_provider_cannot_name_another_provider_and_a_council_cannot_post(api: Api) -> None:
    budget_id = active_budget(api)
    before = api.event_count()

    as_other = api.post(
        "provider", "/v1/invoices", {**invoice_body(budget_id), "provider": OTHER_PROVIDER}
    )
    by_council = api.post("council", "/v1/invoices", invoice_body(budget_id))

    refused_with(as_other, 422, "invalid-request")
    assert as_other.json()["field"] == "provider"
    refused_with(by_council, 403, "forbidden-role")
    assert api.event_count() == before


def test_a_repeated_invoice_number_is_a_409_and_a_retry_replays(api: Api) -> None:
    budget_id = active_budget(api)
    first = api.post("provider", "/v1/invoices", invoice_body(budget_id), key="inv-1")
    before = api.event_count()

    retry = api.post("provider", "/v1/invoices", invoice_body(budget_id), key="inv-1")
    duplicate = api.post("provider", "/v1/invoices", invoice_body(budget_id), key="inv-2")

    assert (retry.status_code, retry.json()["id"], retry.json()["replayed"]) == (
        201,
        first.json()["id"],
        True,
    )
    refused_with(duplicate, 409, "duplicate-invoice")
    assert api.event_count() == before


def test_a_batch_reports_each_item_and_a_retry_returns_the_same_results(api: Api) -> None:
    budget_id = active_budget(api)
    posted(api, budget_id, number="INV-OLD")
    batch = {
        "invoices": [
            invoice_body(budget_id, "INV-1", period=NEXT_FOUR_WEEKS),
            invoice_body(budget_id, "INV-OLD"),
            invoice_body(str(uuid.uuid4()), "INV-2"),
            invoice_body(budget_id, "INV-3", period=THIRD_FOUR_WEEKS),
        ]
    }
    before = api.event_count()

    first = api.post("provider", "/v1/invoices/batch", batch, key="run-2010-05")
    written = api.event_count()
    retry = api.post("provider", "/v1/invoices/batch", batch, key="run-2010-05")

    assert first.status_code == 200
    outcome = first.json()
    assert (outcome["accepted"], outcome["refused"]) == (2, 2)
    results = outcome["results"]
    assert [(r["index"], r["accepted"]) for r in results] == [
        (0, True),
        (1, False),
        (2, False),
        (3, True),
    ]
    assert [r.get("error") for r in results] == [
        None,
        "/problems/duplicate-invoice",
        "/problems/budget-not-found",
        None,
    ]
    assert [r.get("status") for r in results] == ["posted", None, None, "posted"]
    assert set(results[0]) == {"index", "accepted", "id", "status", "flags"}
    assert set(results[2]) == {"index", "accepted", "error", "detail"}
    assert written == before + 5  # two invoices, two budget entries, one command record
    assert (retry.status_code, retry.json()) == (200, outcome)
    assert api.event_count() == written
    listed = api.get("provider", "/v1/invoices").json()["items"]
    assert [i["invoice_number"] for i in listed] == ["INV-OLD", "INV-1", "INV-3"]


def test_a_batch_key_reused_for_a_different_batch_is_a_409(api: Api) -> None:
    budget_id = active_budget(api)
    api.post("provider", "/v1/invoices/batch", {"invoices": [invoice_body(budget_id)]}, key="b")
    before = api.event_count()

    other = {"invoices": [invoice_body(budget_id, "INV-9")]}
    clash = api.post("provider", "/v1/invoices/batch", other, key="b")

    refused_with(clash, 409, "idempotency-key-reused")
    assert api.event_count() == before


def test_a_batch_of_more_than_10000_invoices_or_none_is_refused_whole(api: Api) -> None:
    budget_id = active_budget(api)
    before = api.event_count()

    too_many = {"invoices": [invoice_body(budget_id, f"INV-{n}") for n in range(10_001)]}
    oversized = api.post("provider", "/v1/invoices/batch", too_many)
    empty = api.post("provider", "/v1/invoices/batch", {"invoices": []})
    by_council = api.post("council", "/v1/invoices/batch", {"invoices": [invoice_body(budget_id)]})

    refused_with(oversized, 422, "invalid-request")
    refused_with(empty, 422, "invalid-request")
    refused_with(by_council, 403, "forbidden-role")
    assert api.event_count() == before


def test_the_batch_route_documents_its_per_item_results(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()

    description = " ".join(schema["paths"]["/v1/invoices/batch"]["post"]["description"].split())

    assert (
        "per item: valid invoices are written together in one transaction; each refused one is"
        " reported with its problem type and writes nothing"
    ) in description


def test_a_405_on_the_invoices_collection_allows_both_get_and_post(api: Api) -> None:
    response = api.client.request("DELETE", "/v1/invoices", headers=api.headers("provider"))

    refused_with(response, 405, "method-not-allowed")
    assert response.headers["Allow"] == "GET, POST"


def test_a_flagged_invoice_is_approved_only_with_an_override_reason(api: Api) -> None:
    budget_id = active_budget(api)
    created = api.post("provider", "/v1/invoices", invoice_body(budget_id, hours=6000))
    path = f"/v1/invoices/{created.json()['id']}/approval"
    before = api.event_count()

    plain = api.post("council", path, {"effective_on": "2010-05-03"})
    unchanged = api.event_count()
    overridden = api.post("council", path, {"effective_on": "2010-05-03", "reason": "s26-override"})

    assert (created.json()["status"], created.json()["flags"]) == ("flagged", ["over-plan"])
    refused_with(plain, 422, "invoice-flagged")
    assert unchanged == before
    assert (overridden.status_code, overridden.json()["status"]) == (200, "approved")


def test_dispute_and_rejection_state_their_reason(api: Api) -> None:
    budget_id = active_budget(api)
    path = f"/v1/invoices/{posted(api, budget_id)}"
    before = api.event_count()

    no_reason = api.post("council", f"{path}/dispute", {"effective_on": "2010-05-03"})
    no_reason_either = api.post("council", f"{path}/rejection", {"effective_on": "2010-05-03"})
    unchanged = api.event_count()
    disputed = api.post(
        "council", f"{path}/dispute", {"effective_on": "2010-05-03", "reason": "hours-query"}
    )
    rejected = api.post(
        "council", f"{path}/rejection", {"effective_on": "2010-05-04", "reason": "not-delivered"}
    )

    for response in (no_reason, no_reason_either):
        refused_with(response, 422, "invalid-request")
        assert response.json()["field"] == "reason"
    assert unchanged == before
    assert (disputed.json()["status"], rejected.json()["status"]) == ("disputed", "rejected")
    history = api.get("council", path).json()["history"]
    assert [h["reason"] for h in history] == [None, "hours-query", "not-delivered"]


def test_a_stale_if_match_on_approval_is_412_and_writes_nothing(api: Api) -> None:
    budget_id = active_budget(api)
    invoice_id = posted(api, budget_id)
    before = api.event_count()

    stale = api.post(
        "council",
        f"/v1/invoices/{invoice_id}/approval",
        {"effective_on": "2010-05-03"},
        **{"If-Match": '"7"'},
    )

    refused_with(stale, 412, "version-mismatch")
    assert api.event_count() == before


def test_nothing_is_paid_for_care_after_the_budget_has_ended(api: Api) -> None:
    budget_id = active_budget(api)
    invoice_id = approved(api, budget_id)  # care 5 April - 2 May 2010
    ending = {"end_reason": "moved-away", "effective_on": "2010-04-20"}
    assert api.post("council", f"/v1/budgets/{budget_id}/ending", ending).status_code == 200
    before = api.event_count()

    payment = api.post(
        "council",
        f"/v1/invoices/{invoice_id}/payment",
        {"effective_on": "2010-05-10", "remittance_ref": "BACS-1"},
    )

    refused_with(payment, 422, "effective-date-outside-budget")
    assert api.event_count() == before
    assert api.get("council", f"/v1/invoices/{invoice_id}").json()["status"] == "approved"


def test_an_invoice_approved_before_the_end_is_paid_after_it(api: Api) -> None:
    budget_id = active_budget(api)
    invoice_id = approved(api, budget_id)  # care 5 April - 2 May 2010
    ending = {"end_reason": "death", "effective_on": "2010-05-05"}
    assert api.post("council", f"/v1/budgets/{budget_id}/ending", ending).status_code == 200

    payment = api.post(
        "council",
        f"/v1/invoices/{invoice_id}/payment",
        {"effective_on": "2010-05-10", "remittance_ref": "BACS-1"},
    )

    assert payment.status_code == 200, payment.json()
    assert api.get("council", f"/v1/invoices/{invoice_id}").json()["paid_pence"] == 520_00


def test_paying_an_invoice_not_yet_approved_is_a_409(api: Api) -> None:
    budget_id = active_budget(api)
    invoice_id = posted(api, budget_id)
    before = api.event_count()

    payment = api.post(
        "council",
        f"/v1/invoices/{invoice_id}/payment",
        {"effective_on": "2010-05-10", "remittance_ref": "BACS-1"},
    )

    refused_with(payment, 409, "invalid-transition")
    assert payment.json()["status"] == 409
    assert api.event_count() == before


def test_credit_notes_never_exceed_what_was_paid(api: Api) -> None:
    budget_id = active_budget(api)
    invoice_id = approved(api, budget_id)
    payment = {"effective_on": "2010-05-10", "remittance_ref": "BACS-1"}
    assert api.post("council", f"/v1/invoices/{invoice_id}/payment", payment).status_code == 200
    before = api.event_count()

    credit = api.post(
        "provider",
        f"/v1/invoices/{invoice_id}/credit-notes",
        {"credit_note_number": "CN-1", "amount_pence": 520_01, "effective_on": "2010-05-20"},
    )
    by_council = api.post(
        "council",
        f"/v1/invoices/{invoice_id}/credit-notes",
        {"credit_note_number": "CN-1", "amount_pence": 100, "effective_on": "2010-05-20"},
    )

    refused_with(credit, 422, "credit-exceeds-paid")
    assert credit.json()["paid_pence"] == 520_00
    refused_with(by_council, 403, "forbidden-role")
    assert api.event_count() == before


def _line(**change: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def mutate(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "lines": [{**body["lines"][0], **change}]}

    return mutate


BAD_INVOICES: dict[str, tuple[Callable[[dict[str, Any]], Any], int, str]] = {
    "negative units": (_line(units_hundredths=-100), 422, "invalid-request"),
    "zero rate": (_line(rate_pence=0), 422, "invalid-request"),
    "rate as a string": (_line(rate_pence="1300"), 422, "invalid-request"),
    "huge rate": (_line(rate_pence=10**15), 422, "invalid-request"),
    "unknown field": (lambda b: {**b, "discount": 5}, 422, "invalid-request"),
    "malformed budget id": (lambda b: {**b, "budget_id": "not-a-uuid"}, 422, "invalid-request"),
    "unknown budget": (lambda b: {**b, "budget_id": str(uuid.uuid4())}, 404, "budget-not-found"),
    "end before start": (
        lambda b: {**b, "period": {"start": "2010-05-02", "end": "2010-04-05"}},
        422,
        "invalid-request",
    ),
    "control character": (lambda b: {**b, "invoice_number": "INV\x001"}, 422, "invalid-request"),
    "over-long number": (lambda b: {**b, "invoice_number": "I" * 65}, 422, "invalid-request"),
    "no lines": (lambda b: {**b, "lines": []}, 422, "invalid-request"),
    "not an object": (lambda b: [b], 422, "invalid-request"),
}


@pytest.mark.parametrize("case", BAD_INVOICES)
def test_bad_input_is_a_4xx_problem_and_writes_nothing(api: Api, case: str) -> None:
    budget_id = active_budget(api)
    mutate, status, problem = BAD_INVOICES[case]
    before = api.event_count()

    response = api.post("provider", "/v1/invoices", mutate(invoice_body(budget_id)))

    refused_with(response, status, problem)
    assert api.event_count() == before


def test_malformed_json_is_a_400_problem(api: Api) -> None:
    before = api.event_count()

    response = api.client.post(
        "/v1/invoices",
        content=b'{"invoice_number": ',
        headers=api.headers(
            "provider", **{"Idempotency-Key": "k", "Content-Type": "application/json"}
        ),
    )

    refused_with(response, 400, "malformed-json")
    assert api.event_count() == before
