"""CareLedger: the one write-side application. Its methods are the use cases."""

from __future__ import annotations

from ledger.app_admin import AdminCommands
from ledger.app_audit import AuditCommands
from ledger.app_endings import EndingCommands
from ledger.app_erasure import ErasureCommands
from ledger.app_invoices import InvoiceCommands
from ledger.app_runs import RunCommands


class CareLedger(
    AdminCommands,
    RunCommands,
    EndingCommands,
    InvoiceCommands,
    AuditCommands,
    ErasureCommands,
):
    """Councils, providers, pooled funds, personal budgets and invoices, event-sourced.

    Construct with a database URL (or set ``CARELEDGER_DATABASE_URL``); ``memory://`` for tests.
    """

    name = "CareLedger"
