"""Whose budget is whose, by pseudonym only: what erasure and retention need to find.

One row per personal budget: the person's pseudonym (never their reference), the council, the
dates the budget opened and ended, and when the person was erased. Retention reads the end
dates; erasure finds the budgets (and their representatives' tokens) of a person here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ledger.budget import PersonalBudget
from ledger.erasure import PersonErasure
from ledger.personal import (
    ERASED,
    IN_THE_CLEAR,
    PREFIX,
    PersonalData,
    is_pseudonym,
    is_sealed,
    key_subject,
)
from projections.db import SqlCursor, ViewDb
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


def erased_budgets(db: ViewDb, budget_ids: Iterable[str | None]) -> dict[str, str]:
    """Of these budgets, those whose person was erased: budget id -> the person's pseudonym.
    Reads mask what such a budget's events hold in the clear (written before sealing)."""
    wanted = sorted({b for b in budget_ids if b})
    if not wanted:
        return {}
    marks = ", ".join("?" for _ in wanted)
    rows = db.query(
        f"SELECT budget_id, person FROM v_people WHERE erased_on IS NOT NULL"  # noqa: S608
        f" AND budget_id IN ({marks})",
        wanted,
    )
    return {str(r["budget_id"]): str(r["person"]) for r in rows}


def erased_owners(db: ViewDb, rows: Sequence[dict[str, Any]]) -> list[str | None]:
    """For each view row (``v_audit``, ``v_invoice_history``, ``v_exceptions`` …), the
    pseudonym of the erased person it is about, else None. A row is a person's by its
    ``budget_id``, its invoice's budget, or — a command record — the budget of the events its
    command wrote (same command id and actor)."""
    invoices = sorted({str(r["invoice_id"]) for r in rows if r.get("invoice_id")})
    owners: dict[str, str] = {}
    if invoices and db.columns("v_invoices"):
        sql = "SELECT invoice_id, budget_id FROM v_invoices WHERE invoice_id IN ({})"
        found = db.query(sql.format(_marks(invoices)), invoices)
        owners = {str(r["invoice_id"]): str(r["budget_id"]) for r in found}
    commands = sorted({str(r["command_id"]) for r in rows if _plain_command(r)})
    by_command: dict[tuple[str, str], str] = {}
    if commands:
        sql = (
            "SELECT DISTINCT a.command_id, a.actor_id, p.person FROM v_audit a JOIN v_people p"
            " ON a.budget_id = p.budget_id WHERE p.erased_on IS NOT NULL AND a.command_id IN ({})"
        )
        found = db.query(sql.format(_marks(commands)), commands)
        by_command = {(str(r["command_id"]), str(r["actor_id"])): str(r["person"]) for r in found}

    def budget(row: dict[str, Any]) -> str | None:
        return row.get("budget_id") or owners.get(str(row.get("invoice_id")))

    erased = erased_budgets(db, (budget(r) for r in rows))
    return [
        erased.get(str(budget(r)))
        or by_command.get((str(r.get("command_id")), str(r.get("actor_id"))))
        for r in rows
    ]


def _plain_command(row: dict[str, Any]) -> bool:
    """A command record holding a value in the clear (written before sealing): only those are
    looked up, so a store sealed from the start pays nothing for this."""
    if row.get("aggregate_kind") != "command":
        return False
    reason = row.get("reason")
    plain_reason = isinstance(reason, str) and not is_sealed(reason)
    plain_actor = row.get("actor_role") == "representative" and not is_pseudonym(
        str(row.get("actor_id"))
    )
    return plain_reason or plain_actor


def _marks(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values)


def mask_erased(db: ViewDb, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """View rows (a CSV export) with what an erased person's rows hold in the clear — written
    before sealing — shown as erased: a reason, an on-behalf-of, a representative's id."""
    people = erased_owners(db, rows)
    return [r if p is None else masked(r, p) for r, p in zip(rows, people, strict=True)]


def masked(row: dict[str, Any], person: str) -> dict[str, Any]:
    """``row`` (about the erased ``person``) with its values stored in the clear erased."""
    out = dict(row)
    for column in ("reason", "on_behalf_of"):
        value = row.get(column)
        if isinstance(value, str) and not is_sealed(value) and value != person:
            out[column] = ERASED
    if row.get("actor_role") == "representative" and not is_pseudonym(str(row.get("actor_id"))):
        out["actor_id"] = ERASED
    detail = row.get("detail")
    if row.get("kind") in QUOTING_A_REASON and isinstance(detail, str) and PREFIX not in detail:
        out["detail"] = ERASED  # it quotes a reason stored in the clear: all of it goes
    return out


# Exceptions whose detail quotes the command's reason (projections.views.exceptions).
QUOTING_A_REASON = ("correction", "dispute", "flag-overridden")
