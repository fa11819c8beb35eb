"""Adoption without surveillance: pseudonymisation now; the ladder and k-anonymity later."""
