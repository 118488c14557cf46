"""One budget's balance: a pure, incremental fold of its events, mirroring ``PersonalBudget``.

``apply`` takes the balance so far (``None`` before the budget's first event) and one of the
budget's events, and returns the new balance; it never changes its input. The budget balances
view folds each page of events with it, and ``balance_of`` replays a budget's stored events with
it, so the two always agree. The aggregate is the reference for the rules' figures (available,
held, surplus outstanding are computed as ``PersonalBudget`` computes them) and the journal
(``ledger.postings``) for every net figure: each equals a journal account of the budget.

Two times (DESIGN.md §3): ``balance_of(..., stop_position=p)`` counts only what the log held at
position ``p`` (what was known then); ``effective_on=d`` counts only money events effective on or
before ``d`` (the balance for that business date). Structural events (opened, deployment, status)
count whenever they are recorded; an approval or revision counts only from its effective date.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from ledger.application import CareLedger
from ledger.budget import PersonalBudget
from ledger.budget_reversals import GROSS_CHARGE, NET_CHARGE, PAID_INTO_ACCOUNT, PAID_TO_COUNCIL
from ledger.budget_rules import WEEKS_PER_YEAR
from ledger.errors import BudgetNotFoundError
from ledger.values import BudgetStatus, DeploymentKind
from projections.db import ViewDb

PAYS_CASH = (DeploymentKind.DIRECT_PAYMENT.value, DeploymentKind.MIXED.value)


def _derived() -> Any:
    """A figure computed from the others (in ``__post_init__``), never passed in."""
    return field(init=False, default=0)


@dataclass(frozen=True)
class BudgetBalance:
    """A budget's figures (README "Glossary"). Money is in pence; every stored money figure is
    gross and cumulative, each adjustment in its own field (``*_reversed_pence`` for corrections,
    ``credit_notes_pence``, ``surplus_recovered_pence``/``surplus_refunded_pence``); the derived
    figures are the nets and balances, each equal to a journal account of the budget:
    ``available_pence`` = Budgets:Available, ``net_drawn_pence`` = Budgets:Drawn,
    ``surplus_recovered_pence + surplus_refunded_pence`` = Budgets:Recovered, ``held_pence`` =
    Assets:DirectPaymentAccounts."""

    budget_id: str
    council: str
    support_reason: str
    status: str
    version: int = 0  # the budget's last event folded in
    deployment: str | None = None  # DeploymentKind value
    direct_payment_annual_pence: int = 0  # a mixed deployment's annual cash part
    allocated_pence: int = 0
    contingency_pence: int = 0
    cash_paid_pence: int = 0
    cash_reversed_pence: int = 0
    direct_payment_spend_pence: int = 0
    direct_payment_spend_reversed_pence: int = 0
    invoices_awaiting_approval_pence: int = _derived()  # posted, not yet charged or withdrawn
    invoices_approved_pence: int = 0
    invoices_approved_reversed_pence: int = 0
    invoices_paid_pence: int = 0
    invoices_paid_reversed_pence: int = 0
    credit_notes_pence: int = 0
    credit_notes_reversed_pence: int = 0
    contribution_weekly_assessed_pence: int | None = None  # None until assessed
    contributions_received_pence: int = 0
    contributions_reversed_pence: int = 0
    surplus_identified_pence: int = 0
    surplus_identified_reversed_pence: int = 0
    surplus_outstanding_pence: int = _derived()  # identified, not yet recovered or refunded
    surplus_recovered_pence: int = 0
    surplus_recovered_reversed_pence: int = 0
    surplus_refunded_pence: int = 0
    surplus_refunded_reversed_pence: int = 0
    balance_recovered_pence: int = 0
    balance_recovered_reversed_pence: int = 0
    balance_refunded_pence: int = 0
    balance_refunded_reversed_pence: int = 0
    net_drawn_pence: int = _derived()
    available_pence: int = _derived()
    held_pence: int = _derived()
    approved_on: str | None = None
    ended_on: str | None = None
    last_review_on: str | None = None
    weekly_funding_pence: int = _derived()
    weeks_of_funding_held_x100: int = _derived()  # hundredths of a week, floor
    open_invoices: dict[str, int] = field(default_factory=dict)  # received: id → pence
    # budget years (rule 14) and contributions owed (net or gross direct payments)
    allocation_annual_pence: int = 0
    payment_basis: str | None = None  # net, gross; None: not chosen
    contributions_charged_pence: int = 0
    contributions_charged_reversed_pence: int = 0
    contributions_charged_net_pence: int = 0
    contributions_charged_net_reversed_pence: int = 0
    contribution_charge_latest_pence: int = 0
    contributions_paid_pence: int = 0
    contributions_paid_reversed_pence: int = 0
    contributions_paid_into_account_pence: int = 0
    contributions_paid_into_account_reversed_pence: int = 0
    contributions_owed_pence: int = _derived()
    contribution_arrears_pence: int = _derived()

    def __post_init__(self) -> None:
        """The derived figures, as the aggregate's properties and the journal compute them."""
        surplus = (
            self.surplus_recovered_pence
            - self.surplus_recovered_reversed_pence
            + self.surplus_refunded_pence
            - self.surplus_refunded_reversed_pence
        )
        returned = (
            surplus
            + self.balance_recovered_pence
            - self.balance_recovered_reversed_pence
            + self.balance_refunded_pence
            - self.balance_refunded_reversed_pence
        )
        cash = self.cash_paid_pence - self.cash_reversed_pence
        approved = self.invoices_approved_pence - self.invoices_approved_reversed_pence
        credited = self.credit_notes_pence - self.credit_notes_reversed_pence
        charged_net = (
            self.contributions_charged_net_pence - self.contributions_charged_net_reversed_pence
        )
        charged = cash + approved - credited + charged_net
        spent = self.direct_payment_spend_pence - self.direct_payment_spend_reversed_pence
        into_account = (
            self.contributions_paid_into_account_pence
            - self.contributions_paid_into_account_reversed_pence
        )
        held = cash + into_account - spent - returned
        owed = (
            self.contributions_charged_pence
            - self.contributions_charged_reversed_pence
            - self.contributions_paid_pence
            + self.contributions_paid_reversed_pence
        )
        if self.deployment in PAYS_CASH:
            annual = self.direct_payment_annual_pence or self.allocation_annual_pence
        else:
            annual = self.allocation_annual_pence
        weekly = annual // WEEKS_PER_YEAR
        derived = {
            "invoices_awaiting_approval_pence": sum(self.open_invoices.values()),
            "surplus_outstanding_pence": (
                self.surplus_identified_pence - self.surplus_identified_reversed_pence - surplus
            ),
            "net_drawn_pence": charged - returned,
            "available_pence": self.allocated_pence - charged,
            "held_pence": held,
            "weekly_funding_pence": weekly,
            "weeks_of_funding_held_x100": held * 100 // weekly if weekly else 0,
            "contributions_owed_pence": owed,
            "contribution_arrears_pence": max(0, owed - self.contribution_charge_latest_pence),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)


def figures_of(balance: BudgetBalance) -> dict[str, Any]:
    """The balance's published figures in their declared order (as the API, ``balance --json``
    and the CSV export show them): every field but the open invoices' map."""
    return {
        f.name: getattr(balance, f.name)
        for f in dataclasses.fields(balance)
        if f.name != "open_invoices"
    }


Handler = Callable[[BudgetBalance, Any], dict[str, Any]]
B = PersonalBudget


def _opened(e: PersonalBudget.Opened) -> BudgetBalance:
    return BudgetBalance(
        budget_id=str(e.originator_id),
        council=e.council,
        support_reason=e.support_reason,
        status=BudgetStatus.OPENED.value,
    )


def _approved(b: BudgetBalance, e: PersonalBudget.Approved) -> dict[str, Any]:
    return {
        "allocated_pence": e.allocation.total_pence,
        "allocation_annual_pence": e.allocation.total_pence,
        "contingency_pence": e.allocation.contingency_pence,
        "approved_on": e.effective_on.isoformat(),
        "status": BudgetStatus.ACTIVE.value,
    }


def _revised(b: BudgetBalance, e: PersonalBudget.Revised) -> dict[str, Any]:
    return {
        "allocated_pence": e.allocation.total_pence,
        "allocation_annual_pence": e.allocation.total_pence,
        "contingency_pence": e.allocation.contingency_pence,
    }


def _year_allocated(b: BudgetBalance, e: PersonalBudget.YearAllocated) -> dict[str, Any]:
    """As ``PersonalBudget._year_allocated``: every year's allocation, added up."""
    return {
        "allocated_pence": b.allocated_pence + e.allocation.total_pence - e.previous.total_pence,
        "allocation_annual_pence": e.annual.total_pence,
        "contingency_pence": e.allocation.contingency_pence,
    }


def _contribution_charged(
    b: BudgetBalance, e: PersonalBudget.ContributionCharged
) -> dict[str, Any]:
    changes = {
        "contributions_charged_pence": b.contributions_charged_pence + e.amount_pence,
        "contribution_charge_latest_pence": e.amount_pence,
    }
    if e.net:
        changes["contributions_charged_net_pence"] = (
            b.contributions_charged_net_pence + e.amount_pence
        )
    return changes


def _contribution_paid(b: BudgetBalance, e: PersonalBudget.ContributionPaid) -> dict[str, Any]:
    changes = {"contributions_paid_pence": b.contributions_paid_pence + e.amount_pence}
    if e.into_account:
        changes["contributions_paid_into_account_pence"] = (
            b.contributions_paid_into_account_pence + e.amount_pence
        )
    return changes


def _deployed(b: BudgetBalance, e: PersonalBudget.DeploymentChosen) -> dict[str, Any]:
    return {
        "deployment": e.deployment.kind,
        "direct_payment_annual_pence": e.deployment.direct_payment_pence,
    }


REVERSED = {
    "CashPaymentIssued": "cash_reversed_pence",
    "ContributionReceived": "contributions_reversed_pence",
    "DirectPaymentSpendReported": "direct_payment_spend_reversed_pence",
    "SurplusIdentified": "surplus_identified_reversed_pence",
}
RECOVERY_REVERSED = {  # a recovery's reversal: (its recovered part's figure, its refund's)
    "SurplusRecovered": ("surplus_recovered_reversed_pence", "surplus_refunded_reversed_pence"),
    "BalanceRecovered": ("balance_recovered_reversed_pence", "balance_refunded_reversed_pence"),
}
CONTRIBUTION_REVERSED = {  # a contribution entry's correction → the figures it reverses
    GROSS_CHARGE: ("contributions_charged_reversed_pence",),
    NET_CHARGE: (
        "contributions_charged_reversed_pence",
        "contributions_charged_net_reversed_pence",
    ),
    PAID_TO_COUNCIL: ("contributions_paid_reversed_pence",),
    PAID_INTO_ACCOUNT: (
        "contributions_paid_reversed_pence",
        "contributions_paid_into_account_reversed_pence",
    ),
}
INVOICE_REVERSED = {
    "Approved": "invoices_approved_reversed_pence",
    "Paid": "invoices_paid_reversed_pence",
    "CreditNoteIssued": "credit_notes_reversed_pence",
}


def _corrected(b: BudgetBalance, e: PersonalBudget.Corrected) -> dict[str, Any]:
    """As ``PersonalBudget._corrected``: reverse (part of) an entry, counted beside the gross
    figure it reverses; a reversed assessment lowers the weekly charge assessed."""
    if e.entry_type == "ContributionAssessed":
        weekly = b.contribution_weekly_assessed_pence or 0
        return {"contribution_weekly_assessed_pence": weekly - e.amount_pence}
    if e.entry_type in RECOVERY_REVERSED:
        recovered, refunded = RECOVERY_REVERSED[e.entry_type]
        return {
            recovered: getattr(b, recovered) + e.amount_pence - e.refunded_pence,
            refunded: getattr(b, refunded) + e.refunded_pence,
        }
    if e.entry_type in CONTRIBUTION_REVERSED:  # a net charge is also a charge; into the account,
        names = CONTRIBUTION_REVERSED[e.entry_type]  # also a payment
        return {name: getattr(b, name) + e.amount_pence for name in names}
    name = REVERSED[e.entry_type]
    return {name: getattr(b, name) + e.amount_pence}


def _invoice_entry_reversed(
    b: BudgetBalance, e: PersonalBudget.InvoiceEntryReversed
) -> dict[str, Any]:
    name = INVOICE_REVERSED[e.entry_type]
    changes: dict[str, Any] = {name: getattr(b, name) + e.amount_pence}
    if e.reopened_pence:  # a reversed approval: the invoice awaits approval again
        changes["open_invoices"] = {**b.open_invoices, e.invoice_id: e.reopened_pence}
    return changes


def _balance_recovered(b: BudgetBalance, e: PersonalBudget.BalanceRecovered) -> dict[str, Any]:
    return {
        "balance_refunded_pence": b.balance_refunded_pence + e.refunded_pence,
        "balance_recovered_pence": b.balance_recovered_pence + e.recovered_pence,
    }


def _recovered(b: BudgetBalance, e: PersonalBudget.SurplusRecovered) -> dict[str, Any]:
    return {
        "surplus_refunded_pence": b.surplus_refunded_pence + e.refunded_pence,
        "surplus_recovered_pence": b.surplus_recovered_pence + e.recovered_pence,
    }


def _invoice_received(b: BudgetBalance, e: PersonalBudget.InvoiceReceived) -> dict[str, Any]:
    return {"open_invoices": {**b.open_invoices, e.invoice_id: e.amount_pence}}


def _without(b: BudgetBalance, invoice_id: str) -> dict[str, int]:
    return {k: v for k, v in b.open_invoices.items() if k != invoice_id}


def _invoice_charged(b: BudgetBalance, e: PersonalBudget.InvoiceCharged) -> dict[str, Any]:
    return {
        "open_invoices": _without(b, e.invoice_id),
        "invoices_approved_pence": b.invoices_approved_pence + e.amount_pence,
    }


def _invoice_credited(b: BudgetBalance, e: PersonalBudget.InvoiceCredited) -> dict[str, Any]:
    return {"credit_notes_pence": b.credit_notes_pence + e.amount_pence}


HANDLERS: dict[type[Any], Handler] = {
    B.Approved: _approved,
    B.Revised: _revised,
    B.DeploymentChosen: _deployed,
    B.Suspended: lambda b, e: {"status": BudgetStatus.SUSPENDED.value},
    B.Resumed: lambda b, e: {"status": BudgetStatus.ACTIVE.value},
    B.Ended: lambda b, e: {
        "status": BudgetStatus.ENDED.value,
        "ended_on": e.effective_on.isoformat(),
    },
    B.Reinstated: lambda b, e: {"status": e.status, "ended_on": None},
    B.Reviewed: lambda b, e: {"last_review_on": e.effective_on.isoformat()},
    B.CashPaymentIssued: lambda b, e: {"cash_paid_pence": b.cash_paid_pence + e.amount_pence},
    B.DirectPaymentSpendReported: lambda b, e: {
        "direct_payment_spend_pence": b.direct_payment_spend_pence + e.amount_pence
    },
    B.ContributionAssessed: lambda b, e: {"contribution_weekly_assessed_pence": e.weekly_pence},
    B.ContributionReceived: lambda b, e: {
        "contributions_received_pence": b.contributions_received_pence + e.amount_pence
    },
    B.SurplusIdentified: lambda b, e: {
        "surplus_identified_pence": b.surplus_identified_pence + e.amount_pence
    },
    B.SurplusRecovered: _recovered,
    B.Corrected: _corrected,
    B.InvoiceReceived: _invoice_received,
    B.InvoiceCharged: _invoice_charged,
    B.InvoiceWithdrawn: lambda b, e: {"open_invoices": _without(b, e.invoice_id)},
    B.InvoiceSettled: lambda b, e: {"invoices_paid_pence": b.invoices_paid_pence + e.amount_pence},
    B.InvoiceCredited: _invoice_credited,
    B.InvoiceEntryReversed: _invoice_entry_reversed,
    B.BalanceRecovered: _balance_recovered,
    B.YearAllocated: _year_allocated,
    B.PaymentBasisChosen: lambda b, e: {"payment_basis": "net" if e.net else "gross"},
    B.ContributionCharged: _contribution_charged,
    B.ContributionPaid: _contribution_paid,
}

# Events that count whenever they are recorded, whatever their effective date.
STRUCTURAL: tuple[type[Any], ...] = (
    B.Opened,
    B.DeploymentChosen,
    B.PaymentBasisChosen,
    B.Suspended,
    B.Resumed,
    B.Ended,
    B.Reinstated,
)


def apply(balance: BudgetBalance | None, event: Any) -> BudgetBalance:
    """The balance after one more of the budget's events (``None`` before the first)."""
    if balance is None:
        if not isinstance(event, PersonalBudget.Opened):
            raise ValueError(f"a budget's first event is Opened, not {type(event).__qualname__}")
        return dataclasses.replace(_opened(event), version=event.originator_version)
    handler = HANDLERS.get(type(event))
    changes = handler(balance, event) if handler else {}
    return dataclasses.replace(balance, version=event.originator_version, **changes)


def fold(balance: BudgetBalance | None, events: Sequence[Any]) -> BudgetBalance:
    """``apply`` over several of the budget's events, in order, with one new balance in all
    rather than one per event: the copy is changed in place while no one else can see it."""
    if balance is None:
        balance, events = apply(None, events[0]), events[1:]
    state = dict(vars(balance))
    draft = _unchecked(state)
    for event in events:
        handler = HANDLERS.get(type(event))
        if handler is not None:
            state.update(handler(draft, event))
        state["version"] = event.originator_version
    draft.__post_init__()  # the derived figures, from the final stored ones
    return draft


def restore(fields: dict[str, Any]) -> BudgetBalance:
    """A balance from every stored field, read back: the derived figures are computed afresh
    (no ``__init__``: the figures were checked when folded, and a rebuild reads many)."""
    balance = _unchecked(fields)
    balance.__post_init__()
    return balance


def _unchecked(fields: dict[str, Any]) -> BudgetBalance:
    balance = object.__new__(BudgetBalance)
    object.__setattr__(balance, "__dict__", fields)
    return balance


def counts_on(event: Any, effective_on: date | None) -> bool:
    """Whether an event counts in a balance for the business date ``effective_on``."""
    if effective_on is None or isinstance(event, STRUCTURAL):
        return True
    return bool(event.effective_on <= effective_on)


def replay(events: Sequence[Any], effective_on: date | None = None) -> BudgetBalance:
    """Fold a budget's events, first to last, keeping those that count on ``effective_on``."""
    if not events:
        raise ValueError("a budget has at least its Opened event")
    balance = apply(None, events[0])
    for event in events[1:]:
        if counts_on(event, effective_on):
            balance = apply(balance, event)
    return balance


def version_at(db: ViewDb, budget_id: str, stop_position: int) -> int:
    """The budget's last version recorded at or before ``stop_position`` (0 if none), from the
    audit view, which must have caught up to ``stop_position``."""
    tracked = db.query("SELECT position FROM careledger_view_tracking WHERE view = 'audit'")
    if not tracked or int(tracked[0]["position"]) < stop_position:
        raise LookupError(f"the audit view has not reached position {stop_position}")
    # Versions rise with positions: the last row at or before the stop, found by walking the
    # (aggregate_id, position) index backwards — never a scan of every position up to the stop.
    rows = db.query(
        "SELECT version FROM v_audit WHERE aggregate_id = ? AND position <= ?"
        " ORDER BY position DESC LIMIT 1",
        (budget_id, stop_position),
    )
    return int(rows[0]["version"]) if rows else 0


def balance_of(
    app: CareLedger,
    budget_id: str | UUID,
    *,
    stop_position: int | None = None,
    effective_on: date | None = None,
    db: ViewDb | None = None,
) -> BudgetBalance:
    """Replay one budget's stored events: its balance as known at ``stop_position`` (default:
    now) for the business date ``effective_on`` (default: every event recorded).

    ``stop_position`` is a log position (what callers of *as at* hold, e.g. from
    ``asat.position_at``); the budget's version at that position comes from the audit view
    (``v_audit``) in ``db``, so ``db`` is required with it. The events themselves always come
    from the event store, never from a view.
    """
    uid = _uuid(budget_id)
    max_version: int | None = None
    if stop_position is not None:
        if db is None:
            raise ValueError("stop_position needs the views' database (db) to find the version")
        max_version = version_at(db, str(uid), stop_position)
        if max_version == 0:
            raise BudgetNotFoundError("no such budget at that position", budget_id=str(uid))
    events = list(app.events.get(uid, lte=max_version))
    if not events or not isinstance(events[0], PersonalBudget.Opened):
        raise BudgetNotFoundError("no such budget", budget_id=str(uid))
    return replay(events, effective_on)


def _uuid(budget_id: str | UUID) -> UUID:
    if isinstance(budget_id, UUID):
        return budget_id
    try:
        return UUID(str(budget_id))
    except ValueError:
        raise BudgetNotFoundError(
            "budget_id is not a valid id", budget_id=str(budget_id)[:80]
        ) from None
