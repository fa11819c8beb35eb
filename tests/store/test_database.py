from __future__ import annotations

import hashlib
import uuid
from datetime import date
from pathlib import Path

import duckdb
import pytest

from valuegap.errors import ConfigError
from valuegap.store import Database
from valuegap.store.database import SCHEMA_VERSION
from valuegap.store.migrations import MIGRATIONS, Migration

EXTRA = Migration(
    MIGRATIONS[-1].version + 1,
    "test: initiatives gain a colour",
    ("ALTER TABLE initiatives ADD COLUMN colour VARCHAR DEFAULT 'blue'",),
)


def test_new_ledger_has_the_latest_schema(db_path: Path) -> None:
    db = Database.open(db_path, create=True)
    assert db.schema_version == MIGRATIONS[-1].version
    db.close()


def test_the_latest_schema_version_is_the_last_migrations() -> None:
    # Opening a ledger at SCHEMA_VERSION does not import the migrations.
    assert MIGRATIONS[-1].version == SCHEMA_VERSION


def test_missing_ledger_is_not_created_silently(db_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"`Ledger\.init\('.*'\)`"):
        Database.open(db_path, create=False)
    assert not db_path.exists()


def test_older_ledger_is_upgraded_without_losing_data(db_path: Path) -> None:
    db = Database.open(db_path, create=True)
    db.execute(
        "INSERT INTO initiatives (id, name, kind, business_unit, kill_criteria, stage, created_at)"
        " VALUES ('a', 'A', 'use_case', 'ops', '[]', 'poc', TIMESTAMP '2026-01-01')"
    )
    db.close()

    upgraded = Database.open(db_path, create=False, migrations=[*MIGRATIONS, EXTRA])
    assert upgraded.schema_version == EXTRA.version
    assert upgraded.all("SELECT id, stage, colour FROM initiatives") == [
        {"id": "a", "stage": "poc", "colour": "blue"}
    ]
    upgraded.close()


def test_ledger_from_a_newer_valuegap_is_refused_unchanged(db_path: Path) -> None:
    db = Database.open(db_path, create=True, migrations=[*MIGRATIONS, EXTRA])
    db.close()
    with pytest.raises(ConfigError, match=rf"newer valuegap \(schema version {EXTRA.version}"):
        Database.open(db_path, create=False)
    db = Database.open(db_path, create=False, migrations=[*MIGRATIONS, EXTRA])
    assert db.schema_version == EXTRA.version
    db.close()


def test_a_database_that_is_not_a_ledger_is_refused(db_path: Path) -> None:
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE sales (id INTEGER)")
    con.close()
    with pytest.raises(ConfigError, match="not a valuegap ledger"):
        Database.open(db_path, create=False)


def test_transaction_is_all_or_nothing(db_path: Path) -> None:
    db = Database.open(db_path, create=True)
    with pytest.raises(RuntimeError), db.transaction():
        db.set_meta("k", "v")
        raise RuntimeError("boom")
    assert db.get_meta("k") is None
    db.close()


def test_focus_line_keys_become_a_uuid_and_an_occurrence(db_path: Path) -> None:
    db = Database.open(db_path, create=True, migrations=MIGRATIONS[:5])
    db.execute(
        """INSERT INTO focus_lines (line_key, ingest_id, source_row, billing_account_id,
            provider, service_name, service_category, charge_category, billing_period_start,
            charge_period_start, charge_period_end, billing_currency, billed_cost)
        VALUES (md5('a line') || '-2', 1, 7, 'acct', 'AWS', 'S3', 'Storage', 'Usage',
            DATE '2025-01-01', DATE '2025-01-01', DATE '2025-01-02', 'USD', 1.5)"""
    )
    db.close()
    upgraded = Database.open(db_path, create=False, migrations=MIGRATIONS[:6])
    # The same key as a line staged then with the text 'a line'.
    row = upgraded.one(
        "SELECT line_hash = CAST(md5('a line') AS UUID), occurrence, source_row FROM focus_lines"
    )
    assert row == (True, 2, 7)
    upgraded.close()


def test_the_values_a_line_is_keyed_by_never_change(db_path: Path, tmp_path: Path) -> None:
    # A stored line is keyed by the MD5 of this text of its values: another text would make a
    # re-ingest add it again (unless a migration keys the stored lines again).
    from valuegap import Ledger

    path = tmp_path / "line.csv"
    path.write_text(
        "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
        "ChargeCategory,BilledCost,EffectiveCost,ProviderName,ServiceName,ServiceCategory,Tags,"
        'SkuId,x_Other\nacct,usd,2025-01-01,2025-01-01T00:00:00Z,2025-01-02,Usage,1.5,1.50,AWS,'
        'Amazon S3,Storage,"{""b"": ""2"", ""a"": ""1""}",sku-9,ignored\n'
    )  # fmt: skip
    with Ledger.init(db_path, actor="alice") as ledger:
        ledger.costs.ingest_focus([path])
        [(key,)] = ledger.session.db.connection.execute(
            "SELECT line_hash FROM focus_lines"
        ).fetchall()
    null, end = "\x1e", "\x1f"
    text = end.join([
        "acct", null, "AWS", null, null, "Amazon S3", "Storage", "Usage", null, null, null,
        "2025-01-01 00:00:00", "2025-01-01 00:00:00", "2025-01-02 00:00:00", "USD",
        "1.5000000000", "1.5000000000", null, null, null, null,
        "[{'key': a, 'value': 1}, {'key': b, 'value': 2}]",
        *[null] * 5, *[null] * 4, "sku-9", *[null] * 10,
    ])  # fmt: skip
    assert str(key) == str(uuid.UUID(hashlib.md5(text.encode()).hexdigest()))


def test_migration_7_keys_stored_lines_by_their_values(db_path: Path, tmp_path: Path) -> None:
    db = Database.open(db_path, create=True, migrations=MIGRATIONS[:6])
    # As valuegap stored them before: keyed by the MD5 of their text.
    db.execute(
        """INSERT INTO focus_lines (line_hash, occurrence, ingest_id, source_row,
            billing_account_id, provider, service_name, service_category, charge_category,
            billing_period_start, charge_period_start, charge_period_end, billing_currency,
            billed_cost, effective_cost, tags)
        VALUES (CAST(md5('any text') AS UUID), 1, 1, 1, 'acct', 'AWS', 'Amazon S3', 'Storage',
            'Usage', TIMESTAMP '2025-01-01', TIMESTAMP '2025-01-01', TIMESTAMP '2025-01-02',
            'USD', 1.5, 1.5, MAP {'b': '2', 'a': '1'})"""
    )
    # A line with an InvoiceId (an extra then), stored twice by two ingests of one invoice
    # in two spellings, and two equal lines of one ingest.
    for ingest, row in ((4, 1), (5, 1), (5, 2)):
        db.execute(
            f"""INSERT INTO focus_lines (line_hash, occurrence, ingest_id, source_row,
                billing_account_id, provider, service_name, service_category, charge_category,
                billing_period_start, charge_period_start, charge_period_end, billing_currency,
                billed_cost, effective_cost, extra)
            VALUES (gen_random_uuid(), {row}, {ingest}, {row}, 'acct', 'OpenAI', 'API', 'AI',
                'Usage', TIMESTAMP '2025-02-01', TIMESTAMP '2025-02-01', TIMESTAMP '2025-02-02',
                'USD', 2, 2, MAP {{'InvoiceId': 'INV-7', 'x_team': 'qa'}})"""
        )
    db.execute(
        """INSERT INTO usage_events (event_key, ingest_id, source, ts, provider, request_model,
            input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
            reasoning_tokens, computed_cost, price_source, tags)
        VALUES (md5('old text') || '-1', 2, 'csv', TIMESTAMP '2025-01-01 10:00:00', 'openai',
                'gpt-4o', 1000, 0, 0, 0, 0, 0.0025, 'catalogue', NULL),
               (md5('old text, respelled') || '-1', 6, 'csv', TIMESTAMP '2025-01-01 10:00:00',
                'openai', 'gpt-4o', 1000, 0, 0, 0, 0, 0.0025, 'catalogue', NULL),
               ('span-1', 3, 'otel', TIMESTAMP '2025-01-01 11:00:00', 'openai', 'gpt-4o',
                1, 0, 0, 0, 0, 0.0000025, 'catalogue',
                MAP {'user.email': 'carol@corp', 'service.name': 'qa'})"""
    )
    for day, rate in (("2025-01-01", 2), ("2025-06-01", 1)):
        db.execute("INSERT INTO price_overrides VALUES ('gpt-4o', ?, ?, 8, NULL, NULL, "
                   "TIMESTAMP '2025-01-01', 'alice')", [day, rate])  # fmt: skip
    db.execute("INSERT INTO users VALUES ('alice', 'admin', '[]', TIMESTAMP '2025-01-01', 'x')")
    db.close()
    from valuegap import Ledger

    with Ledger.open(db_path, actor="alice") as ledger:
        focus = tmp_path / "focus.csv"
        focus.write_text(
            "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,"
            "ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,ProviderName,ServiceName,"
            'ServiceCategory,Tags\nacct,USD,2025-01-01T00:00:00Z,2025-01-01T00:00:00Z,'
            '2025-01-02T00:00:00Z,Usage,1.50,1.50,AWS,Amazon S3,Storage,"{""a"": ""1"", '
            '""b"": ""2""}"\n'
        )  # fmt: skip
        assert ledger.costs.ingest_focus([focus])[0].rows_added == 0  # the same line, by its values
        invoiced = ledger.session.db.all(
            "SELECT occurrence, invoice_id, extra FROM focus_lines WHERE provider = 'OpenAI' "
            "ORDER BY occurrence"
        )
        assert [tuple(r.values()) for r in invoiced] == [
            (1, "INV-7", {"x_team": "qa"}),
            (2, "INV-7", {"x_team": "qa"}),
        ]
        twice = tmp_path / "twice.csv"
        twice.write_text(
            "BillingAccountId,BillingCurrency,BillingPeriodStart,ChargePeriodStart,"
            "ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,ProviderName,ServiceName,"
            "ServiceCategory,InvoiceId,x_team\n"
            + "acct,USD,2025-02-01,2025-02-01,2025-02-02,Usage,2,2,OpenAI,API,AI,INV-7,qa\n"
            * 2
        )
        assert ledger.costs.ingest_focus([twice])[0].rows_added == 0
        usage = tmp_path / "usage.csv"
        usage.write_text("timestamp,provider,model,input_tokens\n"
                         "2025-01-01 10:00:00,openai,gpt-4o,1000\n")  # fmt: skip
        assert ledger.costs.ingest_usage(usage, "csv").rows_added == 0
        assert ledger.session.db.one("SELECT count(*) FROM usage_events WHERE source = 'csv'") == (
            1,
        )
        tags = ledger.session.db.one("SELECT tags FROM usage_events WHERE event_key = 'span-1'")
        assert tags == ({"service.name": "qa"},)  # no person in the tags
        spans = {
            (o.valid_from.isoformat(), o.valid_to) for o in ledger.costs.prices.price_overrides()
        }
        assert spans == {("2025-01-01", date(2025, 6, 1)), ("2025-06-01", None)}


def test_migration_13_gives_every_ledger_its_own_id(db_path: Path, tmp_path: Path) -> None:
    db = Database.open(db_path, create=True, migrations=MIGRATIONS[:12])
    assert db.get_meta("ledger_id") is None
    db.close()
    upgraded = Database.open(db_path, create=False, migrations=MIGRATIONS[:13])
    ledger_id = upgraded.get_meta("ledger_id")
    assert ledger_id is not None and len(ledger_id) == 32
    upgraded.execute("DELETE FROM valuegap_schema WHERE version = 13")
    upgraded.close()
    again = Database.open(db_path, create=False, migrations=MIGRATIONS[:13])
    assert again.get_meta("ledger_id") == ledger_id  # an id names a key: it never changes
    again.close()
    other = Database.open(tmp_path / "other.duckdb", create=True)
    assert other.get_meta("ledger_id") not in (None, ledger_id)
    other.close()
