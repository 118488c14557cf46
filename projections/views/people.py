"""Whose budget is whose, by pseudonym only: what erasure and retention need to find.

One row per personal budget: the person's pseudonym (never their reference), the council, the
dates the budget opened and ended, and when the person was erased. Retention reads the end
dates; erasure finds the budgets (and their representatives' tokens) of a person here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ledger.budget import PersonalBudget
from ledger.erasure import PersonErasure
from ledger.personal import IN_THE_CLEAR, PersonalData, is_sealed, key_subject
from projections.db import SqlCursor
from projections.refs import RefsView

if TYPE_CHECKING:
    from projections.runner import Item

DDL = (
    "CREATE TABLE IF NOT EXISTS v_people (budget_id TEXT PRIMARY KEY, person TEXT NOT NULL,"
    " council TEXT NOT NULL, opened_on TEXT NOT NULL, ended_on TEXT, erased_on TEXT)"
)


class PeopleView:
    """``personal`` names a person opened in the clear (an event from before sealing) by the
    same pseudonym a sealed opening gets, so no plain reference is copied here."""

    name = "people"
    tables: tuple[str, ...] = ("v_people",)
    # Erasure must leave no past copy of a row behind: no history kept.
    history = False
    indexes: tuple[str, ...] = ("CREATE INDEX IF NOT EXISTS v_people_person ON v_people (person)",)

    def __init__(self, personal: PersonalData = IN_THE_CLEAR) -> None:
        self.personal = personal

    def fresh(self) -> PeopleView:
        return PeopleView(self.personal)

    def person(self, stored: str) -> str:
        return (
            key_subject(stored) if is_sealed(stored) else self.personal.pseudonym("person", stored)
        )

    def create(self, cur: SqlCursor) -> None:
        cur.execute(DDL)

    def project(self, cur: SqlCursor, items: Sequence[Item], refs: RefsView) -> None:
        for item in items:
            e = item.event
            if isinstance(e, PersonalBudget.Opened):
                cur.execute(
                    "INSERT INTO v_people (budget_id, person, council, opened_on)"
                    " VALUES (?, ?, ?, ?)",
                    (item.aggregate_id, self.person(e.person_ref), e.council,
                     e.effective_on.isoformat()),
                )  # fmt: skip
            elif isinstance(e, PersonalBudget.Ended):
                cur.execute(
                    "UPDATE v_people SET ended_on = ? WHERE budget_id = ?",
                    (e.effective_on.isoformat(), item.aggregate_id),
                )
            elif isinstance(e, PersonErasure.Recorded):
                cur.execute(
                    "UPDATE v_people SET erased_on = ? WHERE person = ?",
                    (e.effective_on.isoformat(), e.person),
                )
