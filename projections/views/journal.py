"""Postings: the double-entry journal, one row per posting, per council; the trial balance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ledger.postings import postings_for
from projections.bulk import insert_rows
from projections.db import SqlCursor
from projections.refs import RefsView

if TYPE_CHECKING:
    from projections.runner import Item


COLUMNS = ("position", "seq", "council", "account", "amount_pence", "effective_on", "entry_id",
           "event_type", "actor_id", "budget_id", "provider")  # fmt: skip


class JournalView:
    name = "journal"
    tables: tuple[str, ...] = ("v_postings",)
    append_only = (("v_postings", "position"),)  # its history: the rows up to a position
    indexes: tuple[str, ...] = (
        "CREATE INDEX IF NOT EXISTS v_postings_council ON v_postings (council, account)",
        # A budget's statement, in log order (and as at a position, up to it): without it the
        # statement scanned every posting (205 ms at 1,056,302 events).
        "CREATE INDEX IF NOT EXISTS v_postings_budget"
        " ON v_postings (budget_id, account, position, seq)",
    )

    def create(self, cur: SqlCursor) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS v_postings (position BIGINT NOT NULL, seq INTEGER NOT NULL,"
            " council TEXT NOT NULL, account TEXT NOT NULL, amount_pence BIGINT NOT NULL,"
            " effective_on TEXT NOT NULL, entry_id TEXT NOT NULL, event_type TEXT NOT NULL,"
            " actor_id TEXT NOT NULL, budget_id TEXT, provider TEXT, PRIMARY KEY (position, seq))"
        )

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        rows = []
        for item in items:
            postings = postings_for(item.event)
            if not postings:
                continue
            event = item.event
            ref = refs.get(item.aggregate_id)
            entry = f"{item.aggregate_id}/{event.originator_version}"  # ledger.ids.entry_id
            kind = type(event).__qualname__
            for seq, p in enumerate(postings):
                rows.append(
                    (item.position, seq, ref.council, p.account, p.amount_pence,
                     event.effective_on.isoformat(), entry, kind, event.prov.actor_id,
                     ref.budget_id, ref.provider)
                )  # fmt: skip
        insert_rows(cur, "v_postings", COLUMNS, rows)
