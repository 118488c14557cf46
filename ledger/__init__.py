"""CareLedger ledger package."""
