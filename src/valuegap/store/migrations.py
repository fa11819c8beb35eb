"""The ledger's schema, as numbered migrations applied in order when a ledger is opened.

Append new migrations; never edit one that has been released, because ledgers written with it
exist. A migration's statements run in one transaction together with recording its version.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "portfolio core: users, initiatives, metrics, stages, controls, audit log",
        (
            """CREATE TABLE ledger_meta (
                key VARCHAR PRIMARY KEY,
                value VARCHAR NOT NULL
            )""",
            """CREATE TABLE users (
                name VARCHAR PRIMARY KEY,
                role VARCHAR NOT NULL,
                units VARCHAR NOT NULL,           -- JSON array of business units
                added_at TIMESTAMP NOT NULL,
                added_by VARCHAR NOT NULL
            )""",
            """CREATE TABLE initiatives (
                id VARCHAR PRIMARY KEY,
                name VARCHAR NOT NULL,
                kind VARCHAR NOT NULL,
                business_unit VARCHAR NOT NULL,
                owner VARCHAR,
                sponsor VARCHAR,
                risk_tier VARCHAR,
                hypothesis VARCHAR,
                kill_criteria VARCHAR NOT NULL,   -- JSON array of policy expressions
                case_currency VARCHAR,            -- the business case, when there is one
                case_monthly_investment DECIMAL(38, 10),
                case_monthly_value DECIMAL(38, 10),
                case_ramp_ceiling DOUBLE,
                case_ramp_midpoint_month DOUBLE,
                case_ramp_steepness DOUBLE,
                stage VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE metrics (
                id VARCHAR PRIMARY KEY,
                initiative_id VARCHAR NOT NULL,
                position INTEGER NOT NULL,
                name VARCHAR NOT NULL,
                unit VARCHAR NOT NULL,
                direction VARCHAR NOT NULL,
                baseline_value DECIMAL(38, 10),
                baseline_period VARCHAR,
                baseline_source VARCHAR,
                target DECIMAL(38, 10),
                value_per_unit DECIMAL(38, 10),
                currency VARCHAR,
                volume_basis VARCHAR,
                method VARCHAR,
                agreed_by VARCHAR,
                agreed_at DATE
            )""",
            """CREATE TABLE stage_history (
                initiative_id VARCHAR NOT NULL,
                seq INTEGER NOT NULL,
                from_stage VARCHAR,
                to_stage VARCHAR NOT NULL,
                moved_at TIMESTAMP NOT NULL,
                actor VARCHAR NOT NULL,
                decision VARCHAR NOT NULL,
                rules VARCHAR NOT NULL,           -- JSON array of {id, message}
                reason VARCHAR,
                learnings VARCHAR,
                PRIMARY KEY (initiative_id, seq)
            )""",
            """CREATE TABLE control_attestations (
                initiative_id VARCHAR NOT NULL,
                control VARCHAR NOT NULL,
                evidence VARCHAR NOT NULL,
                attested_by VARCHAR NOT NULL,
                attested_at TIMESTAMP NOT NULL,
                PRIMARY KEY (initiative_id, control)
            )""",
            """CREATE TABLE audit_log (
                seq BIGINT PRIMARY KEY,
                recorded_at TIMESTAMP NOT NULL,
                actor VARCHAR NOT NULL,
                action VARCHAR NOT NULL,
                entity_type VARCHAR NOT NULL,
                entity_id VARCHAR NOT NULL,
                before VARCHAR,                   -- canonical JSON, exactly as hashed
                after VARCHAR,
                prev_hash VARCHAR NOT NULL,
                hash VARCHAR NOT NULL
            )""",
        ),
    ),
)
