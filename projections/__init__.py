"""CareLedger projections package."""
