"""CareLedger api package."""
