"""CareLedger scripts package."""
