"""A council's retention policy through the API: an administrator sets it, readers see it, the
bounds are the ledger's named error, and the event is on the audit trail."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.support import COUNCIL, OTHER_COUNCIL

PATH = f"/v1/councils/{COUNCIL}/retention"


def test_an_administrator_sets_the_policy_and_readers_see_it(api: Api) -> None:
    default = api.get("council", PATH)

    written = api.post("admin", PATH, {"years": 8, "effective_on": "2012-01-01"})
    seen = {who: api.get(who, PATH).json() for who in ("admin", "council", "auditor", "regulator")}
    trail = api.get("auditor", "/v1/audit", type="Council.RetentionPolicySet").json()["items"]

    assert default.json() == {"council": COUNCIL, "retention_years": 6}
    assert written.status_code == 200, written.json()
    assert all(s == {"council": COUNCIL, "retention_years": 8} for s in seen.values())
    assert [(r["actor_role"], r["council"]) for r in trail] == [("admin", COUNCIL)]


@pytest.mark.parametrize("who", ["council", "auditor", "regulator", "provider"])
def test_only_an_administrator_sets_it(api: Api, who: str) -> None:
    before = api.event_count()

    refused = api.post(who, PATH, {"years": 8, "effective_on": "2012-01-01"})

    assert refused.status_code == 403
    assert api.event_count() == before


@pytest.mark.parametrize("years", [5, 31])
def test_a_period_out_of_bounds_is_422_by_name_and_writes_nothing(api: Api, years: int) -> None:
    before = api.event_count()

    refused = api.post("admin", PATH, {"years": years, "effective_on": "2012-01-01"})

    assert (refused.status_code, refused.json()["type"]) == (
        422,
        "/problems/retention-out-of-bounds",
    )
    assert (refused.json()["min_years"], refused.json()["max_years"]) == (6, 30)
    assert api.event_count() == before


def test_another_councils_officer_cannot_read_it_and_an_unknown_council_is_404(api: Api) -> None:
    other = api.get("other_council", PATH)
    unknown = api.get("admin", "/v1/councils/E99999999/retention")
    own = api.get("other_council", f"/v1/councils/{OTHER_COUNCIL}/retention")

    assert other.status_code == 403
    assert unknown.status_code == 404
    assert own.json() == {"council": OTHER_COUNCIL, "retention_years": 6}
