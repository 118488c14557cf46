"""The ledger's one error hierarchy.

Every refusal is a named error carrying the facts a person needs to act on it. The API maps each
class to a problem+json response in one place, using ``code`` as the stable problem ``type``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    code: ClassVar[str] = "ledger-error"
    title: ClassVar[str] = "The ledger refused the command"

    def __init__(self, detail: str, **facts: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.facts = facts


class NotFoundError(LedgerError):
    code = "not-found"
    title = "No such record"


class ConflictError(LedgerError):
    code = "conflict"
    title = "The command conflicts with the ledger's state"


class InvalidCommandError(LedgerError):
    """A value is malformed or out of bounds (negative amount, end before start, …)."""

    code = "invalid-command"
    title = "The command is not valid"


class ProofRangeError(InvalidCommandError):
    """A proof asked of the verifiable log for a leaf or size it does not hold (DESIGN.md §9)."""

    code = "proof-out-of-range"
    title = "The log holds no such proof"


class RuleViolation(LedgerError):  # noqa: N818  (the house style names it so)
    """A business rule (DESIGN.md §5) refuses the command."""

    code = "rule-violation"
    title = "A ledger rule refuses the command"


# --- not found -------------------------------------------------------------------------------


class CouncilNotFoundError(NotFoundError):
    code = "council-not-found"
    title = "No such council"


class ProviderNotFoundError(NotFoundError):
    code = "provider-not-found"
    title = "No such care provider"


class BudgetNotFoundError(NotFoundError):
    code = "budget-not-found"
    title = "No such personal budget"


class InvoiceNotFoundError(NotFoundError):
    code = "invoice-not-found"
    title = "No such invoice"


class PooledFundNotFoundError(NotFoundError):
    code = "pooled-fund-not-found"
    title = "No such pooled fund"


class EntryNotFoundError(NotFoundError):
    code = "entry-not-found"
    title = "No such ledger entry"


class RepresentativeNotFoundError(NotFoundError):
    code = "representative-not-found"
    title = "No such representative on this budget"


# --- conflicts -------------------------------------------------------------------------------


class AlreadyExistsError(ConflictError):
    code = "already-exists"
    title = "A record with that identity already exists"


class IdempotencyConflictError(ConflictError):
    code = "idempotency-key-reused"
    title = "The idempotency key was already used for a different command"


class ConcurrencyConflictError(ConflictError):
    code = "concurrent-update"
    title = "The record changed concurrently; retry"


class VersionMismatchError(ConflictError):
    code = "version-mismatch"
    title = "The record is not at the expected version"


class DuplicateInvoiceError(ConflictError):
    """Rule 5: (provider, invoice number) is unique."""

    code = "duplicate-invoice"
    title = "That provider already posted an invoice with this number"


class InvalidTransitionError(ConflictError):
    code = "invalid-transition"
    title = "The record is not in a state that allows this command"


# --- rules (DESIGN.md §5) --------------------------------------------------------------------


class ContributionMismatchError(RuleViolation):
    """Rule 1: total = client contribution + council contribution."""

    code = "contribution-mismatch"
    title = "Budget total must equal client plus council contribution"


class FundingMismatchError(RuleViolation):
    """Rule 1: the funding streams add up to the council contribution."""

    code = "funding-mismatch"
    title = "Funding streams must add up to the council contribution"


class ContingencyExceedsPolicyError(RuleViolation):
    """Councils set their own contingency: a budget's stays within the council's policy."""

    code = "contingency-exceeds-policy"
    title = "The contingency exceeds the council's policy"


class NoAgreedPlanError(RuleViolation):
    """Rule 2: approval needs an agreed support plan."""

    code = "no-agreed-plan"
    title = "The budget has no agreed support plan"


class InsufficientBudgetError(RuleViolation):
    """Rule 2: the budget must cover the plan's weekly cost (sufficiency)."""

    code = "insufficient-budget"
    title = "The budget does not cover the support plan's cost"


class InsufficientFundsError(RuleViolation):
    """Rule 3: never pay beyond available balance plus contingency."""

    code = "insufficient-funds"
    title = "The payment exceeds the budget's available balance and contingency"


class BudgetNotActiveError(RuleViolation):
    """Rules 4 and 7: the budget must be approved and active."""

    code = "budget-not-active"
    title = "The budget is not active"


class BudgetSuspendedError(BudgetNotActiveError):
    code = "budget-suspended"
    title = "The budget is suspended"


class BudgetEndedError(BudgetNotActiveError):
    code = "budget-ended"
    title = "The budget has ended"


class EffectiveDateOutsideBudgetError(RuleViolation):
    """Rule 12: money moves only inside the budget's life — from its approval (the allocation's
    effective date; from its opening for the approval itself) to its end, and after the end only
    to settle care delivered before it."""

    code = "effective-date-outside-budget"
    title = "The entry's effective date lies outside the budget's life"


class DeploymentError(RuleViolation):
    code = "deployment-mismatch"
    title = "The budget's deployment does not allow this"


class CreditNoteExceedsPaidError(RuleViolation):
    """Rule 6."""

    code = "credit-exceeds-paid"
    title = "Credit notes may not exceed what was paid on the invoice"


class RepresentativeNotAppointedError(RuleViolation):
    """Rule 8."""

    code = "representative-not-appointed"
    title = "The representative is not appointed for this budget"


class SurplusExceededError(RuleViolation):
    """Rule 9: recovery may not exceed the identified surplus."""

    code = "surplus-exceeded"
    title = "Recovery exceeds the surplus identified"


class CorrectionExceedsOriginalError(RuleViolation):
    """Rule 10."""

    code = "correction-exceeds-original"
    title = "A correction may not exceed what remains of the original entry"


class EntryNotCorrectableError(RuleViolation):
    code = "entry-not-correctable"
    title = "That entry cannot be reversed by a correction"


class PoolOverdrawnError(RuleViolation):
    """Rule 11."""

    code = "pool-overdrawn"
    title = "Drawdowns would exceed the partners' contributions to the pooled fund"


class ProviderNotRegisteredError(RuleViolation):
    code = "provider-not-registered"
    title = "The provider is not registered"


class InvoiceFlaggedError(RuleViolation):
    code = "invoice-flagged"
    title = "The invoice is flagged and needs an explicit override to approve"


class PersonErasedError(ConflictError):
    """The person's data key was destroyed: nothing more is recorded under their reference."""

    code = "person-erased"
    title = "The person's personal data has been erased"


class PersonNotFoundError(NotFoundError):
    """No personal data is held under that reference (nothing was ever sealed for it)."""

    code = "person-not-found"
    title = "No personal data is held for that person"


class ErasureUnavailableError(ConflictError):
    """The ledger runs without a key store, so nothing it stored can be erased."""

    code = "erasure-unavailable"
    title = "This ledger cannot erase personal data"


class NoteAboutPersonError(ConflictError):
    """The note is about a personal budget: it is sealed under that person's key and goes with
    the person's erasure, not on its own."""

    code = "note-about-a-person"
    title = "The note is erased with the person it is about"


class RetentionOutOfBoundsError(InvalidCommandError):
    """A council's retention period outside its bounds: not below the six years financial
    records are kept, not beyond thirty (a period without end is no retention policy)."""

    code = "retention-out-of-bounds"
    title = "The retention period is out of bounds"


# --- budget years, net payments, payment runs (rule 14) --------------------------------------


class BudgetYearNotAllocatedError(RuleViolation):
    """An entry falls in a financial year the budget has no allocation for (rule 14)."""

    code = "budget-year-not-allocated"
    title = "The budget has no allocation for that financial year"


class BudgetYearError(RuleViolation):
    """A year's allocation that does not follow on: not 1 April, not the next year, or ended."""

    code = "budget-year-refused"
    title = "That financial year cannot be allocated"


class BudgetYearClosedError(RuleViolation):
    """A revision dated in a year that a later year's allocation has closed."""

    code = "budget-year-closed"
    title = "That financial year is closed"


# --- short-pay, endings and reversals (issue 12) ---------------------------------------------


class ShortPayError(RuleViolation):
    """Approving part of an invoice (a short-pay): the part is less than the invoice, the
    command says why and what happens to the rest (disputed or rejected)."""

    code = "short-pay-invalid"
    title = "The short-pay is not valid"


class ApprovalExceedsInvoiceError(ShortPayError):
    code = "approval-exceeds-invoice"
    title = "The amount approved exceeds the invoice"


class ShortPayNeedsReasonError(ShortPayError):
    code = "short-pay-needs-reason"
    title = "Approving part of an invoice needs a reason"


class ShortPayRestUnresolvedError(ShortPayError):
    code = "short-pay-rest-unresolved"
    title = "A short-pay says whether the rest is disputed or rejected"


class ReverseLaterEntryFirstError(RuleViolation):
    """Rule 10: an entry that later entries rest on is reversed after them (an invoice's
    payment before its approval, its credit notes before its payment)."""

    code = "reverse-later-entry-first"
    title = "Reverse the entries that rest on this one first"


class BudgetNotEndedError(ConflictError):
    """Recovering the remaining balance or reinstating needs a budget that has ended."""

    code = "budget-not-ended"
    title = "The budget has not ended"


class NotAnEndingError(RuleViolation):
    """Only an ending is reversed by a reinstatement, and only the ending in force."""

    code = "not-an-ending"
    title = "That entry is not the budget's ending in force"


class RecoveryExceedsBalanceError(RuleViolation):
    """Rule 12: after an ending, recovery takes no more than the direct-payment balance held."""

    code = "recovery-exceeds-balance"
    title = "The recovery exceeds the direct-payment balance held"


class PersonKeyDamagedError(ConflictError):
    """The key store holds a data key for the subject that is not a 256-bit key: nothing is
    sealed under it (what is stored under it reads as erased) until it is restored."""

    code = "person-key-damaged"
    title = "The data key in the key store is damaged"
