"""No person in the ledger: every attribute that identifies someone is pseudonymised before
anything is written, whatever the source."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.conftest import key_file_of
from valuegap import Ledger
from valuegap.adoption.keys import PseudonymKey
from valuegap.model.pseudonyms import PersonData
from valuegap.settings import Settings

PEOPLE = [
    "carol@corp",
    "Carol Jones",
    "carol.jones",
    "pseudo-77",
    "203.0.113.9",
    "E-1234",
    "dave@corp",
    "erin@corp",
    "frank@corp",
]


def _files(folder: Path) -> tuple[Path, Path, Path]:
    spans = folder / "spans.jsonl"
    spans.write_text(
        json.dumps(
            {
                "traceId": "a" * 32,
                "spanId": "b" * 16,
                "startTimeUnixNano": "1772355600000000000",
                "attributes": {
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 100,
                    "gen_ai.usage.output_tokens": 10,
                    "user.email": "carol@corp",
                    "user.name": "carol.jones",
                    "user.full_name": "Carol Jones",
                    "enduser.pseudo.id": "pseudo-77",
                    "client.address": "203.0.113.9",
                    "employee.id": "E-1234",
                    "deployment.environment": "prod",
                },
            }
        )
        + "\n"
    )
    litellm = folder / "spend.csv"
    litellm.write_text(
        "request_id,startTime,model,custom_llm_provider,prompt_tokens,completion_tokens,spend,"
        "user,end_user,request_tags\n"
        "r1,2026-03-01 10:00:00,gpt-4o,openai,10,1,0.001,dave@corp,erin@corp,"
        '"[""user:Carol@Corp"",""project:x""]"\n'
    )
    generic = folder / "calls.csv"
    generic.write_text("ts,model,vendor,who\n2026-03-01T11:00:00Z,gpt-4o,openai,frank@corp\n")
    return spans, litellm, generic


def test_no_raw_identity_reaches_the_ledger_file(db_path: Path, tmp_path: Path) -> None:
    settings = Settings(db=db_path, person_attributes=("employee.id",))
    spans, litellm, generic = _files(tmp_path)
    with Ledger.init(db_path, actor="alice", settings=settings) as ledger:
        ledger.costs.ingest_usage(spans, "otel")
        ledger.costs.ingest_usage(litellm, "litellm")
        mapping = {
            "timestamp": "ts",
            "request_model": "model",
            "provider": "vendor",
            "tag.user.email": "who",
        }
        ledger.costs.ingest_usage(generic, "csv", mapping)
        emails = {r.tags["user.email"] for r in ledger.costs.cost_report(["tag:user.email"])}
        tags = ledger.session.db.all("SELECT tags FROM usage_events ORDER BY ts")
        key_text = key_file_of(ledger).read_text().strip().encode()
    key = PersonData(lambda: PseudonymKey((key_text,), "the key file"))
    # The same person is the same pseudonym in every source, whatever the letter case.
    assert emails == {key.pseudonymise("carol@corp"), key.pseudonymise("frank@corp"), None}
    assert tags[1]["tags"]["user"] == key.pseudonymise("carol@corp")
    assert tags[0]["tags"]["deployment.environment"] == "prod"  # the others stay as they are
    con = duckdb.connect(str(db_path), read_only=True)
    columns = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR' OR data_type LIKE 'MAP%'"
    ).fetchall()
    for table, column, kind in columns:
        text = f'CAST("{column}" AS VARCHAR)' if kind.startswith("MAP") else f'"{column}"'
        for person in PEOPLE:
            found = con.execute(
                f"SELECT count(*) FROM {table} WHERE lower({text}) LIKE ?", [f"%{person.lower()}%"]
            ).fetchone()
            assert found == (0,), (table, column, person)
    con.close()
    raw = db_path.read_bytes() + (
        Path(f"{db_path}.wal").read_bytes() if Path(f"{db_path}.wal").exists() else b""
    )
    for person in PEOPLE:
        assert person.encode() not in raw and person.lower().encode() not in raw


def test_rows_without_ids_are_keyed_without_the_person(db_path: Path, tmp_path: Path) -> None:
    # Another pseudonym key (a lost key file rotated without a backup) gives everyone another
    # pseudonym: the same file must still add nothing.
    calls = tmp_path / "calls.csv"
    rows = [f"2026-03-01T10:{m:02d}:00Z,gpt-4o,openai,user{m % 3}@corp" for m in range(60)]
    calls.write_text("ts,model,vendor,who\n" + "\n".join(rows) + "\n")
    mapping = {"timestamp": "ts", "request_model": "model", "provider": "vendor",
               "user": "who", "tag.user.email": "who"}  # fmt: skip
    with Ledger.init(db_path, actor="alice") as ledger:
        assert ledger.costs.ingest_usage(calls, "csv", mapping).rows_added == 60
        key_file_of(ledger).unlink()
    with Ledger.open(db_path, actor="alice") as ledger:
        ledger.governance.keys.rotate_key()
        assert ledger.costs.ingest_usage(calls, "csv", mapping).rows_added == 0


def test_a_bare_litellm_tag_that_is_an_address_is_dropped(ledger: Ledger, tmp_path: Path) -> None:
    spend = tmp_path / "spend.csv"
    spend.write_text(
        "request_id,startTime,model,custom_llm_provider,prompt_tokens,completion_tokens,spend,"
        'request_tags\nr1,2026-03-01 10:00:00,gpt-4o,openai,10,1,0.001,"[""gina@corp"",""prod""]"\n'
    )
    ledger.costs.ingest_usage(spend, "litellm")
    assert ledger.session.db.one("SELECT tags FROM usage_events") == ({"prod": "true"},)
