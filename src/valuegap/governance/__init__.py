"""Roles, the tamper-evident audit chain, and (later) policies, gates, reviews and agents."""
