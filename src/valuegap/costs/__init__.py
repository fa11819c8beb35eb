"""All AI cost: readers, pricing, allocation rules, reconciliation and the rollups."""
