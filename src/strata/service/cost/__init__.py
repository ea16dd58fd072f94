"""What the storage costs: prices, metered usage, accrued and projected monthly cost."""
