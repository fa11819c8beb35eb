"""Initiatives, their stages, success metrics, readiness controls and business cases."""
