"""The glossary: every public figure's name and its one meaning (DESIGN.md §4 "One meaning per
figure"). The README's "Glossary" section is this text, section by section, and the response
models (``api.responses``) take their OpenAPI descriptions from it, so the API, the CLI's
``--json``, CSV exports and the OpenAPI document use one name for one meaning.

Conventions: money is integer pence (``_pence``) and gross — each adjustment (correction, credit
note, surplus recovery) has its own field and every net figure is named ``net_…``; a share is two
fields, ``…_bp`` (integer basis points, rounded down; null when there is nothing to divide by) and
``…_ratio`` (the exact ratio as text, "part/whole"); ``_x100`` is hundredths, rounded down.
"""

from __future__ import annotations

from typing import Final

COMMON: Final = {
    "council": "The council's ONS code (e.g. E09000033).",
    "as_at_position": "The log position the figures were read at (null: now). Figures as at an"
    " instant count only what the ledger had recorded by then.",
    "effective_on": "A business date: for an entry, the date it takes effect; for a report, the"
    " date its figures are for (null: every entry recorded).",
    "position": "The entry's position in the event log (its recorded order).",
    "version": "The aggregate's version after its last event counted here.",
    "status": "Lifecycle state: a budget is opened, active, suspended or ended; an invoice is"
    " posted, flagged, disputed, approved, rejected or paid.",
}

BALANCE: Final = {
    "budget_id": "The personal budget's id.",
    "support_reason": "The person's primary support reason (ASCOF category).",
    "deployment": "How the budget is deployed: direct-payment, council-managed,"
    " individual-service-fund or mixed (null until chosen).",
    "direct_payment_annual_pence": "For a mixed deployment, the part of the annual allocation"
    " paid in cash as a direct payment (0 for other deployments).",
    "allocated_pence": "The budget's current allocation (approved, as last revised).",
    "contingency_pence": "The contingency allowed above the available balance.",
    "cash_paid_pence": "Direct-payment cash paid into the person's account, gross: corrections"
    " are in cash_reversed_pence.",
    "cash_reversed_pence": "Cash payments reversed by corrections.",
    "direct_payment_spend_pence": "Spend the person reported from the direct-payment account,"
    " gross: corrections are in direct_payment_spend_reversed_pence.",
    "direct_payment_spend_reversed_pence": "Reported direct-payment spend reversed by corrections.",
    "invoices_awaiting_approval_pence": "Invoices posted against the budget and not yet approved"
    " (charged) or withdrawn.",
    "invoices_approved_pence": "Invoices approved and charged to the budget, gross: credit notes"
    " are in credit_notes_pence.",
    "invoices_paid_pence": "Approved invoices paid to care firms, gross of credit notes"
    " (invoices_approved_pence - invoices_paid_pence is owed).",
    "credit_notes_pence": "Credit notes issued by care firms against approved invoices.",
    "contribution_weekly_assessed_pence": "The person's assessed weekly client contribution"
    " (null until assessed).",
    "contributions_received_pence": "Client contributions received, gross: corrections are in"
    " contributions_reversed_pence.",
    "contributions_reversed_pence": "Client contributions reversed by corrections.",
    "surplus_identified_pence": "Surplus identified over the budget's life (cumulative), whether"
    " or not recovered since.",
    "surplus_outstanding_pence": "Surplus identified and not yet recovered or refunded:"
    " surplus_identified_pence - surplus_recovered_pence - surplus_refunded_pence.",
    "surplus_recovered_pence": "Surplus recovered from the direct-payment account to the council.",
    "surplus_refunded_pence": "Surplus refunded to the person as over-paid client contribution."
    " With surplus_recovered_pence it is the journal's Budgets:Recovered.",
    "net_drawn_pence": "What the budget has drawn, net: cash_paid - cash_reversed +"
    " invoices_approved - credit_notes - surplus_recovered - surplus_refunded. The journal's"
    " Budgets:Drawn.",
    "available_pence": "Allocated and not yet drawn: allocated - (net_drawn + surplus recovered"
    " and refunded). Recovered surplus returns to the council, not to the budget. The journal's"
    " Budgets:Available.",
    "held_pence": "Cash in the person's direct-payment account: cash paid - reversed - net spend"
    " reported - surplus recovered and refunded. The journal's Assets:DirectPaymentAccounts.",
    "approved_on": "The date the budget was approved (null before).",
    "ended_on": "The date the budget ended (null while it runs).",
    "last_review_on": "The date of the budget's last review (null if none).",
    "weekly_funding_pence": "The weekly funding the surplus test uses: the annual direct payment"
    " (or allocation) / 52, rounded down.",
    "weeks_of_funding_held_x100": "held_pence over weekly_funding_pence in hundredths of a week,"
    " rounded down (1135 = 11.35 weeks; 0 without weekly funding).",
}

STATEMENT: Final = {
    "items": "The page's entries, oldest first.",
    "next_cursor": "The cursor to pass as `cursor` for the next page (null: no more).",
    "has_more": "Whether another page follows.",
    "event_type": "The kind of event the entry records (e.g. CashPaymentIssued).",
    "entry_id": "The entry's id: aggregate id / version.",
    "actor_id": "Who recorded the entry.",
    "available_change_pence": "The entry's signed change to available_pence (negative: drawn).",
}

PROGRESS: Final = {
    "name": "The council's name.",
    "on": "The business date the measures are for.",
    "financial_year": "The financial year (April-March) containing `on`, e.g. 2010-11.",
    "target_bp": "The uptake target: with_budget_share_of_eligible_bp of 3000 (30%).",
    "meets_target": "Whether users' with_budget_share_of_eligible meets the target.",
    "users": "Measures for service users (ASCOF 1a/2a), in total and by_reason.",
    "carers": "Measures for carers' own budgets (ASCOF 1b/2b), in total and by_reason.",
    "by_reason": "The same measures for each primary support reason.",
    "eligible_people": "People eligible for support: the council's latest record on or before"
    " `on`.",
    "people_with_budget": "People with an approved budget on `on` (approved by then, not ended;"
    " suspended budgets count).",
    "with_budget_share_of_eligible_bp": "Uptake: people_with_budget over eligible_people, bp.",
    "with_budget_share_of_eligible_ratio": "Uptake as the exact ratio people/eligible.",
    "people_on_direct_payment": "People with a budget deployed wholly or partly (mixed) as a"
    " direct payment.",
    "direct_payment_share_of_eligible_bp": "people_on_direct_payment over eligible_people, bp.",
    "direct_payment_share_of_eligible_ratio": "The same share as the exact ratio.",
    "direct_payment_share_of_with_budget_bp": "Carers on direct payments over carers with a"
    " budget, bp.",
    "direct_payment_share_of_with_budget_ratio": "The same share as the exact ratio.",
    "net_budget_spend_pence": "Net spend through personal budgets in the financial year, by"
    " effective date: the year's movement on the journal's Budgets:Drawn (cash paid -"
    " reversed + invoices approved - credit notes - surplus recovered and refunded).",
    "gross_asc_spend_pence": "The council's gross adult-social-care spend for the financial"
    " year, as recorded (null: not recorded; nationally, the sum over councils that did).",
    "net_budget_spend_share_of_gross_bp": "net_budget_spend_pence over gross_asc_spend_pence, bp.",
    "net_budget_spend_share_of_gross_ratio": "The same share as the exact ratio.",
    "spend": "Net spend through personal budgets against gross adult-social-care spend.",
    "pooled_funds": "NHS/council pooled funds by `on`: totals, and each fund (council only).",
    "funds": "Each pooled fund's figures.",
    "fund_ref": "The pooled fund's reference.",
    "fund_count": "How many pooled funds.",
    "partner_contributions_pence": "Partners' contributions into the pool. The journal's"
    " Pool:PartnerContributions.",
    "net_disentangled_pence": "Pooled money drawn down into personal budgets, less releases back"
    " to the pool. The journal's Pool:Disentangled.",
    "disentangled_share_of_contributions_bp": "net_disentangled_pence over"
    " partner_contributions_pence, bp.",
    "disentangled_share_of_contributions_ratio": "The same share as the exact ratio.",
    "councils": "How many councils are registered.",
    "councils_with_population": "Councils with an eligible population recorded by `on`.",
    "councils_meeting_target": "Councils whose users meet the uptake target.",
    "councils_reporting_spend": "Councils that recorded gross spend for the financial year.",
    "uptake_min": "The council with the lowest uptake and its share (null: none).",
    "uptake_max": "The council with the highest uptake and its share (null: none).",
}

SPEND: Final = {
    "provider": "The care firm's reference.",
    "month": "The service month (YYYY-MM) the invoices' periods start in (by_month only).",
    "from": "The first service month asked for (YYYY-MM; null: from the start).",
    "to": "The last service month asked for (YYYY-MM; null: to the end).",
    "invoiced_count": "Invoices posted.",
    "invoiced_pence": "Pence invoiced, as posted.",
    "flagged_count": "Invoices ever flagged for review.",
    "flagged_pence": "Pence on invoices ever flagged.",
    "approved_count": "Invoices ever approved.",
    "approved_pence": "Pence approved, gross of credit notes.",
    "disputed_count": "Invoices ever disputed.",
    "disputed_pence": "Pence on invoices ever disputed.",
    "rejected_count": "Invoices rejected.",
    "rejected_pence": "Pence on invoices rejected.",
    "paid_count": "Invoices paid.",
    "paid_pence": "Pence paid, gross of credit notes.",
    "credit_notes_count": "Credit notes issued.",
}

TRIAL_BALANCE: Final = {
    "accounts": "Each council's accounts with their totals.",
    "account": "The journal account (README, chart of accounts).",
    "debit_pence": "Total debits.",
    "credit_pence": "Total credits.",
    "balance_pence": "debit_pence - credit_pence (assets and expenses positive).",
    "total": "The sums over every account listed.",
    "balanced": "Whether the total balance is zero.",
}

INVOICES: Final = {
    "id": "The id of the invoice (or budget).",
    "invoice_number": "The care firm's invoice number, as sent.",
    "period": "The service period: start and end dates, inclusive.",
    "flags": "Why the invoice was flagged for review (rule names; empty if none).",
    "amount_pence": "The amount of the invoice, line, credit note or history entry, as sent.",
    "lines": "The invoice's lines.",
    "credit_notes": "Each credit note's number and pence.",
    "remittance_ref": "The council's payment reference (null until paid).",
    "history": "The invoice's events, oldest first.",
}

SECTIONS: Final = {
    "Common": COMMON,
    "Budget balance": BALANCE,
    "Statement": STATEMENT,
    "Progress": PROGRESS,
    "Spend by provider": SPEND,
    "Trial balance": TRIAL_BALANCE,
    "Invoices": INVOICES,
}

GLOSSARY: Final = {name: text for section in SECTIONS.values() for name, text in section.items()}
