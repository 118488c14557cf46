"""Wiring: the ledger, its views' database and the runner, embedded (inline) or as a worker.

Inline (the embedded default): each saved command catches the views up before it returns, so a
write is visible in the views at once (read-your-writes). Worker: ``careledger project --follow``
runs the same runner in its own process; the API then reads views that may lag by a moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from eventsourcing.persistence import Recording

from ledger.application import CareLedger
from ledger.personal import IN_THE_CLEAR, PersonalData
from projections.db import ViewDb, bound_store_waits, open_view_db
from projections.personal import KeyStore
from projections.refusals import RefusalLog
from projections.runner import Runner, View
from projections.views.audit import AuditView
from projections.views.balances import BalancesView
from projections.views.exceptions import ExceptionsView
from projections.views.invoices import InvoicesView
from projections.views.journal import JournalView
from projections.views.merkle import MerkleView
from projections.views.people import PeopleView
from projections.views.progress import ProgressView
from projections.views.spend import SpendByProviderView

log = structlog.get_logger()


def all_views(personal: PersonalData = IN_THE_CLEAR) -> list[View]:
    """Every view, in the order the runner applies them (refs always comes first). ``personal``
    pseudonymises references stored in the clear before sealing (``PeopleView``)."""
    return [
        JournalView(),
        AuditView(),
        MerkleView(),
        BalancesView(),
        InvoicesView(),
        SpendByProviderView(),
        ProgressView(),
        ExceptionsView(),
        PeopleView(personal),
    ]


class InlineLedger(CareLedger):
    """A CareLedger that catches its views up after every save (embedded mode)."""

    name = "CareLedger"  # the library names the events table after the application
    runner: Runner | None = None

    def _notify(self, recordings: list[Recording[Any]]) -> None:
        if self.runner is None:
            return
        try:
            self.runner.catch_up()
        except Exception as error:  # the command is saved; the views catch up next time
            log.warning("projections.inline_catch_up_failed", error=type(error).__name__)


class LedgerService:
    """The application, its views' database and the runner, opened together."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        inline: bool = True,
        views: Sequence[View] | None = None,
    ) -> None:
        self.app: CareLedger = InlineLedger(database_url) if inline else CareLedger(database_url)
        bound_store_waits(self.app)  # a dead or locked database fails fast, never hangs
        self.db: ViewDb = open_view_db(self.app.database_url)
        # Personal fields are sealed under each person's key from the first command on.
        self.keys = KeyStore.open(self.app.database_url, self.db)
        self.app.personal = self.keys
        self.runner = Runner(
            self.app, self.db, list(views) if views is not None else all_views(self.keys)
        )
        self.app.refusal_listeners.append(RefusalLog(self.db))
        if isinstance(self.app, InlineLedger):
            self.app.runner = self.runner
            self.runner.catch_up()

    def close(self) -> None:
        self.keys.close()
        self.db.close()
        self.app.close()
