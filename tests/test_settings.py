from __future__ import annotations

from pathlib import Path

import pytest

from valuegap.errors import ConfigError
from valuegap.settings import Settings, acting_user, load_settings


def test_defaults() -> None:
    settings = load_settings(env={}, config_file=None)
    assert settings == Settings(db=Path("valuegap.duckdb"), reporting_currency="USD")


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "valuegap.toml"
    config.write_text('db = "from-file.duckdb"\nreporting_currency = "EUR"\n')

    from_file = load_settings(env={}, config_file=config)
    assert (from_file.db, from_file.reporting_currency) == (Path("from-file.duckdb"), "EUR")

    env = {"VALUEGAP_DB": "from-env.duckdb", "VALUEGAP_REPORTING_CURRENCY": "GBP"}
    from_env = load_settings(env=env, config_file=config)
    assert (from_env.db, from_env.reporting_currency) == (Path("from-env.duckdb"), "GBP")

    from_flag = load_settings({"db": "flag.duckdb", "reporting_currency": None}, env, config)
    assert (from_flag.db, from_flag.reporting_currency) == (Path("flag.duckdb"), "GBP")


def test_config_file_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('reporting_currency = "CHF"\n')
    assert load_settings(env={"VALUEGAP_CONFIG": str(config)}).reporting_currency == "CHF"


def test_unknown_setting_is_named(tmp_path: Path) -> None:
    config = tmp_path / "valuegap.toml"
    config.write_text('reporting_curency = "EUR"\n')
    with pytest.raises(ConfigError, match="reporting_curency"):
        load_settings(env={}, config_file=config)


def test_bad_currency_is_refused() -> None:
    with pytest.raises(ConfigError, match="ISO 4217"):
        load_settings({"reporting_currency": "euro"}, env={})


def test_acting_user_precedence() -> None:
    assert acting_user("flag", env={"VALUEGAP_USER": "env"}) == "flag"
    assert acting_user(None, env={"VALUEGAP_USER": "env"}) == "env"
    assert acting_user(None, env={})  # the login name


def test_cost_column_is_one_of_focus_cost_columns() -> None:
    assert load_settings({"cost_column": "BilledCost"}, env={}).cost_column == "BilledCost"
    with pytest.raises(ConfigError, match="EffectiveCost, BilledCost"):
        load_settings({"cost_column": "Cost"}, env={})


def test_a_settings_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    config = tmp_path / "valuegap.toml"
    config.write_bytes(b'\xef\xbb\xbfreporting_currency = "EUR"\n')
    assert load_settings(env={}, config_file=config).reporting_currency == "EUR"


def test_a_settings_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    config = tmp_path / "valuegap.toml"
    config.write_bytes(b'# Z\xfcrich office\nreporting_currency = "CHF"\n')
    with pytest.raises(ConfigError) as refused:
        load_settings(env={}, config_file=config)
    assert f"{config}, line 1, byte offset 3: is not UTF-8 text" in str(refused.value)


def test_a_deeply_nested_settings_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "valuegap.toml"
    config.write_text("person_attributes = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ConfigError, match="is nested too deeply to be a settings file"):
        load_settings(env={}, config_file=config)


def test_token_counts_holding_a_list_is_a_settings_error(tmp_path: Path) -> None:
    config = tmp_path / "valuegap.toml"
    config.write_text('token_counts = {anthropic = {cache = ["separate"]}}\n')
    with pytest.raises(ConfigError, match="token_counts must be tables of cache and reasoning"):
        load_settings(env={}, config_file=config)


def test_lock_timeout_from_each_source(tmp_path: Path) -> None:
    assert load_settings(env={}).lock_timeout == 60
    config = tmp_path / "valuegap.toml"
    config.write_text("lock_timeout = 5\n")
    assert load_settings(env={}, config_file=config).lock_timeout == 5
    env = {"VALUEGAP_LOCK_TIMEOUT": "0.5"}
    assert load_settings(env=env, config_file=config).lock_timeout == 0.5
    for wrong in ("-1", "nan", "soon"):
        with pytest.raises(ConfigError, match="lock_timeout"):
            load_settings(env={"VALUEGAP_LOCK_TIMEOUT": wrong})


def test_threads_is_a_whole_number_from_one(tmp_path: Path) -> None:
    assert load_settings(env={}).threads is None  # DuckDB's own: one per core
    assert load_settings(env={"VALUEGAP_THREADS": "1"}).threads == 1
    config = tmp_path / "valuegap.toml"
    config.write_text("threads = 4\n")
    assert load_settings(env={}, config_file=config).threads == 4
    for refused in ("0", "-1", "1.5", "two", "500"):
        with pytest.raises(ConfigError, match="threads must be"):
            load_settings(env={"VALUEGAP_THREADS": refused})
    config.write_text("threads = true\n")
    with pytest.raises(ConfigError, match="threads must be a whole number"):
        load_settings(env={}, config_file=config)


def test_a_ledger_opened_with_threads_gives_duckdb_that_many(tmp_path: Path) -> None:
    from valuegap import Ledger

    db = tmp_path / "ledger.duckdb"
    with Ledger.init(db, actor="alice", settings=Settings(db=db, threads=1)) as ledger:
        row = ledger.session.db.one("SELECT current_setting('threads')")
        assert row is not None and int(row[0]) == 1


def test_the_engine_table_names_spark_connect(tmp_path: Path) -> None:
    config = tmp_path / "valuegap.toml"
    config.write_text('[engine]\nkind = "spark"\nremote = "sc://spark.example:15002"\n')
    settings = load_settings(env={}, config_file=config)
    assert (settings.engine, settings.engine_remote) == ("spark", "sc://spark.example:15002")
    flagged = load_settings({"engine": "duckdb"}, env={}, config_file=config)
    assert flagged.engine == "duckdb"


def test_an_unknown_engine_or_address_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="engine 'hadoop' is not one of duckdb, spark"):
        Settings(engine="hadoop")
    with pytest.raises(ConfigError, match="not a Spark Connect address"):
        Settings(engine="spark", engine_remote="http://spark.example")
    config = tmp_path / "valuegap.toml"
    config.write_text('[engine]\nkind = "spark"\nport = 15002\n')
    with pytest.raises(ConfigError, match=r"\[engine\] has 1 unknown key, port"):
        load_settings(env={}, config_file=config)
