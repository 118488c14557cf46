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
from ledger.budget_reversals import GROSS_CHARGE, NET_CHARGE, PAID_INTO_ACCOUNT, PAID_TO_COUNCIL
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


def _recovery(refunded_pence: int, recovered_pence: int) -> list[Posting]:
    """Money taken back from the direct-payment account: the council's part to the bank,
    over-paid client contribution refunded to the person (a surplus or balance recovery)."""
    total = refunded_pence + recovered_pence
    return [
        *_pair(Account.RECOVERED, Account.DRAWN, total),
        Posting(Account.BANK, recovered_pence),
        Posting(Account.CONTRIBUTIONS, refunded_pence),
        Posting(Account.DP_ACCOUNTS, -total),
    ]


def _no_money(pence: int) -> list[Posting]:
    return []  # an assessment or an identified surplus: a figure, not money moved


# A budget entry's postings from its pence (a recovery's from its parts, in ``_corrected``).
ENTRY_POSTINGS: dict[str, Callable[[int], list[Posting]]] = {
    "CashPaymentIssued": _cash_payment,
    "DirectPaymentSpendReported": _dp_spend,
    "ContributionReceived": _contribution,
    "ContributionAssessed": _no_money,
    "SurplusIdentified": _no_money,
    GROSS_CHARGE: lambda p: _contribution_charged(p, net=False),
    NET_CHARGE: lambda p: _contribution_charged(p, net=True),
    PAID_TO_COUNCIL: lambda p: _contribution_paid(p, into_account=False),
    PAID_INTO_ACCOUNT: lambda p: _contribution_paid(p, into_account=True),
}


def _corrected(e: PersonalBudget.Corrected) -> list[Posting]:
    """Rule 10: the exact reverse of the reversed part of the entry's postings."""
    if e.entry_type in ENTRY_POSTINGS:
        legs = ENTRY_POSTINGS[e.entry_type](e.amount_pence)
    else:
        legs = _recovery(e.refunded_pence, e.amount_pence - e.refunded_pence)
    return _reversed(legs)


def _invoice_approved(pence: int) -> list[Posting]:
    return [
        *_pair(Account.DRAWN, Account.AVAILABLE, pence),
        *_pair(Account.CARE_EXPENSE, Account.PAYABLE, pence),
    ]


def _contribution_charged(pence: int, net: bool) -> list[Posting]:
    """Owed by the person; paid net, the client's share of the care is drawn from the budget
    at the same time (the person pays it into the account in place of the council)."""
    legs = list(_pair(Account.CONTRIBUTIONS_OWED, Account.CONTRIBUTIONS, pence))
    if net:
        legs += _pair(Account.DRAWN, Account.AVAILABLE, pence)
    return legs


def _contribution_paid(pence: int, into_account: bool) -> list[Posting]:
    into = Account.DP_ACCOUNTS if into_account else Account.BANK
    return list(_pair(into, Account.CONTRIBUTIONS_OWED, pence))


def _invoice_paid(pence: int) -> list[Posting]:
    return list(_pair(Account.PAYABLE, Account.BANK, pence))


def _credit_note(pence: int) -> list[Posting]:
    return [
        *_pair(Account.AVAILABLE, Account.DRAWN, pence),
        *_pair(Account.BANK, Account.CARE_EXPENSE, pence),
    ]


INVOICE_ENTRY_POSTINGS: dict[str, Callable[[int], list[Posting]]] = {
    "Approved": _invoice_approved,
    "Paid": _invoice_paid,
    "CreditNoteIssued": _credit_note,
}


def _reversed(legs: list[Posting]) -> list[Posting]:
    """Rule 10: the exact reverse of an entry's postings."""
    return [Posting(p.account, -p.amount_pence) for p in legs]


def _pool_contribution(pence: int) -> list[Posting]:
    return list(_pair(Account.POOL_HELD, Account.POOL_PARTNERS, pence))


RULES: dict[type[Any], Callable[[Any], list[Posting]]] = {
    PersonalBudget.Approved: lambda e: _allocation_legs(e.allocation, 1),
    PersonalBudget.Revised: lambda e: (
        _allocation_legs(e.allocation, 1) + _allocation_legs(e.previous, -1)
    ),
    PersonalBudget.CashPaymentIssued: lambda e: _cash_payment(e.amount_pence),
    PersonalBudget.DirectPaymentSpendReported: lambda e: _dp_spend(e.amount_pence),
    PersonalBudget.ContributionReceived: lambda e: _contribution(e.amount_pence),
    PersonalBudget.SurplusRecovered: lambda e: _recovery(e.refunded_pence, e.recovered_pence),
    PersonalBudget.BalanceRecovered: lambda e: _recovery(e.refunded_pence, e.recovered_pence),
    PersonalBudget.YearAllocated: lambda e: (
        _allocation_legs(e.allocation, 1) + _allocation_legs(e.previous, -1)
    ),
    PersonalBudget.ContributionCharged: lambda e: _contribution_charged(e.amount_pence, e.net),
    PersonalBudget.ContributionPaid: lambda e: _contribution_paid(e.amount_pence, e.into_account),
    PersonalBudget.Corrected: _corrected,
    Invoice.Approved: lambda e: _invoice_approved(e.amount_pence),
    Invoice.Paid: lambda e: _invoice_paid(e.amount_pence),
    Invoice.CreditNoteIssued: lambda e: _credit_note(e.amount_pence),
    Invoice.EntryReversed: lambda e: _reversed(
        INVOICE_ENTRY_POSTINGS[e.entry_type](e.amount_pence)
    ),
    PooledFund.ContributionReceived: lambda e: _pool_contribution(e.amount_pence),
    PooledFund.ContributionReversed: lambda e: _reversed(_pool_contribution(e.amount_pence)),
    PooledFund.DrawdownReversed: lambda e: list(
        _pair(Account.POOL_HELD, Account.POOL_DISENTANGLED, e.amount_pence)
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
