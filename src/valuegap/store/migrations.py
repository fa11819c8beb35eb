"""The ledger's schema, as numbered migrations applied in order when a ledger is opened.

Append new migrations; never edit one that has been released, because ledgers written with it
exist. A migration's statements run in one transaction together with recording its version.
A migration that changes the rows of a table the audit log proves (``store/proof.py``: values,
not only columns or their scale) makes ``audit verify`` report the difference, unless the log
is made to account for it.
"""

from __future__ import annotations

from valuegap.records import record
from valuegap.store.database import LEDGER_ID

# Migration 7 keys stored lines as ingest keys new ones; whoever changes how a line or an
# event is keyed adds a migration that keys the stored ones again.
from valuegap.store.focus import line_identity, stored_extra
from valuegap.store.usage import key_text as usage_key
from valuegap.store.usage import person_key

_PERSON_KEY = person_key("e.key")


@record
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
    Migration(
        2,
        "costs: ingests, FOCUS lines, usage events, manual costs, rates, prices, rules",
        (
            """CREATE TABLE ingests (
                id INTEGER PRIMARY KEY,
                kind VARCHAR NOT NULL,            -- focus | usage | costs | rates
                source VARCHAR NOT NULL,          -- the file as given
                rows_read BIGINT NOT NULL,
                rows_added BIGINT NOT NULL,
                ingested_at TIMESTAMP NOT NULL,
                actor VARCHAR NOT NULL
            )""",
            """CREATE TABLE focus_lines (
                line_key VARCHAR NOT NULL,        -- content hash + occurrence: dedupes re-ingests
                ingest_id INTEGER NOT NULL,
                source_row BIGINT NOT NULL,
                billing_account_id VARCHAR NOT NULL,
                sub_account_id VARCHAR,
                provider VARCHAR NOT NULL,
                invoice_issuer VARCHAR,
                service_name VARCHAR NOT NULL,
                service_category VARCHAR NOT NULL,
                charge_category VARCHAR NOT NULL,
                charge_description VARCHAR,
                resource_id VARCHAR,
                region_id VARCHAR,
                billing_period_start TIMESTAMP NOT NULL,
                charge_period_start TIMESTAMP NOT NULL,
                charge_period_end TIMESTAMP NOT NULL,
                billing_currency VARCHAR NOT NULL,
                billed_cost DECIMAL(38, 10) NOT NULL,
                effective_cost DECIMAL(38, 10),
                list_cost DECIMAL(38, 10),
                contracted_cost DECIMAL(38, 10),
                consumed_quantity DECIMAL(38, 10),
                consumed_unit VARCHAR,
                tags MAP(VARCHAR, VARCHAR),
                extra MAP(VARCHAR, VARCHAR)       -- x_ and other non-standard columns
            )""",
            """CREATE TABLE usage_events (
                event_key VARCHAR NOT NULL,
                ingest_id INTEGER NOT NULL,
                source VARCHAR NOT NULL,          -- otel | litellm | csv
                ts TIMESTAMP NOT NULL,
                provider VARCHAR,
                request_model VARCHAR,
                response_model VARCHAR,
                input_tokens BIGINT NOT NULL,
                output_tokens BIGINT NOT NULL,
                cache_read_tokens BIGINT NOT NULL,
                cache_write_tokens BIGINT NOT NULL,
                reasoning_tokens BIGINT NOT NULL,
                reported_cost DECIMAL(38, 10),
                reported_currency VARCHAR,
                computed_cost DECIMAL(38, 10),    -- USD from the catalogue or an override
                price_source VARCHAR,             -- catalogue | override | NULL (unpriced)
                api_key VARCHAR,
                team VARCHAR,
                initiative VARCHAR,
                user_pseudonym VARCHAR,           -- keyed hash; the raw identity is never stored
                tags MAP(VARCHAR, VARCHAR)
            )""",
            """CREATE TABLE manual_costs (
                entry_key VARCHAR NOT NULL,
                month DATE NOT NULL,              -- one row per month the entry covers
                ingest_id INTEGER NOT NULL,
                source_row BIGINT NOT NULL,
                period_start DATE NOT NULL,
                period_end DATE NOT NULL,
                category VARCHAR NOT NULL,
                amount DECIMAL(38, 10) NOT NULL,  -- this month's share of the entry
                entry_amount DECIMAL(38, 10) NOT NULL,
                currency VARCHAR NOT NULL,
                initiative VARCHAR,
                business_unit VARCHAR,
                description VARCHAR,
                fte DECIMAL(38, 10),
                rate_per_month DECIMAL(38, 10)
            )""",
            """CREATE TABLE currency_rates (
                valid_from DATE NOT NULL,
                from_currency VARCHAR NOT NULL,
                to_currency VARCHAR NOT NULL,
                rate DECIMAL(38, 10) NOT NULL,    -- 1 from_currency = rate to_currency
                PRIMARY KEY (valid_from, from_currency, to_currency)
            )""",
            """CREATE TABLE price_overrides (
                model VARCHAR NOT NULL,
                valid_from DATE NOT NULL,
                input_per_mtok DECIMAL(38, 10) NOT NULL,
                output_per_mtok DECIMAL(38, 10) NOT NULL,
                cache_read_per_mtok DECIMAL(38, 10),
                cache_write_per_mtok DECIMAL(38, 10),
                set_at TIMESTAMP NOT NULL,
                set_by VARCHAR NOT NULL,
                PRIMARY KEY (model, valid_from)
            )""",
            """CREATE TABLE allocation_rules (
                version INTEGER PRIMARY KEY,
                rules VARCHAR NOT NULL,           -- the validated rules, as YAML
                applied_at TIMESTAMP NOT NULL,
                applied_by VARCHAR NOT NULL
            )""",
        ),
    ),
    Migration(
        3,
        "computed usage cost kept to 18 decimal places, as priced (rounding it cost more than "
        "pricing it)",
        ("ALTER TABLE usage_events ALTER computed_cost SET DATA TYPE DECIMAL(38, 18)",),
    ),
    Migration(
        4,
        "outcomes: observations, outcome counts, behaviour, quality, capacity",
        (
            """CREATE TABLE observations (
                metric VARCHAR NOT NULL,
                period_start DATE NOT NULL,
                period_end DATE NOT NULL,         -- periods are [start, end)
                "group" VARCHAR NOT NULL,         -- treatment | control | all
                phase VARCHAR NOT NULL,           -- before | after
                n BIGINT,
                mean DOUBLE,                      -- or sum and sum_sq, as the file gave them
                sd DOUBLE,
                sum DOUBLE,
                sum_sq DOUBLE,
                volume DECIMAL(38, 10),           -- units of work the effect applies to
                ingest_id INTEGER NOT NULL,
                PRIMARY KEY (metric, period_start, period_end, "group", phase)
            )""",
            """CREATE TABLE outcome_counts (
                initiative VARCHAR NOT NULL,
                metric VARCHAR NOT NULL,          -- '' when the count is for no one metric
                period_start DATE NOT NULL,
                period_end DATE NOT NULL,
                count BIGINT NOT NULL,
                source VARCHAR,                   -- the system of record
                ingest_id INTEGER NOT NULL,
                PRIMARY KEY (initiative, metric, period_start, period_end)
            )""",
            """CREATE TABLE behaviour (
                initiative VARCHAR NOT NULL,
                period_start DATE NOT NULL,
                period_end DATE NOT NULL,
                decisions BIGINT NOT NULL,
                accepted BIGINT NOT NULL,
                overridden BIGINT NOT NULL,
                escalated BIGINT NOT NULL,
                review_minutes DECIMAL(38, 10),
                ingest_id INTEGER NOT NULL,
                PRIMARY KEY (initiative, period_start, period_end)
            )""",
            """CREATE TABLE quality (
                initiative VARCHAR NOT NULL,
                period_start DATE NOT NULL,
                period_end DATE NOT NULL,
                measure VARCHAR NOT NULL,         -- accuracy unless named
                score DOUBLE NOT NULL,
                sample_size BIGINT NOT NULL,
                reference BOOLEAN NOT NULL,       -- the PoC's figure, that drift is measured from
                ingest_id INTEGER NOT NULL,
                PRIMARY KEY (initiative, measure, period_start, period_end)
            )""",
            """CREATE TABLE capacity (
                initiative VARCHAR NOT NULL,
                metric VARCHAR NOT NULL,          -- the metric measuring these hours, or ''
                period_start DATE NOT NULL,
                period_end DATE NOT NULL,
                redeployed DECIMAL(38, 10) NOT NULL,      -- hours saved and put to other work
                cost_reduced DECIMAL(38, 10) NOT NULL,    -- hours saved and no longer paid for
                not_captured DECIMAL(38, 10) NOT NULL,    -- hours saved that went nowhere
                ingest_id INTEGER NOT NULL,
                PRIMARY KEY (initiative, metric, period_start, period_end)
            )""",
        ),
    ),
    Migration(
        5,
        "governance: readiness facts and agents on initiatives; policies, approvals, reviews",
        (
            "ALTER TABLE initiatives ADD COLUMN poc_evaluation VARCHAR",  # JSON
            "ALTER TABLE initiatives ADD COLUMN production_cost_estimate VARCHAR",  # JSON
            "ALTER TABLE initiatives ADD COLUMN human_in_the_loop VARCHAR",
            "ALTER TABLE initiatives ADD COLUMN fallback VARCHAR",
            "ALTER TABLE initiatives ADD COLUMN agent VARCHAR",  # JSON
            """CREATE TABLE policies (
                layer VARCHAR NOT NULL,           -- enterprise | business_unit | initiative
                scope VARCHAR NOT NULL,           -- '' for enterprise
                version INTEGER NOT NULL,
                rules VARCHAR NOT NULL,           -- the validated rules, as JSON
                source VARCHAR NOT NULL,          -- the file as given
                applied_at TIMESTAMP NOT NULL,
                applied_by VARCHAR NOT NULL,
                PRIMARY KEY (layer, scope, version)
            )""",
            """CREATE TABLE approvals (
                id INTEGER PRIMARY KEY,
                initiative VARCHAR NOT NULL,
                from_stage VARCHAR NOT NULL,
                to_stage VARCHAR NOT NULL,
                status VARCHAR NOT NULL,          -- pending | approved | rejected | withdrawn
                rules VARCHAR NOT NULL,           -- JSON: the rules that asked for approval
                policy_versions VARCHAR NOT NULL, -- JSON
                reason VARCHAR,                   -- a retirement's reason and learnings
                learnings VARCHAR,
                requested_at TIMESTAMP NOT NULL,
                requested_by VARCHAR NOT NULL,
                decided_at TIMESTAMP,
                decided_by VARCHAR,
                note VARCHAR
            )""",
            """CREATE TABLE reviews (
                initiative VARCHAR NOT NULL,
                as_of DATE NOT NULL,
                due DATE NOT NULL,                -- the review date that made it due
                recommendation VARCHAR NOT NULL,  -- scale | continue | fix | kill
                reasons VARCHAR NOT NULL,         -- JSON array of sentences
                recorded_at TIMESTAMP NOT NULL,
                recorded_by VARCHAR NOT NULL,
                PRIMARY KEY (initiative, as_of)
            )""",
        ),
    ),
    Migration(
        6,
        "FOCUS line keys as a UUID and an occurrence: four times cheaper to write than text",
        (
            # DuckDB cannot alter a table it has just updated, so the table is made anew.
            """CREATE TABLE focus_lines_keyed (
                line_hash UUID NOT NULL,          -- the MD5 of the line's text
                occurrence INTEGER NOT NULL,      -- among identical lines
                ingest_id INTEGER NOT NULL,
                source_row BIGINT NOT NULL,
                billing_account_id VARCHAR NOT NULL,
                sub_account_id VARCHAR,
                provider VARCHAR NOT NULL,
                invoice_issuer VARCHAR,
                service_name VARCHAR NOT NULL,
                service_category VARCHAR NOT NULL,
                charge_category VARCHAR NOT NULL,
                charge_description VARCHAR,
                resource_id VARCHAR,
                region_id VARCHAR,
                billing_period_start TIMESTAMP NOT NULL,
                charge_period_start TIMESTAMP NOT NULL,
                charge_period_end TIMESTAMP NOT NULL,
                billing_currency VARCHAR NOT NULL,
                billed_cost DECIMAL(38, 10) NOT NULL,
                effective_cost DECIMAL(38, 10),
                list_cost DECIMAL(38, 10),
                contracted_cost DECIMAL(38, 10),
                consumed_quantity DECIMAL(38, 10),
                consumed_unit VARCHAR,
                tags MAP(VARCHAR, VARCHAR),
                extra MAP(VARCHAR, VARCHAR)       -- x_ and other non-standard columns
            )""",
            """INSERT INTO focus_lines_keyed BY NAME
            SELECT CAST(split_part(line_key, '-', 1) AS UUID) AS line_hash,
                CAST(split_part(line_key, '-', 2) AS INTEGER) AS occurrence,
                * EXCLUDE (line_key)
            FROM focus_lines""",
            "DROP TABLE focus_lines",
            "ALTER TABLE focus_lines_keyed RENAME TO focus_lines",
        ),
    ),
    Migration(
        7,
        "counting a dollar once: agent and tool spans kept unpriced, override currencies, "
        "invoice ids, keys from values, no person in the tags, price overrides by provider "
        "and with an end",
        (
            # DuckDB cannot alter a table and then update it in one transaction, so the
            # table is made anew.
            """CREATE TABLE usage_events_counted (
                event_key VARCHAR NOT NULL,
                ingest_id INTEGER NOT NULL,
                source VARCHAR NOT NULL,          -- otel | litellm | csv
                ts TIMESTAMP NOT NULL,
                provider VARCHAR,
                request_model VARCHAR,
                response_model VARCHAR,
                operation VARCHAR,                -- gen_ai.operation.name
                counted BOOLEAN NOT NULL,         -- a model call; not an agent or tool span
                input_tokens BIGINT NOT NULL,
                output_tokens BIGINT NOT NULL,
                cache_read_tokens BIGINT NOT NULL,
                cache_write_tokens BIGINT NOT NULL,
                reasoning_tokens BIGINT NOT NULL,
                reported_cost DECIMAL(38, 10),
                reported_currency VARCHAR,
                computed_cost DECIMAL(38, 18),    -- from the catalogue or an override
                computed_currency VARCHAR,
                price_source VARCHAR,             -- catalogue | override | NULL (unpriced)
                api_key VARCHAR,
                team VARCHAR,
                initiative VARCHAR,
                user_pseudonym VARCHAR,           -- keyed hash; the raw identity is never stored
                tags MAP(VARCHAR, VARCHAR)
            )""",
            # Person attributes were kept as tags before: they cannot be pseudonymised here
            # (the key is not in the ledger), so they are removed. Events without an id were
            # keyed by their text: now by their values, numbered within their ingest as an
            # ingest numbers them, so that the same events ingested again in another spelling
            # (and stored twice) are kept once.
            f"""INSERT INTO usage_events_counted BY NAME
            SELECT * EXCLUDE (by_text, value_key, occurrence) REPLACE (CASE WHEN by_text
                THEN value_key || '-' || occurrence ELSE event_key END AS event_key)
            FROM (SELECT *, row_number() OVER (PARTITION BY by_text, value_key, ingest_id
                    ORDER BY event_key) AS occurrence
                FROM (SELECT *, md5({usage_key()}) AS value_key
                    FROM (SELECT * REPLACE (CASE WHEN len(list_filter(map_keys(tags),
                            k -> NOT ({_PERSON_KEY.replace("e.key", "k")}))) > 0
                        THEN map_from_entries(list_filter(map_entries(tags),
                            e -> NOT ({_PERSON_KEY}))) END AS tags),
                        regexp_full_match(event_key, '[0-9a-f]{{32}}-[0-9]+') AS by_text,
                        CAST(NULL AS VARCHAR) AS operation, true AS counted,
                        CASE WHEN computed_cost IS NOT NULL THEN 'USD' END AS computed_currency
                    FROM usage_events)))
            QUALIFY NOT by_text OR row_number() OVER (
                PARTITION BY by_text, value_key, occurrence ORDER BY ingest_id) = 1""",
            "DROP TABLE usage_events",
            "ALTER TABLE usage_events_counted RENAME TO usage_events",
            """CREATE TABLE focus_lines_by_value (
                line_hash UUID NOT NULL,          -- the MD5 of the line's typed values
                occurrence INTEGER NOT NULL,      -- among lines of equal values
                ingest_id INTEGER NOT NULL,
                source_row BIGINT NOT NULL,
                billing_account_id VARCHAR NOT NULL,
                sub_account_id VARCHAR,
                provider VARCHAR NOT NULL,
                invoice_issuer VARCHAR,
                invoice_id VARCHAR,               -- FOCUS 1.2 InvoiceId
                service_name VARCHAR NOT NULL,
                service_category VARCHAR NOT NULL,
                charge_category VARCHAR NOT NULL,
                charge_description VARCHAR,
                resource_id VARCHAR,
                region_id VARCHAR,
                billing_period_start TIMESTAMP NOT NULL,
                charge_period_start TIMESTAMP NOT NULL,
                charge_period_end TIMESTAMP NOT NULL,
                billing_currency VARCHAR NOT NULL,
                billed_cost DECIMAL(38, 10) NOT NULL,
                effective_cost DECIMAL(38, 10),
                list_cost DECIMAL(38, 10),
                contracted_cost DECIMAL(38, 10),
                consumed_quantity DECIMAL(38, 10),
                consumed_unit VARCHAR,
                tags MAP(VARCHAR, VARCHAR),
                extra MAP(VARCHAR, VARCHAR)       -- x_ and other non-standard columns
            )""",
            # InvoiceId was an extra before. Lines were keyed by their text: now by their
            # values, numbered within their ingest as an ingest numbers them, so that the same
            # lines ingested again in another spelling (and stored twice) are kept once.
            f"""INSERT INTO focus_lines_by_value BY NAME
            SELECT * EXCLUDE (occurrence, in_ingest), in_ingest AS occurrence
            FROM (SELECT *, row_number() OVER (PARTITION BY line_hash, ingest_id
                    ORDER BY source_row) AS in_ingest
                FROM (SELECT {line_identity(stored_extra)} AS line_hash,
                        * EXCLUDE (line_hash)
                    FROM (SELECT * REPLACE (CASE WHEN len(list_filter(map_keys(extra),
                            k -> lower(k) <> 'invoiceid')) > 0
                        THEN map_from_entries(list_filter(map_entries(extra),
                            e -> lower(e.key) <> 'invoiceid')) END AS extra),
                        nullif({stored_extra("InvoiceId")}, '') AS invoice_id
                    FROM focus_lines)))
            QUALIFY row_number() OVER (PARTITION BY line_hash, in_ingest ORDER BY ingest_id) = 1""",
            "DROP TABLE focus_lines",
            "ALTER TABLE focus_lines_by_value RENAME TO focus_lines",
            """CREATE TABLE price_overrides_scoped (
                model VARCHAR NOT NULL,
                provider VARCHAR NOT NULL,        -- a genai-prices provider id, '' for any
                valid_from DATE NOT NULL,
                valid_to DATE,                    -- the first day it no longer applies
                currency VARCHAR NOT NULL,
                input_per_mtok DECIMAL(38, 10) NOT NULL,
                output_per_mtok DECIMAL(38, 10) NOT NULL,
                cache_read_per_mtok DECIMAL(38, 10),
                cache_write_per_mtok DECIMAL(38, 10),
                set_at TIMESTAMP NOT NULL,
                set_by VARCHAR NOT NULL,
                PRIMARY KEY (model, provider, valid_from)
            )""",
            # An override used to apply until the model's next one: that is now its end.
            """INSERT INTO price_overrides_scoped BY NAME
            SELECT *, '' AS provider, 'USD' AS currency,
                lead(valid_from) OVER (PARTITION BY model ORDER BY valid_from) AS valid_to
            FROM price_overrides""",
            "DROP TABLE price_overrides",
            "ALTER TABLE price_overrides_scoped RENAME TO price_overrides",
        ),
    ),
    Migration(
        8,
        "the time the ledger recorded a finance agreement (what 'agreed in advance' is judged "
        "by), and the primary metric that decides an initiative's validation",
        (
            """CREATE TABLE metrics_recorded (
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
                agreed_at DATE,                   -- the date the sign-off says
                agreement_recorded_at TIMESTAMP,  -- when the ledger recorded it
                is_primary BOOLEAN NOT NULL DEFAULT false  -- else the first metric is
            )""",
            # An agreement stored before was recorded by the latest audit entry that gave the
            # metric its present agreement (a metric.agree, or the apply that created or
            # changed it); failing that, the ledger cannot tell, and it counts from its date.
            """INSERT INTO metrics_recorded BY NAME
            SELECT m.*, CASE WHEN m.agreed_at IS NOT NULL THEN coalesce((
                SELECT max(a.recorded_at) FROM audit_log a
                WHERE a.entity_type = 'metric' AND a.entity_id = m.id
                  AND json_extract_string(a.after, '$.agreed_at') = CAST(m.agreed_at AS VARCHAR)
                  AND json_extract_string(a.after, '$.agreed_by') = m.agreed_by
                  AND (a.before IS NULL
                       OR json_extract_string(a.before, '$.agreed_at')
                          IS DISTINCT FROM json_extract_string(a.after, '$.agreed_at')
                       OR json_extract_string(a.before, '$.agreed_by')
                          IS DISTINCT FROM json_extract_string(a.after, '$.agreed_by'))
                ), CAST(m.agreed_at AS TIMESTAMP)) END AS agreement_recorded_at,
                false AS is_primary
            FROM metrics m""",
            "DROP TABLE metrics",
            "ALTER TABLE metrics_recorded RENAME TO metrics",
        ),
    ),
    Migration(
        9,
        "observations' sums and sums of squares as exact decimals",
        (
            """CREATE TABLE observations_exact (
                metric VARCHAR NOT NULL,
                period_start DATE NOT NULL,
                period_end DATE NOT NULL,         -- periods are [start, end)
                "group" VARCHAR NOT NULL,         -- treatment | control | all
                phase VARCHAR NOT NULL,           -- before | after
                n BIGINT,
                mean DOUBLE,                      -- or sum and sum_sq, as the file gave them
                sd DOUBLE,
                sum DECIMAL(38, 10),
                sum_sq DECIMAL(38, 10),
                volume DECIMAL(38, 10),           -- units of work the effect applies to
                ingest_id INTEGER NOT NULL,
                PRIMARY KEY (metric, period_start, period_end, "group", phase)
            )""",
            "INSERT INTO observations_exact BY NAME SELECT * FROM observations",
            "DROP TABLE observations",
            "ALTER TABLE observations_exact RENAME TO observations",
        ),
    ),
    Migration(
        10,
        "users: an agent's service account names the agent initiative it acts for",
        ("ALTER TABLE users ADD COLUMN agent VARCHAR",),
    ),
    Migration(
        11,
        "audit entries carry the state they give the tables, so that the log proves them; a "
        "ledger with entries from before records a baseline when it is next opened",
        (
            "ALTER TABLE audit_log ADD COLUMN state VARCHAR",  # canonical JSON, as hashed
            """INSERT INTO ledger_meta (key, value)
            SELECT 'audit_baseline', 'pending' WHERE EXISTS (SELECT 1 FROM audit_log)""",
        ),
    ),
    Migration(
        12,
        "monthly cost and usage aggregates that reports read; a ledger from before builds them "
        "from its facts when it is next opened (costs/aggregates.py)",
        (
            """CREATE TABLE cost_aggregates (
                month DATE NOT NULL,
                initiative VARCHAR,               -- or (unit overhead), (unallocated)
                business_unit VARCHAR,
                category VARCHAR,
                provider VARCHAR,
                service VARCHAR,
                service_category VARCHAR,
                model VARCHAR,
                sub_account VARCHAR,
                source VARCHAR,
                basis VARCHAR,                    -- invoiced | estimated | manual
                cost DECIMAL(38, 10) NOT NULL,    -- in the reporting currency
                estimated DECIMAL(38, 10) NOT NULL,
                usage_cost DECIMAL(38, 10) NOT NULL
            )""",
            # What reconciliation reads: model calls by provider, month, currencies, price
            # source and service tier (store/costs.py, usage_by_month).
            """CREATE TABLE usage_monthly (
                provider VARCHAR,
                month DATE NOT NULL,
                computed_currency VARCHAR,
                currency VARCHAR,
                price_source VARCHAR,
                tier VARCHAR,
                events BIGINT NOT NULL,
                unpriced_events BIGINT NOT NULL,
                estimated DECIMAL(38, 18),
                computed DECIMAL(38, 18),
                reported DECIMAL(38, 10),
                input_tokens HUGEINT,
                output_tokens HUGEINT,
                cache_read_tokens HUGEINT,
                cache_write_tokens HUGEINT,
                reasoning_tokens HUGEINT
            )""",
        ),
    ),
    Migration(
        13,
        "a random id for the ledger, which its copies share: the name of its pseudonymisation "
        "key's file in the user's configuration directory (adoption/keys.py)",
        (
            # OR IGNORE: a ledger keeps the id it has, which names its key
            f"""INSERT OR IGNORE INTO ledger_meta (key, value)
            VALUES ('{LEDGER_ID}', replace(CAST(gen_random_uuid() AS VARCHAR), '-', ''))""",
        ),
    ),
    Migration(
        14,
        "credentials for the server: users' password hashes (argon2id), API tokens (the hash "
        "of their secret) and browser sessions (the hash of their id); none is ever shown",
        (
            """CREATE TABLE passwords (
                name VARCHAR PRIMARY KEY,
                hash VARCHAR NOT NULL,          -- argon2id, with its salt and parameters
                set_at TIMESTAMP NOT NULL,
                set_by VARCHAR NOT NULL
            )""",
            """CREATE TABLE api_tokens (
                id VARCHAR PRIMARY KEY,         -- public: named in lists and revocations
                name VARCHAR NOT NULL,          -- the user the token acts as
                secret_hash VARCHAR NOT NULL,   -- SHA-256 of the secret, hex
                label VARCHAR,
                created_at TIMESTAMP NOT NULL,
                created_by VARCHAR NOT NULL,
                expires_at TIMESTAMP,
                revoked_at TIMESTAMP,
                revoked_by VARCHAR
            )""",
            """CREATE TABLE web_sessions (
                id_hash VARCHAR PRIMARY KEY,    -- SHA-256 of the cookie's value, hex
                name VARCHAR NOT NULL,
                csrf VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                expires_at TIMESTAMP NOT NULL
            )""",
        ),
    ),
    Migration(
        15,
        "approval requests for agents' actions: a decision that needs approval waits for a "
        "governance user, and the agent polls it",
        (
            """CREATE TABLE agent_approvals (
                id INTEGER PRIMARY KEY,
                agent VARCHAR NOT NULL,
                action VARCHAR NOT NULL,
                amount DECIMAL(38, 10),
                context VARCHAR NOT NULL,         -- JSON object of strings
                status VARCHAR NOT NULL,          -- pending | approved | rejected
                rules VARCHAR NOT NULL,           -- JSON: the rules that asked for approval
                policy_versions VARCHAR NOT NULL, -- JSON
                requested_at TIMESTAMP NOT NULL,
                requested_by VARCHAR NOT NULL,
                decided_at TIMESTAMP,
                decided_by VARCHAR,
                note VARCHAR
            )""",
        ),
    ),
    Migration(
        16,
        "the business case's band: the J-curve's tolerance around its expected cumulative net "
        "value, a share of the investment so far (0.2 for the business cases stored before)",
        (
            "ALTER TABLE initiatives ADD COLUMN case_band DOUBLE",
            "UPDATE initiatives SET case_band = 0.2 WHERE case_currency IS NOT NULL",
        ),
    ),
    Migration(
        17,
        "saved ROI scenarios: a name, an initiative and the changes (as people write them)",
        (
            """CREATE TABLE scenarios (
                name VARCHAR PRIMARY KEY,
                initiative VARCHAR NOT NULL,
                changes JSON NOT NULL,          -- {"volume": "100000/day", ...}
                saved_at TIMESTAMP NOT NULL,
                saved_by VARCHAR NOT NULL
            )""",
        ),
    ),
    Migration(
        18,
        "the OTLP inbox: span exports acknowledged by the server, each committed as it "
        "arrives and moved into usage_events by a drain (costs/inbox.py)",
        (
            "CREATE SEQUENCE otlp_inbox_seq",
            """CREATE TABLE otlp_inbox (
                seq BIGINT PRIMARY KEY,         -- the order of arrival
                received_at TIMESTAMP NOT NULL,
                sent_by VARCHAR NOT NULL,       -- the user the sender's token acts as
                source_name VARCHAR NOT NULL,
                spans INTEGER NOT NULL,         -- its GenAI spans
                export BLOB NOT NULL            -- the ExportTraceServiceRequest, as protobuf
            )""",
        ),
    ),
    Migration(
        19,
        "adoption: the org-unit hierarchy, pseudonymous adoption records (access, awareness, "
        "training, activity), process volume, surveys aggregated on the way in, and the weekly "
        "aggregates that records older than the retention window are reduced to",
        (
            """CREATE TABLE org_units (
                unit VARCHAR PRIMARY KEY,
                parent VARCHAR,                 -- NULL: a root
                ingest_id BIGINT NOT NULL
            )""",
            """CREATE TABLE adoption_records (
                pseudonym VARCHAR NOT NULL,     -- keyed hash of the person; never the identity
                unit VARCHAR NOT NULL,
                subject VARCHAR NOT NULL,       -- an initiative id or a tool name
                record VARCHAR NOT NULL,        -- access | awareness | training | activity
                day DATE NOT NULL,
                uses BIGINT,                    -- activity only
                ingest_id BIGINT NOT NULL,
                PRIMARY KEY (pseudonym, unit, subject, record, day)
            )""",
            """CREATE TABLE process_volume (
                unit VARCHAR NOT NULL,
                subject VARCHAR NOT NULL,
                day DATE NOT NULL,
                ai_handled BIGINT NOT NULL,     -- handled with AI
                total BIGINT NOT NULL,          -- the whole process volume
                ingest_id BIGINT NOT NULL,
                PRIMARY KEY (unit, subject, day)
            )""",
            """CREATE TABLE survey_aggregates (
                unit VARCHAR NOT NULL,
                survey VARCHAR NOT NULL,        -- executive_confidence | manager_readiness
                period DATE NOT NULL,
                respondents BIGINT NOT NULL,
                score DECIMAL(18, 10) NOT NULL, -- the mean answer scaled to 0-1: (mean - 1) / 4
                ingest_id BIGINT NOT NULL,
                PRIMARY KEY (unit, survey, period)
            )""",
            """CREATE TABLE adoption_weekly (
                unit VARCHAR NOT NULL,
                subject VARCHAR NOT NULL,
                record VARCHAR NOT NULL,
                week DATE NOT NULL,             -- the Monday of the ISO week
                people BIGINT NOT NULL,         -- distinct pseudonyms that week
                uses BIGINT NOT NULL,
                PRIMARY KEY (unit, subject, record, week)
            )""",
        ),
    ),
    Migration(
        20,
        "chargeback: the business units finance switched to chargeback (from a month, to a "
        "cost centre), and their closed months' statements, frozen as they were",
        (
            """CREATE TABLE chargeback_units (
                business_unit VARCHAR PRIMARY KEY,
                from_month DATE NOT NULL,       -- the first month charged back
                cost_centre VARCHAR,
                set_at TIMESTAMP NOT NULL,
                set_by VARCHAR NOT NULL
            )""",
            """CREATE TABLE closed_statements (
                business_unit VARCHAR NOT NULL,
                month DATE NOT NULL,
                statement JSON NOT NULL,        -- the statement as it was closed, never rewritten
                closed_at TIMESTAMP NOT NULL,
                closed_by VARCHAR NOT NULL,
                PRIMARY KEY (business_unit, month)
            )""",
        ),
    ),
    Migration(
        21,
        "spend control: budgets (per initiative, business unit, provider, tag or API key), "
        "their spend per period kept on every cost write, and alerts with their deliveries "
        "to webhooks",
        (
            """CREATE TABLE budgets (
                id VARCHAR PRIMARY KEY,
                scope VARCHAR NOT NULL,         -- initiative, business_unit, provider, tag, api_key
                scope_value VARCHAR NOT NULL,   -- for a tag, key=value
                period VARCHAR NOT NULL,        -- monthly | period
                start_month DATE,               -- monthly: from this month; period: its first
                end_month DATE,                 -- monthly: until this month; period: its last
                amount DECIMAL(38, 10) NOT NULL,
                currency VARCHAR NOT NULL,
                thresholds VARCHAR NOT NULL,    -- JSON array of shares, as text
                hard_limit BOOLEAN NOT NULL,
                set_at TIMESTAMP NOT NULL,
                set_by VARCHAR NOT NULL
            )""",
            """CREATE TABLE budget_spend (
                budget VARCHAR NOT NULL,
                period VARCHAR NOT NULL,        -- 2026-03, or 2026-01..2026-06
                start_month DATE NOT NULL,
                end_month DATE NOT NULL,        -- the month after the period
                amount DECIMAL(38, 10) NOT NULL,  -- the budget, in the reporting currency
                spent DECIMAL(38, 10) NOT NULL,
                PRIMARY KEY (budget, period)
            )""",
            "CREATE SEQUENCE alerts_seq",
            """CREATE TABLE alerts (
                id BIGINT PRIMARY KEY,
                kind VARCHAR NOT NULL,          -- budget_threshold, forecast_overrun, anomaly
                subject VARCHAR NOT NULL,       -- budget:<id>, initiative:<id>, ...
                period VARCHAR NOT NULL,
                level VARCHAR NOT NULL,         -- tells apart a subject's alerts in a period
                message VARCHAR NOT NULL,
                value DECIMAL(38, 10),
                reference DECIMAL(38, 10),
                threshold DECIMAL(38, 10),
                currency VARCHAR,
                details VARCHAR NOT NULL,       -- JSON object of strings
                raised_at TIMESTAMP NOT NULL,
                UNIQUE (kind, subject, period, level)
            )""",
            """CREATE TABLE alert_deliveries (
                alert BIGINT NOT NULL,
                webhook VARCHAR NOT NULL,       -- its name in the settings, never its URL
                state VARCHAR NOT NULL,         -- pending | delivered | failed
                attempts INTEGER NOT NULL,
                last_error VARCHAR,
                updated_at TIMESTAMP NOT NULL,
                delivered_at TIMESTAMP,
                PRIMARY KEY (alert, webhook)
            )""",
        ),
    ),
    Migration(
        22,
        "external sources: FOCUS exports and usage logs read where they live (a folder, an "
        "object store, a catalogue table), the partitions each sync read, and their sums",
        (
            """CREATE TABLE external_sources (
                name VARCHAR PRIMARY KEY,
                kind VARCHAR NOT NULL,          -- focus | usage
                location VARCHAR NOT NULL,      -- a folder, a URL (s3a://...) or a table name
                format VARCHAR NOT NULL,        -- parquet | table
                mapping VARCHAR NOT NULL,       -- JSON object: usage field -> the column
                added_at TIMESTAMP NOT NULL,
                added_by VARCHAR NOT NULL
            )""",
            "CREATE SEQUENCE source_runs_seq",
            """CREATE TABLE source_runs (
                run BIGINT PRIMARY KEY,
                source VARCHAR NOT NULL,
                engine VARCHAR NOT NULL,        -- duckdb | spark
                ran_at TIMESTAMP NOT NULL,
                partitions_read INTEGER NOT NULL,
                partitions_kept INTEGER NOT NULL,
                partitions_removed INTEGER NOT NULL,
                rows_read BIGINT NOT NULL
            )""",
            """CREATE TABLE source_partitions (
                source VARCHAR NOT NULL,
                partition VARCHAR NOT NULL,     -- the file, as the engine names it
                size BIGINT NOT NULL,
                modified VARCHAR NOT NULL,      -- its modification time (or etag), as text
                rows BIGINT NOT NULL,
                computed_with VARCHAR NOT NULL, -- the keys and prices its sums were made with
                run BIGINT NOT NULL,            -- the sync that read it
                PRIMARY KEY (source, partition)
            )""",
            """CREATE TABLE source_sums (
                source VARCHAR NOT NULL,
                partition VARCHAR NOT NULL,
                month DATE NOT NULL,
                attributes VARCHAR NOT NULL,    -- JSON object: the rollup's keys of these lines
                amount DECIMAL(38, 18),
                tokens BIGINT NOT NULL,
                requests BIGINT NOT NULL,
                input_tokens BIGINT NOT NULL,
                output_tokens BIGINT NOT NULL,
                cache_read_tokens BIGINT NOT NULL,
                cache_write_tokens BIGINT NOT NULL,
                reasoning_tokens BIGINT NOT NULL
            )""",
        ),
    ),
)
