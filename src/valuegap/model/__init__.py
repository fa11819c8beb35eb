"""What the ledger keeps, as plain types with their rules: initiatives and metrics, users and
roles, the audit chain, cost lines, prices and pseudonyms. The lowest layer above the
foundation (errors, bounds, decimals, inputs): the store persists these types and every part
works with them, so this package imports neither."""
