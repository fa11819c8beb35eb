"""A missing or other pseudonymisation key stops every ingest of person data; `key restore`
brings back the same pseudonyms, `key rotate` re-keys them so people stay linked (issue 14,
item 8). The key lives in the user's configuration folder, named by the ledger's id, not
beside the ledger; a key an older valuegap left there still works, and `key move` moves it
(issue 16). Pseudonyms and fingerprints are worked out here with hmac, from the key's text."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import key_file_of
from valuegap import Ledger
from valuegap.cli import app
from valuegap.errors import ConfigError, PermissionDenied, ValidationError
from valuegap.settings import Settings, config_directory, load_settings

MAPPING = {"timestamp": "ts", "request_model": "model", "provider": "vendor",
           "user": "who", "tag.user.email": "who"}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_keys_yet(_config_in_tmp: Path) -> None:
    """These tests count the key files a ledger makes: the keys a test's configuration folder
    starts with (those of the session's ledgers, the demo's) are not theirs."""
    shutil.rmtree(config_directory() / "keys", ignore_errors=True)


def _calls(folder: Path, name: str, month: str, people: list[str]) -> Path:
    rows = [f"{month}-0{n + 1}T10:00:00Z,gpt-4o,openai,{who}" for n, who in enumerate(people)]
    path = folder / name
    path.write_text("ts,model,vendor,who\n" + "\n".join(rows) + "\n")
    return path


def _pseudonym(key: bytes, identity: str) -> str:
    return "p_" + hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()[:32]


def _fingerprint(key: bytes) -> str:
    return hmac.new(key, b"valuegap key fingerprint", hashlib.sha256).hexdigest()[:16]


def _pseudonyms(ledger: Ledger, month: str) -> set[tuple[str, str]]:
    """(user pseudonym, user.email tag) of the calls of ``month``."""
    rows = ledger.session.db.all(
        "SELECT user_pseudonym, tags['user.email'] AS tag FROM usage_events "
        "WHERE strftime(ts, '%Y-%m') = ?",
        [month],
    )
    return {(r["user_pseudonym"], r["tag"]) for r in rows}


def _state(ledger: Ledger) -> tuple[Any, ...]:
    return (
        ledger.session.db.all(
            "SELECT event_key, user_pseudonym, tags FROM usage_events ORDER BY 1"
        ),
        ledger.session.db.all("SELECT * FROM ingests ORDER BY id"),
        ledger.session.db.all("SELECT key, value FROM ledger_meta ORDER BY key"),
        ledger.governance.audit.audit_log(limit=1)[0].seq,
    )


@pytest.fixture
def key_file(ledger: Ledger) -> Path:
    """Where the ledger's key file is made: in the user's configuration folder (a temporary
    one in tests), named by the ledger's id."""
    return key_file_of(ledger)


@pytest.fixture
def march(ledger: Ledger, tmp_path: Path) -> Ledger:
    """Ana's and Bo's calls of March ingested: the key was made then."""
    calls = _calls(tmp_path, "march.csv", "2026-03", ["ana@corp", "bo@corp"])
    ledger.costs.ingest_usage(calls, "csv", MAPPING)
    return ledger


def test_the_key_is_made_at_the_first_person_and_its_fingerprint_remembered(
    march: Ledger, key_file: Path, _config_in_tmp: Path
) -> None:
    assert key_file.parent == _config_in_tmp / "valuegap" / "keys"
    assert key_file.name == march.session.db.get_meta("ledger_id") + ".key"
    key = key_file.read_text().strip().encode()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.parent.stat().st_mode & 0o777 == 0o700
    assert [f.name for f in march.path.parent.iterdir() if f.suffix == ".key"] == []
    assert march.session.db.get_meta("pseudonym_key_fingerprint") == _fingerprint(key)
    ana = _pseudonym(key, "ana@corp")
    assert (ana, ana) in _pseudonyms(march, "2026-03")
    status = march.governance.keys.key_status()
    assert (status.state, status.fingerprint, status.location) == (
        "in_place", _fingerprint(key), str(key_file)
    )  # fmt: skip


def test_a_missing_key_stops_ingest_of_person_data_and_changes_nothing(
    march: Ledger, key_file: Path, tmp_path: Path
) -> None:
    # The case as found: the key file was lost (a restore without it), and the next ingest
    # silently made a new key, giving Ana a second pseudonym.
    expected = _fingerprint(key_file.read_text().strip().encode())
    key_file.unlink()
    before = _state(march)
    april = _calls(tmp_path, "april.csv", "2026-04", ["ana@corp"])
    with pytest.raises(ConfigError) as refused:
        march.costs.ingest_usage(april, "csv", MAPPING)
    message = str(refused.value)
    assert message.startswith(f"{april} was not ingested; nothing from it was stored")
    assert (
        f"VALUEGAP_PSEUDONYM_KEY (not set), then the key file {key_file} (no such file), then "
        f"{march.path}.key (no such file)"
    ) in message
    assert f"its fingerprint must be {expected}" in message
    assert "`Ledger.governance.keys.restore_key()`" in message
    assert "`Ledger.governance.keys.rotate_key()`" in message
    assert _state(march) == before
    assert not key_file.exists()
    # OpenTelemetry spans are pseudonymised as they are read: refused the same way.
    spans = tmp_path / "spans.jsonl"
    spans.write_text(json.dumps({"traceId": "a" * 32, "spanId": "b" * 16,
        "startTimeUnixNano": "1775037600000000000",
        "attributes": {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
                       "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 1,
                       "user.email": "ana@corp"}}) + "\n")  # fmt: skip
    with pytest.raises(ConfigError, match="this ledger's pseudonymisation key is missing"):
        march.costs.ingest_usage(spans, "otel")
    assert _state(march) == before


def test_ingest_without_person_data_needs_no_key(
    march: Ledger, key_file: Path, tmp_path: Path
) -> None:
    key_file.unlink()
    nobody = tmp_path / "nobody.csv"
    nobody.write_text("ts,model,vendor\n2026-04-01T10:00:00Z,gpt-4o,openai\n")
    result = march.costs.ingest_usage(nobody, "csv", {"timestamp": "ts", "request_model": "model",
                                                "provider": "vendor"})  # fmt: skip
    assert result.rows_added == 1
    assert not key_file.exists()


def test_restoring_the_backed_up_key_gives_the_same_pseudonyms(
    march: Ledger, key_file: Path, tmp_path: Path
) -> None:
    key = key_file.read_text().strip().encode()
    backup = tmp_path / "backup.key"
    shutil.copy(key_file, backup)
    key_file.unlink()
    status = march.governance.keys.restore_key(backup)
    assert (status.state, status.fingerprint) == ("in_place", _fingerprint(key))
    assert key_file.read_text().strip().encode() == key
    assert key_file.stat().st_mode & 0o777 == 0o600
    march.costs.ingest_usage(
        _calls(tmp_path, "april.csv", "2026-04", ["Ana@Corp "]), "csv", MAPPING
    )
    ana = _pseudonym(key, "ana@corp")
    assert _pseudonyms(march, "2026-04") == {(ana, ana)}
    assert march.session.db.one("SELECT count(DISTINCT user_pseudonym) FROM usage_events") == (2,)
    entry = march.governance.audit.audit_log(limit=2)[1]
    assert (entry.action, json.loads(entry.after or "{}")) == (
        "key.restore", {"fingerprint": _fingerprint(key), "from": "backup.key"}
    )  # fmt: skip


def test_a_backup_of_another_key_is_not_restored(
    march: Ledger, key_file: Path, tmp_path: Path
) -> None:
    expected = _fingerprint(key_file.read_text().strip().encode())
    key_file.unlink()
    other = tmp_path / "other.key"
    other.write_text("not the key\n")
    with pytest.raises(ValidationError) as refused:
        march.governance.keys.restore_key(other)
    assert f"fingerprint {_fingerprint(b'not the key')}, not this ledger's {expected}" in str(
        refused.value
    )
    assert not key_file.exists()
    for hostile in (b"", b"\xff\xfe\x00binary"):
        other.write_bytes(hostile)
        with pytest.raises(ValidationError, match="is not a key file"):
            march.governance.keys.restore_key(other)
    assert not key_file.exists()


def test_rotating_re_keys_stored_pseudonyms_so_people_stay_linked(
    march: Ledger, key_file: Path, tmp_path: Path
) -> None:
    old = key_file.read_text().strip().encode()
    rotation = march.governance.keys.rotate_key()
    chain = key_file.read_text().split()
    assert chain[0].encode() == old and len(chain) == 2
    new = chain[1].encode()
    assert (rotation.rekeyed, rotation.linked) == (2, True)
    assert (
        rotation.status.fingerprint
        == hmac.new(old + b"\n" + new, b"valuegap key fingerprint", hashlib.sha256).hexdigest()[:16]
    )
    ana = _pseudonym(new, _pseudonym(old, "ana@corp"))
    assert (ana, ana) in _pseudonyms(march, "2026-03")
    march.costs.ingest_usage(_calls(tmp_path, "april.csv", "2026-04", ["ana@corp"]), "csv", MAPPING)
    assert _pseudonyms(march, "2026-04") == {(ana, ana)}
    assert march.session.db.one("SELECT count(DISTINCT user_pseudonym) FROM usage_events") == (2,)
    entry = march.governance.audit.audit_log(limit=2)[1]
    assert entry.action == "key.rotate"
    assert json.loads(entry.after or "{}") == {
        "fingerprint": rotation.status.fingerprint, "linked": True, "pseudonyms_rekeyed": 2,
    }  # fmt: skip
    logged = " ".join(f"{e.before} {e.after}" for e in march.governance.audit.audit_log())
    assert old.decode() not in logged and new.decode() not in logged


def test_rotating_without_the_key_keeps_stored_pseudonyms_and_records_the_split(
    march: Ledger, key_file: Path, tmp_path: Path
) -> None:
    old = key_file.read_text().strip().encode()
    key_file.unlink()
    rotation = march.governance.keys.rotate_key()
    assert (rotation.rekeyed, rotation.linked) == (0, False)
    assert rotation.status.unlinked_at is not None
    new = key_file.read_text().strip().encode()
    assert _pseudonym(old, "ana@corp") in {p for p, _ in _pseudonyms(march, "2026-03")}
    march.costs.ingest_usage(_calls(tmp_path, "april.csv", "2026-04", ["ana@corp"]), "csv", MAPPING)
    assert _pseudonyms(march, "2026-04") == {(_pseudonym(new, "ana@corp"),) * 2}
    entry = march.governance.audit.audit_log(limit=2)[1]
    assert json.loads(entry.after or "{}")["linked"] is False


def test_the_environment_key_is_checked_against_the_fingerprint(
    ledger: Ledger, key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VALUEGAP_PSEUDONYM_KEY", "secret one")
    ledger.costs.ingest_usage(_calls(tmp_path, "m.csv", "2026-03", ["ana@corp"]), "csv", MAPPING)
    ana = _pseudonym(b"secret one", "ana@corp")
    assert _pseudonyms(ledger, "2026-03") == {(ana, ana)}
    assert ledger.governance.keys.key_status().fingerprint == _fingerprint(b"secret one")
    assert not key_file.exists()
    april = _calls(tmp_path, "a.csv", "2026-04", ["ana@corp"])
    monkeypatch.setenv("VALUEGAP_PSEUDONYM_KEY", "secret two")
    with pytest.raises(ConfigError) as refused:
        ledger.costs.ingest_usage(april, "csv", MAPPING)
    assert (
        f"the pseudonymisation key in VALUEGAP_PSEUDONYM_KEY (fingerprint "
        f"{_fingerprint(b'secret two')}) is not this ledger's (fingerprint "
        f"{_fingerprint(b'secret one')})"
    ) in str(refused.value)
    with pytest.raises(ConfigError, match="unset it"):
        ledger.governance.keys.rotate_key()
    monkeypatch.delenv("VALUEGAP_PSEUDONYM_KEY")
    with pytest.raises(ConfigError, match=r"VALUEGAP_PSEUDONYM_KEY \(not set\)"):
        ledger.costs.ingest_usage(april, "csv", MAPPING)
    assert not key_file.exists()


def test_a_ledger_made_before_fingerprints_takes_the_key_present(
    march: Ledger, key_file: Path, tmp_path: Path
) -> None:
    march.session.db.execute("DELETE FROM ledger_meta WHERE key = 'pseudonym_key_fingerprint'")
    key_file.write_text("the key of an older ledger\n")
    march.costs.ingest_usage(_calls(tmp_path, "april.csv", "2026-04", ["ana@corp"]), "csv", MAPPING)
    assert march.governance.keys.key_status().fingerprint == _fingerprint(
        b"the key of an older ledger"
    )
    # Without the key and without a fingerprint, stored pseudonyms still forbid a new key.
    march.session.db.execute("DELETE FROM ledger_meta WHERE key = 'pseudonym_key_fingerprint'")
    key_file.unlink()
    may = _calls(tmp_path, "may.csv", "2026-05", ["ana@corp"])
    with pytest.raises(ConfigError, match="holds pseudonyms but neither their key nor its"):
        march.costs.ingest_usage(may, "csv", MAPPING)
    assert not key_file.exists()


def test_only_an_admin_manages_the_key(march: Ledger, tmp_path: Path) -> None:
    march.governance.users.add_user("fin", "finance")
    finance = march.acting_as("fin")
    for act in (finance.governance.keys.key_status, finance.governance.keys.rotate_key,
                lambda: finance.governance.keys.restore_key(tmp_path / "x.key")):  # fmt: skip
        with pytest.raises(PermissionDenied, match="may not manage the pseudonymisation key"):
            act()


def test_key_commands(march: Ledger, db_path: Path, key_file: Path, tmp_path: Path) -> None:
    march.close()
    runner = CliRunner()
    common = ["--db", str(db_path), "--as", "alice"]
    old = key_file.read_text().strip()
    shown = runner.invoke(app, ["key", "show", "--format", "json", *common])
    assert json.loads(shown.output) == {
        "location": str(key_file), "fingerprint": _fingerprint(old.encode()),
        "state": "in_place", "found_fingerprint": _fingerprint(old.encode()),
        "keys_in_chain": 1, "unlinked_at": None, "move_to": None,
    }  # fmt: skip
    backup = tmp_path / "backup.key"
    shutil.copy(key_file, backup)
    rotated = runner.invoke(app, ["key", "rotate", *common])
    assert rotated.exit_code == 0, rotated.output
    assert "2 stored pseudonyms re-keyed; people stay linked across it." in rotated.output
    new = key_file.read_text().split()[1]
    refused = runner.invoke(app, ["key", "restore", str(backup), *common])
    assert refused.exit_code == 1 and "holds a key with fingerprint" in refused.output
    for output in (shown.output, rotated.output, refused.output):
        assert old not in output and new not in output


def test_a_copy_of_a_ledger_finds_its_key_and_another_ledger_gets_its_own(
    march: Ledger, key_file: Path, tmp_path: Path
) -> None:
    march.close()
    copy = tmp_path / "elsewhere" / "copy.duckdb"
    copy.parent.mkdir()
    shutil.copy(march.path, copy)
    with Ledger.open(copy, actor="alice") as copied:
        april = _calls(tmp_path, "april.csv", "2026-04", ["ana@corp"])
        copied.costs.ingest_usage(april, "csv", MAPPING)
        ana = _pseudonym(key_file.read_text().strip().encode(), "ana@corp")
        assert _pseudonyms(copied, "2026-04") == {(ana, ana)}
        assert copied.governance.keys.key_status().location == str(key_file)
    with Ledger.init(tmp_path / "other.duckdb", actor="alice") as other:
        other.costs.ingest_usage(april, "csv", MAPPING)
        assert key_file_of(other) != key_file and key_file_of(other).is_file()
    assert len(list(key_file.parent.iterdir())) == 2


def test_the_setting_names_the_key_file(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "secrets" / "ledger.key"
    monkeypatch.setenv("VALUEGAP_PSEUDONYM_KEY_FILE", str(chosen))
    settings = load_settings({"db": db_path})
    assert settings.pseudonym_key_file == str(chosen)
    with Ledger.init(db_path, actor="alice", settings=settings) as ledger:
        ledger.costs.ingest_usage(
            _calls(tmp_path, "m.csv", "2026-03", ["ana@corp"]), "csv", MAPPING
        )
        assert chosen.stat().st_mode & 0o777 == 0o600
        assert ledger.governance.keys.key_status().location == str(chosen)
    assert not (config_directory() / "keys").exists()


def test_a_key_file_that_cannot_be_written_is_a_clear_error_and_nothing_is_stored(
    db_path: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder\n")
    settings = Settings(db=db_path, pseudonym_key_file=str(blocked / "ledger.key"))
    with Ledger.init(db_path, actor="alice", settings=settings) as ledger:
        before = _state(ledger)
        calls = _calls(tmp_path, "m.csv", "2026-03", ["ana@corp"])
        with pytest.raises(ConfigError) as refused:
            ledger.costs.ingest_usage(calls, "csv", MAPPING)
        assert str(refused.value).startswith(
            f"The pseudonymisation key file {blocked / 'ledger.key'} cannot be written ("
        )
        assert "set pseudonym_key_file (VALUEGAP_PSEUDONYM_KEY_FILE)" in str(refused.value)
        assert _state(ledger) == before
    result = CliRunner().invoke(
        app,
        ["key", "rotate", "--db", str(db_path), "--as", "alice"],
        env={"VALUEGAP_PSEUDONYM_KEY_FILE": str(blocked / "ledger.key")},
    )
    assert result.exit_code == 1, result.output
    assert "cannot be written" in result.output and "Traceback" not in result.output


@pytest.fixture
def key_beside(march: Ledger, key_file: Path) -> Path:
    """The ledger's key where an older valuegap kept it: beside the ledger."""
    beside = march.path.with_name(march.path.name + ".key")
    key_file.rename(beside)
    return beside


def test_a_key_left_beside_the_ledger_keeps_working_until_it_is_moved(
    march: Ledger, key_beside: Path, key_file: Path, tmp_path: Path
) -> None:
    key = key_beside.read_text().strip().encode()
    march.costs.ingest_usage(_calls(tmp_path, "april.csv", "2026-04", ["ana@corp"]), "csv", MAPPING)
    ana = _pseudonym(key, "ana@corp")
    assert _pseudonyms(march, "2026-04") == {(ana, ana)}
    assert not key_file.exists()  # no second key was made
    status = march.governance.keys.key_status()
    assert (status.state, status.location, status.move_to) == (
        "in_place",
        str(key_beside),
        str(key_file),
    )
    moved = march.governance.keys.move_key()
    assert (moved.state, moved.location, moved.move_to) == ("in_place", str(key_file), None)
    assert key_file.read_text().strip().encode() == key
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert not key_beside.exists()
    assert [f.name for f in key_file.parent.iterdir()] == [key_file.name]  # no staged file left
    with pytest.raises(ConfigError, match="There is no key file beside the ledger"):
        march.governance.keys.move_key()


def test_a_key_beside_the_ledger_that_differs_from_the_one_in_place_is_not_moved(
    march: Ledger, key_beside: Path, key_file: Path
) -> None:
    key_file.write_text("another key\n")
    with pytest.raises(ConfigError, match="hold different keys, so neither was changed"):
        march.governance.keys.move_key()
    assert key_beside.exists() and key_file.read_text() == "another key\n"
    # The same key in both places: the one beside the ledger is removed.
    shutil.copy(key_beside, key_file)
    march.governance.keys.move_key()
    assert not key_beside.exists() and key_file.exists()


def test_rotating_a_key_left_beside_the_ledger_writes_the_chain_where_keys_are_kept(
    march: Ledger, key_beside: Path, key_file: Path
) -> None:
    old = key_beside.read_text().strip()
    rotation = march.governance.keys.rotate_key()
    assert rotation.linked and rotation.status.location == str(key_file)
    assert key_file.read_text().split()[0] == old
    assert not key_beside.exists()


def test_key_show_and_move_on_the_command_line(
    march: Ledger, key_beside: Path, key_file: Path
) -> None:
    march.close()
    runner = CliRunner()
    common = ["--db", str(march.path), "--as", "alice"]
    shown = runner.invoke(app, ["key", "show", *common])
    assert shown.exit_code == 0, shown.output
    assert f"`valuegap key move` moves it to {key_file}." in " ".join(shown.output.split())
    moved = runner.invoke(app, ["key", "move", *common])
    assert moved.exit_code == 0, moved.output
    assert moved.output.strip() == f"Moved the key file beside the ledger to {key_file}."
    assert key_file.exists() and not key_beside.exists()
    again = runner.invoke(app, ["key", "show", "--format", "json", *common])
    assert json.loads(again.output)["location"] == str(key_file)


def test_the_configuration_folder_is_xdg_config_home_else_in_the_home(tmp_path: Path) -> None:
    assert config_directory({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "valuegap"
    assert config_directory({}) == Path.home() / ".config" / "valuegap"
