"""Signed checkpoints: the key outside the ledger, a file or a webhook, and what verify checks."""

from __future__ import annotations

import base64
import json
import shutil
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from tests.conftest import SteppingClock
from valuegap import Ledger
from valuegap.cli import app
from valuegap.errors import ConfigError, ValuegapError
from valuegap.settings import Settings


@pytest.fixture
def history(db_path: Path, clock: SteppingClock) -> Path:
    with Ledger.init(db_path, actor="alice", clock=clock) as ledger:
        for name in ("bob", "carol"):
            ledger.governance.users.add_user(name, "viewer")
    return db_path


def test_the_key_is_made_on_first_use_outside_the_ledger_readable_by_its_owner_only(
    history: Path, tmp_path: Path, _audit_key_in_tmp: Path
) -> None:
    checkpoints = tmp_path / "council" / "checkpoints.jsonl"
    checkpoints.parent.mkdir()
    with Ledger.open(history, actor="alice") as ledger:
        first, where = ledger.governance.audit.checkpoint(str(checkpoints))
        ledger.governance.users.add_user("dan", "viewer")
        second, _ = ledger.governance.audit.checkpoint(str(checkpoints))
    key = _audit_key_in_tmp
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.with_suffix(".pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert where == f"appended to {checkpoints}"
    assert (first.seq, second.seq) == (4, 5)  # init, default policy, bob, carol; then dan
    assert first.key_id == second.key_id
    lines = [json.loads(line) for line in checkpoints.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [4, 5]
    assert b"PRIVATE KEY" not in history.read_bytes()


def test_a_verifier_needs_only_the_public_key(
    history: Path, tmp_path: Path, _audit_key_in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoints = tmp_path / "checkpoints.jsonl"
    with Ledger.open(history, actor="alice") as ledger:
        ledger.governance.audit.checkpoint(str(checkpoints))
    public = tmp_path / "council.pub"
    shutil.copy(_audit_key_in_tmp.with_suffix(".pub"), public)
    monkeypatch.setenv("VALUEGAP_AUDIT_KEY", str(tmp_path / "none" / "audit-key.pem"))
    with Ledger.open(history, actor="bob") as ledger:
        result = ledger.governance.audit.verify_audit(checkpoints, public)
        with pytest.raises(ConfigError, match="give the public key"):
            ledger.governance.audit.verify_audit(checkpoints)
    assert result.ok, result.message
    assert "it extends the signed checkpoint (at entry 4" in result.message


def test_a_key_others_can_read_is_refused(
    history: Path, tmp_path: Path, _audit_key_in_tmp: Path
) -> None:
    with Ledger.open(history, actor="alice") as ledger:
        ledger.governance.audit.checkpoint(str(tmp_path / "c.jsonl"))
        _audit_key_in_tmp.chmod(0o644)
        with pytest.raises(ConfigError, match="can be read by others than its owner; `chmod 600"):
            ledger.governance.audit.checkpoint(str(tmp_path / "c.jsonl"))


def test_a_checkpoint_by_another_key_or_edited_is_refused(history: Path, tmp_path: Path) -> None:
    checkpoints = tmp_path / "checkpoints.jsonl"
    other = Settings(db=history, audit_key=str(tmp_path / "other" / "key.pem"))
    with Ledger.open(history, actor="alice", settings=other) as ledger:
        ledger.governance.audit.checkpoint(str(checkpoints))
    with Ledger.open(history, actor="alice") as ledger:
        ledger.governance.audit.checkpoint(str(tmp_path / "mine.jsonl"))  # makes this user's key
        result = ledger.governance.audit.verify_audit(checkpoints)
    assert not result.ok
    assert "checkpoint 1 (entry 4, signed" in result.message
    assert "is not valid: it was signed by another key" in result.message

    mine = tmp_path / "mine.jsonl"
    line = json.loads(mine.read_text())
    mine.write_text(json.dumps({**line, "seq": 3}) + "\n")
    with Ledger.open(history, actor="alice") as ledger:
        result = ledger.governance.audit.verify_audit(mine)
    assert not result.ok
    assert "its signature does not match its content" in result.message


def test_a_log_that_does_not_verify_is_not_signed(history: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(history))
    con.execute("UPDATE users SET role = 'admin' WHERE name = 'bob'")
    con.close()
    with Ledger.open(history, actor="alice") as ledger, pytest.raises(ValuegapError) as refused:
        ledger.governance.audit.checkpoint(str(tmp_path / "c.jsonl"))
    assert "does not verify, so it was not signed: users row 'bob'" in str(refused.value)
    assert not (tmp_path / "c.jsonl").exists()


def test_a_checkpoint_needs_somewhere_to_go(history: Path) -> None:
    with (
        Ledger.open(history, actor="alice") as ledger,
        pytest.raises(ConfigError, match="goes: `to`, a file"),
    ):
        ledger.governance.audit.checkpoint()


class _Council(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Council.received.append(self.rfile.read(length))
        self.send_response(_Council.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    _Council.received, _Council.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Council)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/checkpoints?token=s3cret"
    server.shutdown()
    server.server_close()


def test_a_checkpoint_is_posted_to_a_webhook(
    history: Path, webhook: str, _audit_key_in_tmp: Path, tmp_path: Path
) -> None:
    with Ledger.open(history, actor="alice") as ledger:
        signed, where = ledger.governance.audit.checkpoint(webhook)
    host = webhook.split("/checkpoints")[0]
    assert where == f"sent to {host} (HTTP 200)"  # never the path or query: a token may be there
    (body,) = _Council.received
    sent = json.loads(body)
    assert (sent["seq"], sent["hash"]) == (signed.seq, signed.hash)
    # The council checks the signature with the public key alone.
    public = serialization.load_pem_public_key(_audit_key_in_tmp.with_suffix(".pub").read_bytes())
    signed_part = {k: v for k, v in sent.items() if k != "signature"}
    public.verify(  # type: ignore[union-attr]
        base64.b64decode(sent["signature"]),
        json.dumps(signed_part, sort_keys=True, separators=(",", ":")).encode(),
    )
    kept = tmp_path / "kept.jsonl"
    kept.write_bytes(body + b"\n")
    with Ledger.open(history, actor="alice") as ledger:
        assert ledger.governance.audit.verify_audit(kept).ok


def test_a_webhook_that_refuses_is_said(history: Path, webhook: str) -> None:
    _Council.status = 500
    with Ledger.open(history, actor="alice") as ledger, pytest.raises(ValuegapError) as failed:
        ledger.governance.audit.checkpoint(webhook)
    host = webhook.split("/checkpoints")[0]
    assert "s3cret" not in str(failed.value)
    assert f"The checkpoint was signed but not delivered to {host}: HTTP Error 500" in str(
        failed.value
    )


def test_the_cli_signs_and_verifies(history: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    common = ["--db", str(history), "--as", "alice"]
    checkpoints = str(tmp_path / "c.jsonl")
    signed = runner.invoke(app, ["audit", "checkpoint", "--to", checkpoints, *common])
    assert signed.exit_code == 0, signed.output
    assert signed.output.startswith("Signed entry 4 (hash ")
    checked = runner.invoke(app, ["audit", "verify", "--checkpoint", checkpoints, *common])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("OK: the audit chain is intact (4 entries); the tables")


def test_a_checkpoint_file_without_checkpoints_is_not_taken_for_a_proof(
    history: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "c.jsonl"
    empty.touch()
    with Ledger.open(history, actor="alice") as ledger:
        with pytest.raises(ConfigError, match="holds no checkpoint"):
            ledger.governance.audit.verify_audit(empty)
        signed, _ = ledger.governance.audit.checkpoint(str(empty))  # the first one goes into it
        assert ledger.governance.audit.verify_audit(empty).checkpoints == 1
    assert signed.seq == 4
