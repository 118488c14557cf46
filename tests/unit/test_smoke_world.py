from tests.support import World


def test_an_active_budget_has_its_allocation_available(world: World) -> None:
    budget_id = world.active_budget()

    budget = world.app.budget(budget_id)

    assert budget.available_pence == 10_000_00
    assert world.trial_balance() and sum(world.trial_balance().values()) == 0
