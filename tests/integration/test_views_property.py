"""Hypothesis: for random histories, every view kept live (inline, page by page as commands
land) equals the same view rebuilt from scratch, and verification passes."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis.stateful import initialize

from projections.service import LedgerService
from projections.verify import table_rows, verify
from tests.support import World
from tests.unit.test_invariants import LedgerMachine


class ViewsMachine(LedgerMachine):
    @initialize()
    def start(self) -> None:
        self.service = LedgerService("memory://")
        self.app = self.service.app
        self.world = World(self.app).setup()
        self.budgets = []
        self.expected = {}
        self.invoices = []
        self.cash_entries = []
        self.day = self.day_zero()

    def teardown(self) -> None:
        runner = self.service.runner
        report = verify(self.app, runner)
        assert report.ok, report.as_dict()
        tables = [t for v in runner.views for t in v.tables]
        live = {t: table_rows(self.service.db, t) for t in tables}
        runner.rebuild([v.name for v in runner.views])
        assert {t: table_rows(self.service.db, t) for t in tables} == live
        self.service.close()


ViewsMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestViewsEqualARebuild = ViewsMachine.TestCase
