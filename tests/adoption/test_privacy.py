"""The privacy acceptance of adoption data (issue 18): after loading a year of 400 people's
activity and surveys with their respondents, through the command line and the API, no raw
identifier from the inputs is in the ledger file (its bytes, and every text column), the
captured logs, the command line's output and errors, or any JSON or CSV answer."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.adoption.adoption_data import organisation
from valuegap import Ledger
from valuegap.cli import app
from valuegap.web.app import create_app


def _forms(identifier: str) -> set[str]:
    """An identifier as written, as compared (without case and surrounding space), and its
    local part (before the @)."""
    compared = identifier.strip().lower()
    return {identifier, identifier.strip(), compared, compared.split("@")[0]}


def test_no_raw_identifier_is_stored_logged_or_returned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = organisation(tmp_path)
    path = tmp_path / "l.duckdb"
    runner = CliRunner()
    said: list[str] = []

    def run(*args: str, code: int = 0) -> None:
        result = runner.invoke(app, [*args, "--db", str(path), "--as", "alice"])
        said.extend([result.stdout, result.stderr])
        assert result.exit_code == code, result.output

    run("init")
    run("ingest", "org", str(made.org), "--format", "json")
    for fmt in ("table", "json", "csv"):  # the second and third change nothing
        run("ingest", "adoption", str(made.adoption), "--format", fmt)
        run("ingest", "survey", str(made.survey), "--format", fmt)
        run("adoption", "retain", "--format", fmt)
    # refused files: a bad value beside a person, a person in a process row, a broken row
    bad = tmp_path / "bad.csv"
    first = made.identifiers[0]
    bad.write_text(
        "person,unit,subject,record,day,uses,process_volume\n"
        f"{first},dept-0-team-0,copilot,activity,someday,1,\n"
        f"{made.identifiers[1]},dept-0-team-0,copilot,process,2026-11-02,1,2\n"
        f'{made.identifiers[2]},dept-0-team-0,"copilot,activity\n'
    )
    run("ingest", "adoption", str(bad), code=1)
    bad.write_text(bad.read_text().rsplit("\n", 2)[0] + "\n")  # without the broken row
    run("ingest", "adoption", str(bad), code=1)
    run("audit", "log", "--format", "json")
    run("audit", "log", "--format", "csv")

    with Ledger.open(path, actor="alice") as ledger:
        token = ledger.governance.credentials.create_token("alice").secret
        client = TestClient(create_app(ledger), headers={"Authorization": f"Bearer {token}"})
        for route, file in (
            ("org", made.org),
            ("adoption", made.adoption),
            ("survey", made.survey),
            ("adoption", bad),
        ):
            answer = client.post(f"/api/v1/ingest/{route}", files={"file": file.open("rb")})
            said.append(answer.text)
        assert answer.status_code == 422 and "(withheld)" in answer.text
        said.append(client.post("/api/v1/adoption/retain").text)
        people = ledger.session.db.one("SELECT count(DISTINCT pseudonym) FROM adoption_records")
        assert people == (400,)

    con = duckdb.connect(str(path), read_only=True)
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR' AND table_schema = 'main'"
    ).fetchall()
    texts = [
        str(value)
        for table, column in columns
        for (value,) in con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()
        if value is not None
    ]
    con.close()
    stored = path.read_bytes() + (
        Path(f"{path}.wal").read_bytes() if Path(f"{path}.wal").exists() else b""
    )
    logs = caplog.text
    inputs = (made.adoption.read_text() + made.survey.read_text()).lower()
    assert any("row 2, column 'person'" in text and "(withheld)" in text for text in said)
    for identifier in made.identifiers:
        for form in _forms(identifier):
            assert form.lower() in inputs  # what is looked for is there to be found
            assert form.encode() not in stored, form
            assert not any(form in text for text in texts), form
            assert form not in logs, form
            assert not any(form in text for text in said), form
