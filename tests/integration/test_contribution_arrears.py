"""Contribution arrears: contributions owed on budgets paid net or gross show in the trial
balance (Assets:ContributionsReceivable) and as a contribution-arrears exception."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from ledger.postings import Account
from ledger.values import Deployment
from projections.db import ViewDb, open_view_db
from projections.runner import Runner
from projections.views.balances import BalancesView
from projections.views.exceptions import ExceptionsView, exceptions
from tests.support import COUNCIL, START, World, allocation

WEEKLY = 1_040_00 // 52  # £20 a week


@pytest.fixture
def db(database_url: str) -> Iterator[ViewDb]:
    views = open_view_db(database_url)
    yield views
    views.close()


def test_contributions_in_arrears_are_an_exception_and_paying_clears_it(
    world: World, db: ViewDb
) -> None:
    budget_id = world.active_budget(
        allocation(total=10_400_00, client=1_040_00, contingency=0), Deployment("direct-payment")
    )
    world.app.choose_payment_basis(budget_id, False, START, world.prov())
    world.app.run_payments(COUNCIL, START + timedelta(days=56), world.prov())  # three periods
    runner = Runner(world.app, db, [BalancesView(), ExceptionsView()])
    runner.catch_up()

    found = exceptions(db, COUNCIL, "contribution-arrears", on=date(2010, 7, 1))
    (item,) = found["items"]
    assert (item["budget_id"], item["amount_pence"]) == (budget_id, 2 * 4 * WEEKLY)
    assert world.trial_balance()[Account.CONTRIBUTIONS_OWED] == 3 * 4 * WEEKLY

    world.app.receive_contribution(budget_id, 2 * 4 * WEEKLY, date(2010, 6, 5), world.prov())
    runner.catch_up()

    assert exceptions(db, COUNCIL, "contribution-arrears", on=date(2010, 7, 1))["items"] == []
    assert world.trial_balance()[Account.CONTRIBUTIONS_OWED] == 4 * WEEKLY
