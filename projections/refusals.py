"""A log of refused duplicate invoices, for the exceptions view.

A refused command writes nothing to the ledger. Yet a second posting of an invoice number is
exactly what an auditor wants to see (double billing), so the refusal is noted here: in the
views' database, outside the event log, append-only, with no money and no personal data. It is
not derived from the log, so it is neither rebuilt nor compared by verification.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from ledger.errors import DuplicateInvoiceError, LedgerError
from ledger.ids import invoice_id
from ledger.provenance import Provenance
from projections.db import ViewDb

log = structlog.get_logger()

DDL = (
    "CREATE TABLE IF NOT EXISTS careledger_refusals (refusal_key TEXT PRIMARY KEY,"
    " recorded_at TEXT NOT NULL, command TEXT NOT NULL, error TEXT NOT NULL,"
    " actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, command_id TEXT NOT NULL,"
    " item INTEGER NOT NULL, provider TEXT, invoice_number TEXT, invoice_id TEXT)"
)


class RefusalLog:
    def __init__(self, db: ViewDb) -> None:
        self.db = db
        with db.schema_transaction() as cur:
            cur.execute(DDL)

    def __call__(self, command: str, error: LedgerError, prov: Provenance, item: int) -> None:
        if not isinstance(error, DuplicateInvoiceError):
            return
        provider = str(error.facts.get("provider", prov.actor_id))
        number = str(error.facts.get("invoice_number", ""))
        key = f"{prov.actor_id}|{prov.command_id}|{item}"
        stamp = datetime.now(UTC).isoformat(timespec="microseconds")
        try:
            with self.db.transaction() as cur:
                cur.execute(
                    "INSERT INTO careledger_refusals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (refusal_key) DO NOTHING",
                    (key, stamp, command, error.code, prov.actor_id, prov.actor_role,
                     prov.command_id, item, provider, number, str(invoice_id(provider, number))),
                )  # fmt: skip
        except Exception as failure:  # never turn a refusal into a different error
            log.warning("refusals.not_logged", error=type(failure).__name__)
