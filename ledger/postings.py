"""The chart of accounts and the one pure function from a money event to balanced postings.

Amounts are signed pence: debit positive, credit negative; each event's postings sum to zero.
Accounts are per council (the projection attaches the event's council). Two books share the chart:

* the budget book — Funding:* (credit: where each budget's money comes from) against
  Budgets:Available (allocated, not yet drawn), Budgets:Drawn and Budgets:Recovered;
* the cash book — Assets:Bank, Assets:DirectPaymentAccounts, Liabilities:ProviderPayable,
  Expenses:*, Income:ClientContributions, Assets:ContributionsReceivable (assessed contributions
  owed, for budgets paid net or gross), and the pooled fund's Pool:* accounts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger.budget import PersonalBudget
from ledger.invoice import Invoice
from ledger.pooled_fund import PooledFund
from ledger.values import Allocation, FundingSource


class Account:
    FUNDING_COUNCIL = "Funding:CouncilFund"
    FUNDING_POOL = "Funding:PooledFund"
    FUNDING_CLIENT = "Funding:ClientContribution"
    AVAILABLE = "Budgets:Available"
    DRAWN = "Budgets:Drawn"
    RECOVERED = "Budgets:Recovered"
    BANK = "Assets:Bank"
    DP_ACCOUNTS = "Assets:DirectPaymentAccounts"
    PAYABLE = "Liabilities:ProviderPayable"
    CARE_EXPENSE = "Expenses:CommissionedCare"
    DP_EXPENSE = "Expenses:DirectPaymentSpend"
    CONTRIBUTIONS = "Income:ClientContributions"
    POOL_HELD = "Pool:Held"
    POOL_PARTNERS = "Pool:PartnerContributions"
    POOL_DISENTANGLED = "Pool:Disentangled"
    CONTRIBUTIONS_OWED = "Assets:ContributionsReceivable"


CHART = tuple(v for k, v in vars(Account).items() if k.isupper())


@dataclass(frozen=True)
class Posting:
    account: str
    amount_pence: int


def _pair(debit: str, credit: str, pence: int) -> tuple[Posting, Posting]:
    return Posting(debit, pence), Posting(credit, -pence)


def _allocation_legs(a: Allocation, sign: int) -> list[Posting]:
    legs = [
        Posting(Account.AVAILABLE, sign * a.total_pence),
        Posting(Account.FUNDING_COUNCIL, -sign * a.source_total(FundingSource.COUNCIL_FUND)),
        Posting(Account.FUNDING_POOL, -sign * a.source_total(FundingSource.POOLED_FUND)),
        Posting(Account.FUNDING_CLIENT, -sign * a.client_contribution_pence),
    ]
    return legs


def _net(postings: list[Posting]) -> tuple[Posting, ...]:
    """Sum by account, drop zeros, keep the chart's order."""
    totals: dict[str, int] = {}
    for p in postings:
        totals[p.account] = totals.get(p.account, 0) + p.amount_pence
    return tuple(Posting(acc, totals[acc]) for acc in CHART if totals.get(acc))


def _cash_payment(pence: int) -> list[Posting]:
    return [
        *_pair(Account.DRAWN, Account.AVAILABLE, pence),
        *_pair(Account.DP_ACCOUNTS, Account.BANK, pence),
    ]


def _dp_spend(pence: int) -> list[Posting]:
    return list(_pair(Account.DP_EXPENSE, Account.DP_ACCOUNTS, pence))


def _contribution(pence: int) -> list[Posting]:
    return list(_pair(Account.BANK, Account.CONTRIBUTIONS, pence))


ENTRY_POSTINGS: dict[str, Callable[[int], list[Posting]]] = {
    "CashPaymentIssued": _cash_payment,
    "DirectPaymentSpendReported": _dp_spend,
    "ContributionReceived": _contribution,
}


def _surplus(e: PersonalBudget.SurplusRecovered) -> list[Posting]:
    total = e.refunded_pence + e.recovered_pence
    return [
        *_pair(Account.RECOVERED, Account.DRAWN, total),
        Posting(Account.BANK, e.recovered_pence),
        Posting(Account.CONTRIBUTIONS, e.refunded_pence),
        Posting(Account.DP_ACCOUNTS, -total),
    ]


def _corrected(e: PersonalBudget.Corrected) -> list[Posting]:
    return [
        Posting(p.account, -p.amount_pence) for p in ENTRY_POSTINGS[e.entry_type](e.amount_pence)
    ]


def _contribution_charged(e: PersonalBudget.ContributionCharged) -> list[Posting]:
    """Owed by the person; paid net, the client's share of the care is drawn from the budget
    at the same time (the person pays it into the account in place of the council)."""
    legs = list(_pair(Account.CONTRIBUTIONS_OWED, Account.CONTRIBUTIONS, e.amount_pence))
    if e.net:
        legs += _pair(Account.DRAWN, Account.AVAILABLE, e.amount_pence)
    return legs


def _contribution_paid(e: PersonalBudget.ContributionPaid) -> list[Posting]:
    into = Account.DP_ACCOUNTS if e.into_account else Account.BANK
    return list(_pair(into, Account.CONTRIBUTIONS_OWED, e.amount_pence))


def _invoice_approved(e: Invoice.Approved) -> list[Posting]:
    return [
        *_pair(Account.DRAWN, Account.AVAILABLE, e.amount_pence),
        *_pair(Account.CARE_EXPENSE, Account.PAYABLE, e.amount_pence),
    ]


def _credit_note(e: Invoice.CreditNoteIssued) -> list[Posting]:
    return [
        *_pair(Account.AVAILABLE, Account.DRAWN, e.amount_pence),
        *_pair(Account.BANK, Account.CARE_EXPENSE, e.amount_pence),
    ]


RULES: dict[type[Any], Callable[[Any], list[Posting]]] = {
    PersonalBudget.Approved: lambda e: _allocation_legs(e.allocation, 1),
    PersonalBudget.Revised: lambda e: (
        _allocation_legs(e.allocation, 1) + _allocation_legs(e.previous, -1)
    ),
    PersonalBudget.CashPaymentIssued: lambda e: _cash_payment(e.amount_pence),
    PersonalBudget.DirectPaymentSpendReported: lambda e: _dp_spend(e.amount_pence),
    PersonalBudget.ContributionReceived: lambda e: _contribution(e.amount_pence),
    PersonalBudget.SurplusRecovered: _surplus,
    PersonalBudget.YearAllocated: lambda e: (
        _allocation_legs(e.allocation, 1) + _allocation_legs(e.previous, -1)
    ),
    PersonalBudget.ContributionCharged: _contribution_charged,
    PersonalBudget.ContributionPaid: _contribution_paid,
    PersonalBudget.Corrected: _corrected,
    Invoice.Approved: _invoice_approved,
    Invoice.Paid: lambda e: list(_pair(Account.PAYABLE, Account.BANK, e.amount_pence)),
    Invoice.CreditNoteIssued: _credit_note,
    PooledFund.ContributionReceived: lambda e: list(
        _pair(Account.POOL_HELD, Account.POOL_PARTNERS, e.amount_pence)
    ),
    PooledFund.DrawnDown: lambda e: list(
        _pair(Account.POOL_DISENTANGLED, Account.POOL_HELD, e.amount_pence)
    ),
    PooledFund.Released: lambda e: list(
        _pair(Account.POOL_HELD, Account.POOL_DISENTANGLED, e.amount_pence)
    ),
}

MONEY_EVENT_TYPES = tuple(RULES)


def postings_for(domain_event: object) -> tuple[Posting, ...]:
    """The balanced postings of one event (empty for events that move no money)."""
    rule = RULES.get(type(domain_event))
    return _net(rule(domain_event)) if rule else ()
