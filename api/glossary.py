"""The glossary: every public figure's name and its one meaning (DESIGN.md §4 "One meaning per
figure"). The README's "Glossary" section is this text, section by section, and every response
model (``api.figure_models``, ``api.responses``, ``api.responses_audit``, ``api.pagination``)
takes its fields' OpenAPI descriptions from it through ``described``, so the API, the CLI's
``--json``, CSV exports and the OpenAPI document use one name for one meaning. A name used by
several models means the same there: where its values depend on the object (``kind``,
``status``, ``amount_pence``), the definition lists them.

Conventions: money is integer pence (``_pence``) and gross — each adjustment (correction, credit
note, surplus recovery) has its own field and every net figure is named ``net_…``; a share is two
fields, ``…_bp`` (integer basis points, rounded down; null when there is nothing to divide by) and
``…_ratio`` (the exact ratio as text, "part/whole"); ``_x100`` is hundredths, rounded down.
"""

from __future__ import annotations

from typing import Final, TypeVar

from pydantic import BaseModel

COMMON: Final = {
    "council": "The council's ONS code (e.g. E09000033; null on an exception or audit row that"
    " concerns no council).",
    "as_at_position": "The log position the figures were read at (null: now). Figures as at an"
    " instant count only what the ledger had recorded by then.",
    "position": "A position in the event log (1, 2, …, in recorded order; positions may have"
    " gaps): the entry's or event's own; on an exception, the event that raised it (null for"
    " one worked out for the date asked or a refused duplicate); on an invoice listed, its"
    " posting's.",
    "version": "The aggregate's (budget's, invoice's) version after its last event counted here;"
    " on a history entry or audit row, after that event.",
    "status": "The state of what the object describes: a budget is opened, active, suspended or"
    " ended; an invoice is posted, flagged, disputed, approved, rejected or paid (on a history"
    " entry, after that event); the service on /health is ok (the store answers and holds"
    " events) or empty (it answers and holds none yet).",
    "id": "The id of the invoice or budget.",
    "budget_id": "The personal budget's id.",
    "invoice_id": "The invoice's id (null: the row concerns no invoice).",
    "provider": "The care firm's registration id (null: the row concerns no care firm).",
    "name": "The name of what the object describes: on progress, the council's name; on a"
    " check, the check's (hash-chain, merkle-tree, trial-balance, …).",
    "kind": "What sort of thing the object is, from its own list: an exception is an invoice"
    " flag (provider-not-registered, outside-budget-life, over-plan, overlapping-period,"
    " not-commissioned), flag-overridden, dispute, correction, surplus-identified,"
    " payment-after-ending, review-overdue, surplus-above-threshold,"
    " duplicate-invoice-attempt or contribution-arrears; a deployment is direct-payment,"
    " council-managed, individual-service-fund or mixed; a representative is nominated,"
    " authorised or carer.",
    "amount_pence": "The pence of the object it is in: an invoice's total billed (its lines'"
    " sum), an invoice line's, a funding stream's, an invoice history entry's (null: the event"
    " moves no money); on an exception, the pence at issue, which its kind gives: the flagged,"
    " overridden or refused duplicate invoice's amount, the payment made after ending, the"
    " amount corrected, the surplus identified, the cash held above the surplus threshold,"
    " the contributions in arrears, or a short-pay's disputed rest (null: a dispute of a whole"
    " invoice, review-overdue); in the v_postings CSV, a journal posting's, signed (debit"
    " positive).",
    "effective_on": "A business date: for an entry, the date it takes effect; for an exception,"
    " the date it concerns; for a report, the date its figures are for (null: every entry"
    " recorded).",
    "recorded_at": "When the ledger recorded it (UTC instant, ISO 8601); on an exception, when"
    " the ledger learned of it (null for a surplus, worked out from the balance as it stands).",
    "detail": "A short explanation, never personal data: on an exception, what happened; on a"
    " check, what it found.",
    "reason": "The reason the actor gave for the command (null: none given).",
    "actor_role": "The role the actor acted in (council, provider, representative, auditor,"
    " regulator, admin or system).",
}

BALANCE: Final = {
    "support_reason": "The person's primary support reason (ASCOF category).",
    "deployment": "How the budget is deployed (null until chosen): direct-payment,"
    " council-managed, individual-service-fund or mixed. On a balance (and its CSV), the kind"
    " alone; on a budget, an object: the kind, its care firm and its cash part.",
    "direct_payment_annual_pence": "For a mixed deployment, the part of the annual allocation"
    " paid in cash as a direct payment (0 for other deployments).",
    "allocated_pence": "The budget's allocation (approved, as last revised); with budget years,"
    " every year's allocation added up (the years list has each).",
    "contingency_pence": "The contingency allowed above the available balance (part of the"
    " allocation).",
    "cash_paid_pence": "Direct-payment cash paid into the person's account, gross: corrections"
    " are in cash_reversed_pence.",
    "cash_reversed_pence": "Cash payments reversed by corrections.",
    "direct_payment_spend_pence": "Spend the person reported from the direct-payment account,"
    " gross: corrections are in direct_payment_spend_reversed_pence.",
    "direct_payment_spend_reversed_pence": "Reported direct-payment spend reversed by corrections.",
    "invoices_awaiting_approval_pence": "Invoices posted against the budget and not yet approved"
    " (charged) or withdrawn.",
    "open_invoices": "The invoices awaiting approval, invoice id → pence (their sum is"
    " invoices_awaiting_approval_pence). In `balance --json` and the v_budget_balances CSV only"
    " (there as JSON text).",
    "invoices_approved_pence": "Invoices approved and charged to the budget, gross: credit notes"
    " are in credit_notes_pence.",
    "invoices_approved_reversed_pence": "Invoice approvals (charges) reversed by corrections.",
    "invoices_paid_pence": "Approved invoices paid to care firms, gross of credit notes"
    " (invoices_approved_pence - invoices_approved_reversed_pence - (invoices_paid_pence -"
    " invoices_paid_reversed_pence) is owed).",
    "invoices_paid_reversed_pence": "Invoice payments reversed by corrections (owed again).",
    "credit_notes_pence": "Credit notes issued by care firms against approved invoices (on an"
    " invoice, against it).",
    "credit_notes_reversed_pence": "Credit notes reversed by corrections (charged to the budget"
    " again).",
    "contribution_weekly_assessed_pence": "The person's assessed weekly client contribution, less"
    " any correction of that assessment (null until assessed).",
    "contributions_received_pence": "Client contributions received, gross: corrections are in"
    " contributions_reversed_pence. On a budget paid net or gross, contributions are owed and"
    " what is paid against them is in contributions_paid_pence instead.",
    "contributions_reversed_pence": "Client contributions reversed by corrections.",
    "surplus_identified_pence": "Surplus identified over the budget's life (cumulative), whether"
    " or not recovered since.",
    "surplus_identified_reversed_pence": "Identified surplus withdrawn by corrections.",
    "surplus_outstanding_pence": "Surplus identified and not yet recovered or refunded:"
    " surplus_identified_pence - surplus_identified_reversed_pence - (surplus_recovered_pence +"
    " surplus_refunded_pence - surplus_recovered_reversed_pence -"
    " surplus_refunded_reversed_pence).",
    "surplus_recovered_pence": "Surplus recovered from the direct-payment account to the council.",
    "surplus_recovered_reversed_pence": "Surplus recovered, reversed by corrections (back in the"
    " direct-payment account).",
    "surplus_refunded_pence": "Surplus refunded to the person as over-paid client contribution.",
    "surplus_refunded_reversed_pence": "Surplus refunds reversed by corrections (a recovery's"
    " reversal takes back the council's recovered part first, the refund last).",
    "balance_recovered_pence": "After the budget ended, the direct-payment balance left that was"
    " recovered to the council (its own entry, BalanceRecovered).",
    "balance_recovered_reversed_pence": "Balance recovered, reversed by corrections.",
    "balance_refunded_pence": "After the budget ended, the part of the balance left refunded to"
    " the person as over-paid client contribution.",
    "balance_refunded_reversed_pence": "Balance refunds reversed by corrections. Surplus and"
    " balance recovered and refunded, less their reversals, are the journal's Budgets:Recovered.",
    "refunded_pence": "On a balance recovery's answer: the part of the amount refunded to the"
    " person as over-paid client contribution.",
    "recovered_pence": "On a balance recovery's answer: the part of the amount recovered to the"
    " council.",
    "net_drawn_pence": "What the budget has drawn, net: cash_paid - cash_reversed +"
    " invoices_approved - invoices_approved_reversed - credit_notes + credit_notes_reversed -"
    " returned, where returned is surplus and balance recovered and refunded less their"
    " reversals. The journal's Budgets:Drawn.",
    "available_pence": "Allocated and not yet drawn: allocated - (net_drawn + returned)."
    " Recovered surplus and balance return to the council, not to the budget. The journal's"
    " Budgets:Available.",
    "held_pence": "Cash in the person's direct-payment account: cash paid - reversed - net spend"
    " reported - returned (surplus and balance recovered and refunded less their reversals)."
    " The journal's Assets:DirectPaymentAccounts.",
    "approved_on": "The date the budget was approved (null before).",
    "ended_on": "The date the budget ended (null while it runs).",
    "last_review_on": "The date of the budget's last review (null if none).",
    "weekly_funding_pence": "The weekly funding the surplus test uses: the annual direct payment"
    " (or allocation) / 52, rounded down.",
    "weeks_of_funding_held_x100": "held_pence over weekly_funding_pence in hundredths of a week,"
    " rounded down (1135 = 11.35 weeks; 0 without weekly funding).",
}

STATEMENT: Final = {
    "event_type": "The kind of event the entry records (e.g. CashPaymentIssued).",
    "entry_id": "The entry's id: aggregate id / version.",
    "actor_id": "Who recorded the entry (the acting principal's id).",
    "available_change_pence": "The entry's signed change to available_pence (negative: drawn).",
}

PROGRESS: Final = {
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
    "month": "The service month (YYYY-MM) the invoices' periods start in (by_month only).",
    "month_from": "The first service month asked for (`from`, YYYY-MM; null: from the start).",
    "month_to": "The last service month asked for (`to`, YYYY-MM; null: to the end).",
    "invoiced_count": "Invoices posted.",
    "invoiced_pence": "Pence invoiced, as posted.",
    "flagged_count": "Invoices ever flagged for review.",
    "flagged_pence": "Pence on invoices ever flagged.",
    "approved_count": "Invoices ever approved.",
    "approved_pence": "Pence approved (charged to the budget), gross of credit notes: an"
    " invoice's own, or a spend row's invoices' total.",
    "disputed_count": "Invoices ever disputed.",
    "disputed_pence": "Pence on invoices ever disputed.",
    "rejected_count": "Invoices rejected.",
    "rejected_pence": "Pence on invoices rejected.",
    "paid_count": "Invoices paid.",
    "paid_pence": "Pence paid to the care firm, gross of credit notes: an invoice's own, or a"
    " spend row's invoices' total.",
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
    "invoice_number": "The care firm's invoice number, as sent.",
    "period": "The service period: start and end dates, inclusive.",
    "flags": "Why the invoice was flagged for review (rule names; empty if none).",
    "start": "The service period's first day (ISO date, inclusive).",
    "end": "The service period's last day (ISO date, inclusive).",
    "lines": "The invoice's lines.",
    "service": "The service a line is for (a support-plan or invoice line), as the plan names it.",
    "units_hundredths": "An invoice line's hours or visits, in hundredths (150 = 1.5).",
    "rate_pence": "The price of one hour or visit, in pence.",
    "credit_notes": "The pence credited, by credit note number.",
    "remittance_ref": "The council's payment reference (null until paid).",
    "short_paid_pence": "The part of an invoice not approved when it was short-paid (approved"
    " in part): amount_pence - approved_pence (0: approved in full, or not yet approved).",
    "short_pay_rest": "What became of the short-paid part: disputed or rejected (null: no"
    " short-pay).",
    "history": "The invoice's events, one entry per event, oldest first.",
}

EXCEPTIONS: Final = {
    "seq": "An exception's number among those its event raised (null: none stored).",
    "skipped": "Exception kinds not computed because a view they read is missing.",
}

BUDGET: Final = {
    "person_ref": "The council's reference for the person (never a name).",
    "primary_support_reason": "The person's primary support reason (ASCOF category), as"
    " support_reason on the balance.",
    "carer_budget": "Whether the budget is a carer's own budget (ASCOF 1b/2b).",
    "opened_on": "The date the budget was opened (null before).",
    "end_reason": "Why the budget ended (null while it runs).",
    "indicative_weekly_pence": "The indicative weekly budget set at assessment (null: none).",
    "support_plan": "The support plan's lines.",
    "units_per_week_hundredths": "A plan line's hours or visits a week, in hundredths.",
    "provider_id": "The care firm's registration id, as provider elsewhere (null: none named).",
    "allocation": "The budget's allocation: its total, who pays it, its contingency and its"
    " funding streams.",
    "total_pence": "The allocation's total for the year, as last revised.",
    "client_contribution_pence": "The part of the allocation the person pays (client"
    " contribution).",
    "council_contribution_pence": "The part of the allocation the council pays.",
    "streams": "Where the council's part comes from, stream by stream.",
    "source": "A funding stream's source: council-fund or pooled-fund.",
    "pooled_fund_id": "The pooled fund a stream draws on (null: council fund).",
    "representatives": "The person's representatives, by representative id.",
    "basis": "A representative's authority: none, attorney (lasting power of attorney), deputy"
    " (Court of Protection), council-approved or person-nominated.",
    "appointed_on": "The date a representative was appointed.",
    "revoked_on": "The date a representative's appointment was revoked (null: still appointed).",
}

AUDIT: Final = {
    "aggregate_id": "The id of the record (budget, invoice, council, audit note, …) the event"
    " belongs to.",
    "aggregate_kind": "The sort of record the event belongs to: budget, invoice, council,"
    " audit-note, ….",
    "on_behalf_of": "Whom the actor acted for (null: for themselves).",
    "command_id": "The Idempotency-Key of the command that wrote the event.",
    "hash": "The SHA-256 chain hash of the log up to and including this event (hex).",
    "known_by": "The latest recorded_at up to this position (UTC, never goes back): the log held"
    " this event by then, so figures as at an instant count the positions known by it.",
    "audit_note": "An audit note's code, text and subject (on an audit note's row only).",
    "code": "An audit note's short finding code.",
    "note": "An audit note's text.",
    "subject_entry_id": "The entry an audit note is about (null: none).",
}

VERIFICATION: Final = {
    "ok": "Whether it passed: a check, or every check of a verification.",
    "checks": "Each check's result.",
    "first_bad_position": "The log position where a check first failed (null: it passed).",
    "checkpoint": "The checkpoint that was checked.",
    "size": "How many events the log held at a checkpoint.",
    "head_hash": "The chain hash of the checkpoint's last event (hex).",
    "taken_at": "When the checkpoint was taken (UTC instant, ISO 8601).",
    "tree_size": "Leaves in the Merkle tree a checkpoint or proof is for (DESIGN.md §9).",
    "root_hash": "That tree's root hash (base64).",
    "signed_note": "The C2SP tlog-checkpoint (origin, tree size, root) as a signed note,"
    " Ed25519-signed by the ledger's key; verify it with GET /v1/audit/public-key.",
}

VERIFIABLE_LOG: Final = {
    "verifier_key": "The signed-note verifier key: <name>+<hex key id>+<base64(0x01 ‖ Ed25519"
    " key)>.",
    "retired": "Verifier keys rotated out; each still verifies what it signed before.",
    "leaf_index": "A leaf's index in the Merkle tree, from 0 in log order.",
    "leaf": "The exact leaf bytes (base64); leaf hash = SHA-256(0x00 ‖ leaf).",
    "provenance": "The event's provenance as the audit trail holds it.",
    "hashes": "A proof's hashes (base64): an inclusion path, leaf first (RFC 9162 §2.1.3), or a"
    " consistency proof (§2.1.4).",
    "from": "The kept (smaller) tree's size a consistency proof starts from.",
    "to": "The later tree's size a consistency proof reaches.",
}

HEALTH: Final = {
    "events": "How many events the log holds.",
    "standbys": "With reads on PostgreSQL standbys (`CARELEDGER_READ_DATABASE_URL`): each"
    " standby, how far its views have got and whether reads go to it; null without standbys.",
    "url": "The standby's database URL, its password left out.",
    "down": "Why the standby is not used (it did not answer), or null.",
    "behind_seconds": "How long the oldest log position the standby has not yet applied has"
    " existed on the primary (0: it shows everything); null while it does not answer.",
    "fresh": "Whether reads go to it: it answers and is behind by no more than"
    " `CARELEDGER_READ_MAX_LAG_SECONDS`.",
}

PAGINATION: Final = {
    "items": "The page's items, in the list's fixed order (oldest first).",
    "next_cursor": "Send it back as `cursor` for the following page; null on the last page.",
    "has_more": "Whether another page follows (`next_cursor` is set).",
}

ERASURE: Final = {
    "person": "The person's pseudonym in the ledger (a keyed hash, never their reference); on a"
    " representative's erasure, the representative's; on a note's, the note's own key's.",
    "erasure_id": "The id of the erasure's record (`PersonErasure.Recorded` on the trail).",
    "note_id": "The auditor's note erased (its id, as the trail's `aggregate_id`).",
    "tokens_deleted": "How many representatives' access tokens of the person's budgets were"
    " deleted.",
    "plain_events": "How many events about the person were written before sealing and still"
    " hold their personal data in plain text: the log keeps them byte for byte (the chain and"
    " the proofs cover them), so erasure cannot remove it from there. 0 for a store sealed from"
    " the start.",
    "plain_positions": "The log positions of those events (`plain_events`), oldest first.",
    "retention_years": "The council's retention policy: a person's records are erased this many"
    " years after the end of the financial year (1 April - 31 March) in which their last budget"
    " ended (6 until the council sets another; 6..30).",
}

PAYMENT_RUN: Final = {
    "run_date": "The date a payment run pays up to: every direct payment due on or before it"
    " (4-weekly in advance from the direct payment's start) and not yet paid.",
    "results": "A payment run's line for each budget paid as a direct payment.",
    "budgets_paid": "How many budgets the payment run paid at least one period.",
    "budgets_skipped": "How many budgets the payment run paid nothing (skipped_reason says why).",
    "run_cash_paid_pence": "Direct-payment cash the payment run paid, as each budget is paid"
    " (net of the assessed contribution, or gross): for a budget, its periods' cash; for the"
    " run, every budget's.",
    "periods_paid": "How many 4-weekly periods the payment run paid the budget (the last period"
    " of a financial year ends on 31 March).",
    "paid_through": "The last day the budget's direct payments now cover (null: the run paid it"
    " nothing).",
    "skipped_reason": "Why the payment run paid the budget nothing (more): budget-suspended,"
    " budget-ended, nothing-due, or the refusal's problem type (insufficient-funds,"
    " budget-year-not-allocated, …); null: everything due was paid.",
    "skipped_detail": "The refusal's explanation, for a person (null: none).",
    "replayed": "True when the payment run repeats an earlier one for the same council and run"
    " date: that run's results, nothing paid again.",
    "contributions_charged_pence": "Assessed client contributions charged as owed by the person"
    " (4-weekly, with the direct payments, on budgets paid net or gross). The journal debits"
    " Assets:ContributionsReceivable.",
}

YEARS: Final = {
    "payment_basis": "How the budget's direct payments are paid: net (the person pays the"
    " assessed contribution into the account) or gross (the council collects it); null: not"
    " chosen, contributions are then counted when received and never owed.",
    "allocation_annual_pence": "The allocation's annual figure (approved, as last revised or"
    " re-assessed): what a whole year is allocated.",
    "contributions_charged_net_pence": "Of contributions_charged_pence, those on budgets paid"
    " net: the client's share of the care, paid by the person into the account, drawn from the"
    " budget with the period's net cash (in net_drawn_pence).",
    "contribution_charge_latest_pence": "The latest period's contribution charge: owed, not yet"
    " overdue.",
    "contributions_paid_into_account_pence": "Of contributions_paid_pence, those paid into the"
    " direct-payment account (net): in held_pence.",
    "contributions_paid_pence": "Client contributions paid against what was charged: to the"
    " council (gross) or into the direct-payment account (net).",
    "contributions_owed_pence": "Contributions charged and not yet paid:"
    " contributions_charged_pence - contributions_charged_reversed_pence -"
    " (contributions_paid_pence - contributions_paid_reversed_pence). The journal's"
    " Assets:ContributionsReceivable.",
    "contributions_charged_reversed_pence": "Contributions charged reversed by corrections (net"
    " or gross; no longer owed).",
    "contributions_charged_net_reversed_pence": "Of contributions_charged_reversed_pence, those"
    " of charges on budgets paid net: given back to the budget (out of net_drawn_pence).",
    "contributions_paid_reversed_pence": "Contributions paid reversed by corrections (owed again).",
    "contributions_paid_into_account_reversed_pence": "Of contributions_paid_reversed_pence,"
    " those of payments into the direct-payment account: out of held_pence.",
    "contribution_arrears_pence": "Contributions owed beyond the latest period's charge: overdue.",
    "years": "The budget's years (rule 14), oldest first: the approval year, then each"
    " financial year allocated (rolled over or re-assessed). A budget without year events has"
    " one: its approval's allocation, for a year from the approval. On a statement or balance, the"
    " years as known at as_at, every entry whatever its effective date.",
    "year": "A budget year's label: 2011-12 for a financial year, or <approval date> approval"
    " year. On a statement line, the year the entry is charged to (null before the approval).",
    "year_starts_on": "The day a budget year starts: the approval date, or 1 April.",
    "year_ends_on": "The day a budget year ends: 31 March, or, for the approval year, the day"
    " before its anniversary once the next year is allocated (null: the approval year of a"
    " budget without year events).",
    "year_allocated_pence": "The year's allocation: the approval's, or the annual figure rolled"
    " over or re-assessed, pro-rated by day for a part year.",
    "year_drawn_pence": "What entries dated in the year have drawn on it, net.",
    "year_available_pence": "year_allocated_pence - year_drawn_pence.",
    "year_closed": "Whether a later year's allocation has closed the year: no revision reaches"
    " it; care delivered in it is still settled against it.",
}

SECTIONS: Final = {
    "Common": COMMON,
    "Budget balance": BALANCE,
    "Statement": STATEMENT,
    "Progress": PROGRESS,
    "Spend by provider": SPEND,
    "Trial balance": TRIAL_BALANCE,
    "Invoices": INVOICES,
    "Exceptions": EXCEPTIONS,
    "A budget": BUDGET,
    "Audit trail": AUDIT,
    "Verification and checkpoints": VERIFICATION,
    "The verifiable log": VERIFIABLE_LOG,
    "Health": HEALTH,
    "Pagination": PAGINATION,
    "Erasure and retention": ERASURE,
    "Payment runs": PAYMENT_RUN,
    "Budget years and contributions owed": YEARS,
}

GLOSSARY: Final = {name: text for section in SECTIONS.values() for name, text in section.items()}

M = TypeVar("M", bound=BaseModel)


def described(model: type[M]) -> type[M]:
    """Give each of ``model``'s fields its glossary meaning as its description; a field the
    glossary lacks is a programming error, found when the module is imported."""
    for name, info in model.model_fields.items():
        info.description = GLOSSARY[info.alias or name]
    model.model_rebuild(force=True)
    return model
