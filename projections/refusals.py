"""A log of refused duplicate invoices, for the exceptions view.

A refused command writes nothing to the ledger. Yet a second posting of an invoice number is
exactly what an auditor wants to see (double billing), so the refusal is noted here: in the
views' database, outside the event log, append-only, with no money and no personal data. It is
not derived from the log, so it is neither rebuilt nor compared by verification.

Each row carries two times, as every exception does: ``effective_on``, the business date of the
refused attempt (its invoice date: what ``effective_on`` of the posting would have been), and
``recorded_at``, the instant the ledger refused it (by the ledger's clock, ``ledger.clock``).
Rows written before ``effective_on`` existed have it NULL; readers then take the date of
``recorded_at``. Read as at a log position, the log holds the refusals recorded by the time that
position was (``projections.history.KNOWN_BY``).
"""

from __future__ import annotations

import structlog

from ledger import clock
from ledger.errors import DuplicateInvoiceError, LedgerError
from ledger.ids import invoice_id
from ledger.provenance import Provenance
from projections.db import SqlCursor, ViewDb
from projections.views.audit import utc_stamp

log = structlog.get_logger()

DDL = (
    "CREATE TABLE IF NOT EXISTS careledger_refusals (refusal_key TEXT PRIMARY KEY,"
    " recorded_at TEXT NOT NULL, command TEXT NOT NULL, error TEXT NOT NULL,"
    " actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, command_id TEXT NOT NULL,"
    " item INTEGER NOT NULL, provider TEXT, invoice_number TEXT, invoice_id TEXT,"
    " effective_on TEXT)"
)
ADD_EFFECTIVE_ON = {  # to a table made before the column existed
    "postgres": "ALTER TABLE careledger_refusals ADD COLUMN IF NOT EXISTS effective_on TEXT",
    "sqlite": "ALTER TABLE careledger_refusals ADD COLUMN effective_on TEXT",
}
INSERT = (
    "INSERT INTO careledger_refusals (refusal_key, recorded_at, command, error, actor_id,"
    " actor_role, command_id, item, provider, invoice_number, invoice_id, effective_on)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (refusal_key) DO NOTHING"
)


class RefusalLog:
    def __init__(self, db: ViewDb) -> None:
        self.db = db
        with db.schema_transaction() as cur:
            cur.execute(DDL)
        if "effective_on" not in db.columns("careledger_refusals"):
            with db.transaction() as cur:  # SQLite: re-checked under the write lock
                if db.dialect == "postgres" or not _has_effective_on(cur):
                    cur.execute(ADD_EFFECTIVE_ON[db.dialect])

    def __call__(self, command: str, error: LedgerError, prov: Provenance, item: int) -> None:
        if not isinstance(error, DuplicateInvoiceError):
            return
        provider = str(error.facts.get("provider", prov.actor_id))
        number = str(error.facts.get("invoice_number", ""))
        # The invoice already posted: its stored id, else the id of the number's key.
        posted = str(error.facts.get("invoice_id") or invoice_id(provider, number))
        effective_on = error.facts.get("effective_on")
        key = f"{prov.idempotency_scope or prov.actor_id}|{prov.command_id}|{item}"
        stamp = utc_stamp(clock.now())  # the ledger's clock: the demo's simulated day too
        row = (key, stamp, command, error.code, prov.actor_id, prov.actor_role, prov.command_id,
               item, provider, number, posted, effective_on)  # fmt: skip
        try:
            with self.db.transaction() as cur:
                cur.execute(INSERT, row)
        except Exception as failure:  # never turn a refusal into a different error
            log.warning("refusals.not_logged", error=type(failure).__name__)


def _has_effective_on(cur: SqlCursor) -> bool:
    rows = cur.execute("SELECT name FROM pragma_table_info('careledger_refusals')").fetchall()
    return any(r["name"] == "effective_on" for r in rows)
