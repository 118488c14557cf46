"""Response models of the read routes whose figures the glossary defines (``api.glossary``): each
field's OpenAPI description is its glossary meaning, filled in by ``described``, so /openapi.json,
the README and the JSON agree. Money is integer pence; shares are ``_bp`` + ``_ratio``."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from api.glossary import described
from api.responses import BudgetYearOut


class Figures(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


@described
class BudgetBalanceOut(Figures):
    budget_id: str
    council: str
    support_reason: str
    status: str
    version: int
    deployment: str | None
    direct_payment_annual_pence: int
    allocated_pence: int
    contingency_pence: int
    cash_paid_pence: int
    cash_reversed_pence: int
    direct_payment_spend_pence: int
    direct_payment_spend_reversed_pence: int
    invoices_awaiting_approval_pence: int
    invoices_approved_pence: int
    invoices_approved_reversed_pence: int
    invoices_paid_pence: int
    invoices_paid_reversed_pence: int
    credit_notes_pence: int
    credit_notes_reversed_pence: int
    contribution_weekly_assessed_pence: int | None
    contributions_received_pence: int
    contributions_reversed_pence: int
    surplus_identified_pence: int
    surplus_identified_reversed_pence: int
    surplus_outstanding_pence: int
    surplus_recovered_pence: int
    surplus_recovered_reversed_pence: int
    surplus_refunded_pence: int
    surplus_refunded_reversed_pence: int
    balance_recovered_pence: int
    balance_recovered_reversed_pence: int
    balance_refunded_pence: int
    balance_refunded_reversed_pence: int
    net_drawn_pence: int
    available_pence: int
    held_pence: int
    approved_on: str | None
    ended_on: str | None
    last_review_on: str | None
    weekly_funding_pence: int
    weeks_of_funding_held_x100: int
    allocation_annual_pence: int
    payment_basis: str | None
    contributions_charged_pence: int
    contributions_charged_reversed_pence: int
    contributions_charged_net_pence: int
    contributions_charged_net_reversed_pence: int
    contribution_charge_latest_pence: int
    contributions_paid_pence: int
    contributions_paid_reversed_pence: int
    contributions_paid_into_account_pence: int
    contributions_paid_into_account_reversed_pence: int
    contributions_owed_pence: int
    contribution_arrears_pence: int
    as_at_position: int | None
    effective_on: date | None
    years: list[BudgetYearOut] = []


@described
class StatementLine(Figures):
    position: int
    effective_on: str
    year: str | None = None
    event_type: str
    entry_id: str
    actor_id: str
    available_change_pence: int
    available_pence: int


@described
class Statement(Figures):
    items: list[StatementLine]
    next_cursor: str | None
    has_more: bool
    years: list[BudgetYearOut] = []
    as_at_position: int | None = None


@described
class TrialBalanceAccount(Figures):
    council: str
    account: str
    debit_pence: int
    credit_pence: int
    balance_pence: int


@described
class TrialBalanceTotal(Figures):
    debit_pence: int
    credit_pence: int
    balance_pence: int


@described
class TrialBalance(Figures):
    council: str | None
    as_at_position: int | None
    effective_on: str | None
    accounts: list[TrialBalanceAccount]
    total: TrialBalanceTotal
    balanced: bool


@described
class CarerMeasures(Figures):
    people_with_budget: int
    people_on_direct_payment: int
    direct_payment_share_of_with_budget_bp: int | None
    direct_payment_share_of_with_budget_ratio: str
    net_budget_spend_pence: int
    net_budget_spend_share_of_gross_bp: int | None
    net_budget_spend_share_of_gross_ratio: str


@described
class Carers(CarerMeasures):
    by_reason: dict[str, CarerMeasures]


@described
class UserMeasures(Figures):
    eligible_people: int
    people_with_budget: int
    with_budget_share_of_eligible_bp: int | None
    with_budget_share_of_eligible_ratio: str
    people_on_direct_payment: int
    direct_payment_share_of_eligible_bp: int | None
    direct_payment_share_of_eligible_ratio: str
    net_budget_spend_pence: int
    net_budget_spend_share_of_gross_bp: int | None
    net_budget_spend_share_of_gross_ratio: str


@described
class Users(UserMeasures):
    by_reason: dict[str, UserMeasures]


@described
class Spend(Figures):
    gross_asc_spend_pence: int | None
    net_budget_spend_pence: int
    net_budget_spend_share_of_gross_bp: int | None
    net_budget_spend_share_of_gross_ratio: str


@described
class PoolTotals(Figures):
    partner_contributions_pence: int
    net_disentangled_pence: int
    disentangled_share_of_contributions_bp: int | None
    disentangled_share_of_contributions_ratio: str


@described
class PoolFund(PoolTotals):
    council: str
    fund_ref: str


@described
class PooledFunds(PoolTotals):
    fund_count: int


@described
class CouncilPooledFunds(PooledFunds):
    funds: list[PoolFund]


@described
class Measures(Figures):
    on: str
    financial_year: str
    target_bp: int
    meets_target: bool
    users: Users
    carers: Carers
    spend: Spend
    as_at_position: int | None


@described
class CouncilProgress(Measures):
    council: str
    name: str
    pooled_funds: CouncilPooledFunds


@described
class Uptake(Figures):
    council: str
    with_budget_share_of_eligible_bp: int | None
    with_budget_share_of_eligible_ratio: str


@described
class NationalProgress(Measures):
    councils: int
    councils_with_population: int
    councils_meeting_target: int
    councils_reporting_spend: int
    uptake_min: Uptake | None
    uptake_max: Uptake | None
    pooled_funds: PooledFunds


@described
class SpendRow(Figures):
    council: str
    provider: str
    month: str | None = None
    invoiced_count: int
    invoiced_pence: int
    flagged_count: int
    flagged_pence: int
    approved_count: int
    approved_pence: int
    disputed_count: int
    disputed_pence: int
    rejected_count: int
    rejected_pence: int
    paid_count: int
    paid_pence: int
    credit_notes_count: int
    credit_notes_pence: int


@described
class SpendByProvider(Figures):
    council: str | None
    month_from: str | None
    month_to: str | None
    as_at_position: int | None
    items: list[SpendRow]


@described
class PaymentRunResult(Figures):
    budget_id: str
    run_cash_paid_pence: int
    contributions_charged_pence: int
    periods_paid: int
    paid_through: str | None
    skipped_reason: str | None
    skipped_detail: str | None


@described
class PaymentRun(Figures):
    council: str
    run_date: str
    run_cash_paid_pence: int
    budgets_paid: int
    budgets_skipped: int
    results: list[PaymentRunResult]
    replayed: bool = False
