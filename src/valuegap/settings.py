"""One typed settings object, from four sources in rising precedence:
defaults < ``valuegap.toml`` < ``VALUEGAP_*`` environment variables < command-line flags."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import field, fields, replace
from pathlib import Path
from typing import Any

from valuegap.errors import ConfigError, Problem, ValidationError, shown
from valuegap.model.focus import COST_COLUMNS
from valuegap.model.providers import TokenService
from valuegap.model.usage import TokenCounts
from valuegap.model.webhooks import Webhook
from valuegap.records import record
from valuegap.words import counted

CONFIG_FILE = "valuegap.toml"
ENV_PREFIX = "VALUEGAP_"
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_THREADS = 256
MIN_GROUP_SIZE = 5  # the smallest k, the least group an adoption figure may show
MAX_RETENTION_MONTHS = 1200
ENGINES = ("duckdb", "spark")
_ENGINE_TABLE = {"kind": "engine", "remote": "engine_remote", "master": "engine_master"}
_LADDER_SHARES = tuple(
    (f"ladder_{name}", float)
    for name in ("awareness", "training", "experimentation", "regular_use", "workflow_share")
)
_LADDER_WEEKS = ("ladder_regular_weeks", "ladder_window_weeks")


@record
class Settings:
    db: Path = Path("valuegap.duckdb")
    """The ledger: an embedded DuckDB file."""
    reporting_currency: str = "USD"
    """ISO 4217 code every report converts money into."""
    cost_column: str = "EffectiveCost"
    """The FOCUS cost column reports use: EffectiveCost (amortised, after discounts),
    BilledCost, ListCost or ContractedCost."""
    memory_limit: str | None = None
    """The most memory DuckDB may use, e.g. "2GB"; beyond it, work spills to disk.
    Default: DuckDB's own (80 % of the machine's memory)."""
    lock_timeout: float = 60.0
    """How long, in seconds, a command waits for a ledger file that another process holds
    (one process writes, or many read, at a time) before it gives up naming that process."""
    threads: int | None = None
    """The most threads DuckDB gives one statement. Default: DuckDB's own (one per core).
    1 suits a process that many callers share at once (a server's request handlers, agents
    asking for decisions): each statement then runs on its caller's thread, never waiting on
    DuckDB's own (docs/architecture.md, "Concurrency"); a large ingest then uses one core."""
    confidence_level: float = 0.95
    """The confidence level of every attribution interval, between 0.5 and 1."""
    quality_drift_threshold: float = 0.05
    """A quality score this far below the PoC's reference (e.g. 0.05 = five points of
    accuracy) is flagged as drift."""
    override_rate_threshold: float = 0.5
    """A review recommends ``fix`` when people override more than this share of an
    initiative's decisions."""
    count_uncaptured_capacity: bool = False
    """Count the value of hours saved that were not captured (neither redeployed nor a cost
    reduced). By default only captured hours are realised value."""
    provider_aliases: dict[str, str] = field(default_factory=dict)
    """Usage providers the price catalogue does not know, as the provider they stand for:
    ``{"my-gateway" = "openai"}``. Without one, such usage is unpriced, never guessed."""
    token_services: tuple[TokenService, ...] = ()
    """FOCUS services that bill a usage provider's tokens, tried before the defaults
    (``[[token_services]]`` with ``invoice_provider``, ``service`` and ``usage_provider``)."""
    token_counts: dict[str, TokenCounts] = field(default_factory=dict)
    """Per usage source (``otel``, ``litellm``, ``csv``, or an OpenTelemetry instrumentation
    scope's name): whether cache and reasoning tokens are included in input and output tokens
    (the default) or counted separately."""
    person_attributes: tuple[str, ...] = ()
    """More tag names that identify a person (besides OpenTelemetry's ``user.*``, ``enduser.*``
    and ``client.address``, and the tags ``user`` and ``end_user``): their values are
    pseudonymised before anything is written, in usage and in FOCUS tags."""
    audit_key: str | None = None
    """The Ed25519 private key that signs audit checkpoints (made on first use, readable by
    its owner only). Default: ``audit-key.pem`` in ``$XDG_CONFIG_HOME/valuegap`` (or
    ``~/.config/valuegap``); never in the ledger file."""
    pseudonym_key_file: str | None = None
    """The file of the key that pseudonymises people (made at the first ingest that meets a
    person, readable by its owner only). Default: ``keys/<ledger id>.key`` in
    ``$XDG_CONFIG_HOME/valuegap`` (or ``~/.config/valuegap``), one per ledger, outside the
    ledger's folder. ``VALUEGAP_PSEUDONYM_KEY``, when set, is the key itself."""
    min_group_size: int = 5
    """k: no adoption figure is shown for a group of fewer people; smaller groups roll up
    into their parent unit (docs/privacy.md). 5 at least: it may be raised, never lowered."""
    adoption_retention_months: int = 13
    """Pseudonymous adoption records older than this are reduced to weekly aggregates per
    unit (people and uses) and deleted."""
    ladder_awareness: float = 0.5
    """The adoption ladder: the share of a group's licensed people aware (or higher) that
    the ``awareness`` rung needs (docs/adoption.md)."""
    ladder_training: float = 0.3
    """The share trained (or higher) that the ``training`` rung needs."""
    ladder_experimentation: float = 0.3
    """The share that used the tool at least once that ``experimentation`` needs."""
    ladder_regular_use: float = 0.3
    """The share of regular users that ``regular_use`` needs."""
    ladder_workflow_share: float = 0.5
    """The share of the process volume handled with AI that ``workflow_integration`` needs."""
    ladder_regular_weeks: int = 3
    """A regular user is active in at least this many of the last ``ladder_window_weeks``."""
    ladder_window_weeks: int = 4
    """The whole weeks before the report date's week that regular use looks at."""
    checkpoint_to: str | None = None
    """Where ``valuegap audit checkpoint`` delivers a signed checkpoint: a JSON-lines file, or
    an http(s) URL (a webhook) it is POSTed to."""
    alert_webhooks: tuple[Webhook, ...] = ()
    """Where alerts are delivered: ``[[alert_webhooks]]`` with a ``name``, a ``url`` and a
    ``shape`` (``json``, ``slack`` or ``teams``)."""
    webhook_attempts: int = 3
    """How many times one delivery run tries a webhook that fails, waiting ``webhook_backoff``
    seconds, then twice as long, between tries; what still fails waits for the next run."""
    webhook_backoff: float = 1.0
    """Seconds before the second try of a failed delivery (doubled before each next one)."""
    engine: str = "duckdb"
    """Where rollups over external sources run: ``duckdb`` (embedded, the default) or
    ``spark`` (Apache Spark: ``engine_remote`` or ``engine_master``); ``[engine] kind``."""
    engine_remote: str | None = None
    """Spark Connect's address, e.g. ``sc://spark.example:15002``; ``[engine] remote``."""
    engine_master: str | None = None
    """A Spark master for a session in this process, e.g. ``local[2]`` to try Spark on one
    machine (default when neither is set: ``local[*]``); ``[engine] master``."""

    def __post_init__(self) -> None:
        aliases = {k.strip().lower(): v.strip().lower() for k, v in self.provider_aliases.items()}
        object.__setattr__(self, "provider_aliases", aliases)
        names = tuple(a.strip().lower() for a in self.person_attributes)
        object.__setattr__(self, "person_attributes", names)
        for name, kind in (("confidence_level", float), ("quality_drift_threshold", float),
                           ("override_rate_threshold", float), ("lock_timeout", float),
                           ("count_uncaptured_capacity", bool), ("webhook_attempts", int),
                           ("webhook_backoff", float), *_LADDER_SHARES):  # fmt: skip
            object.__setattr__(self, name, _typed(name, getattr(self, name), kind))
        for name in ("min_group_size", "adoption_retention_months", *_LADDER_WEEKS):
            object.__setattr__(self, name, _typed(name, getattr(self, name), int))
        for name, _ in _LADDER_SHARES:
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(
                    f"{name} must be a share from 0 to 1 (found {getattr(self, name)})"
                )
        if not 1 <= self.ladder_regular_weeks <= self.ladder_window_weeks:
            raise ConfigError(
                f"ladder_regular_weeks must be 1 to ladder_window_weeks "
                f"({self.ladder_window_weeks}) (found {self.ladder_regular_weeks})"
            )
        if self.min_group_size < MIN_GROUP_SIZE:
            raise ConfigError(
                f"min_group_size {self.min_group_size} is below {MIN_GROUP_SIZE}: a smaller "
                "group could single people out; it may be raised, never lowered"
            )
        if not 1 <= self.adoption_retention_months <= MAX_RETENTION_MONTHS:
            raise ConfigError(
                f"adoption_retention_months must be 1 to {MAX_RETENTION_MONTHS} (found "
                f"{self.adoption_retention_months})"
            )
        if self.threads is not None:
            object.__setattr__(self, "threads", _typed("threads", self.threads, int))
            if not 1 <= self.threads <= MAX_THREADS:
                raise ConfigError(f"threads must be 1 to {MAX_THREADS} (found {self.threads})")
        if not 0.5 <= self.confidence_level < 1:
            raise ConfigError(
                f"confidence_level {self.confidence_level} must be at least 0.5 and below 1"
            )
        if not self.lock_timeout >= 0:  # NaN too
            raise ConfigError(
                f"lock_timeout {self.lock_timeout} must be a number of seconds, 0 or more"
            )
        if not 1 <= self.webhook_attempts <= 10:
            raise ConfigError(f"webhook_attempts must be 1 to 10 (found {self.webhook_attempts})")
        if not 0 <= self.webhook_backoff <= 60:  # NaN too
            raise ConfigError(f"webhook_backoff {self.webhook_backoff} must be 0 to 60 seconds")
        problems = [p for hook in self.alert_webhooks for p in hook.problems()]
        if len({hook.name for hook in self.alert_webhooks}) < len(self.alert_webhooks):
            problems.append(Problem("alert_webhooks", "each webhook needs a name of its own"))
        if problems:
            raise ConfigError(
                "alert_webhooks: " + "; ".join(f"{p.where} {p.message}" for p in problems)
            )
        if self.engine not in ENGINES:
            raise ConfigError(f"engine {self.engine!r} is not one of {', '.join(ENGINES)}")
        if self.engine_remote and not self.engine_remote.startswith("sc://"):
            raise ConfigError(
                f"engine_remote {self.engine_remote!r} is not a Spark Connect address such as "
                "sc://spark.example:15002"
            )
        if self.quality_drift_threshold < 0:
            raise ConfigError("quality_drift_threshold must not be negative")
        if not 0 <= self.override_rate_threshold <= 1:
            raise ConfigError("override_rate_threshold must be between 0 and 1")
        if self.cost_column not in COST_COLUMNS:
            raise ConfigError(
                f"cost_column {self.cost_column!r} is not one of {', '.join(COST_COLUMNS)}"
            )
        if not _CURRENCY.match(self.reporting_currency):
            raise ConfigError(
                f"reporting_currency {self.reporting_currency!r} is not an ISO 4217 code "
                "such as USD or EUR"
            )


_KEYS = {f.name for f in fields(Settings)}
_TABLES = {
    "provider_aliases",
    "token_services",
    "token_counts",
    "person_attributes",
    "alert_webhooks",
}


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge the four sources. ``flags`` with the value None are treated as not given.

    The config file is ``VALUEGAP_CONFIG`` if set, else ``valuegap.toml`` in the working
    directory if present.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(env[ENV_PREFIX + "CONFIG"])
        if not config_file.is_file():
            raise ConfigError(f"VALUEGAP_CONFIG names {config_file}, which is not a file")
    if config_file is None and Path(CONFIG_FILE).is_file():
        config_file = Path(CONFIG_FILE)
    if config_file is not None:
        values.update(_read_config_file(config_file))
    for key in _KEYS - _TABLES:
        if (value := env.get(ENV_PREFIX + key.upper())) not in (None, ""):
            values[key] = value
    values.update({k: v for k, v in (flags or {}).items() if v is not None and k in _KEYS})
    if "db" in values:
        values["db"] = Path(values["db"])
    return replace(Settings(), **values)


def _read_config_file(path: Path) -> dict[str, Any]:
    import tomllib  # here: compiling its patterns costs a command that has no valuegap.toml

    from valuegap.inputs import read_text

    try:
        data = tomllib.loads(read_text(path))
    except ValidationError as exc:
        raise ConfigError(str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply to be a settings file") from None
    if isinstance(data.get("engine"), dict):
        data.update(_engine_table(path, data.pop("engine")))
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: {counted(len(unknown), 'unknown setting')}, {', '.join(unknown)}; "
            f"the settings are {', '.join(sorted(_KEYS))}"
        )
    for key, value in data.items():
        if key in _TABLES:
            data[key] = _table(path, key, value)
        elif not isinstance(value, str | int | float | bool):
            raise ConfigError(f"{path}: {key} must be a string or a number (found {shown(value)})")
    return data


def _engine_table(path: Path, table: dict[str, Any]) -> dict[str, Any]:
    """``[engine]`` (kind, remote, master) as the settings engine, engine_remote and
    engine_master."""
    unknown = sorted(set(table) - set(_ENGINE_TABLE))
    if unknown:
        raise ConfigError(
            f"{path}: [engine] has {counted(len(unknown), 'unknown key')}, {', '.join(unknown)}; "
            f"its keys are {', '.join(_ENGINE_TABLE)}"
        )
    if not all(isinstance(v, str) for v in table.values()):
        raise ConfigError(f"{path}: [engine] kind, remote and master must be strings")
    return {_ENGINE_TABLE[k]: v for k, v in table.items()}


def _table(path: Path, key: str, value: Any) -> Any:
    """A setting that is a table or a list in ``valuegap.toml``, in its type."""

    def fail(expected: str) -> ConfigError:
        return ConfigError(f"{path}: {key} must be {expected} (found {shown(value)})")

    if key == "person_attributes":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail('a list of attribute names, e.g. ["employee.id"]')
        return tuple(value)
    if key == "provider_aliases":
        if not isinstance(value, dict) or not all(
            isinstance(v, str) and v.strip() for v in value.values()
        ):
            raise fail('a table of provider names, e.g. {"my-gateway" = "openai"}')
        return dict(value)
    if key == "token_services":
        names = {"invoice_provider", "service", "usage_provider"}
        if not isinstance(value, list) or not all(
            isinstance(v, dict) and set(v) == names and all(isinstance(x, str) for x in v.values())
            for v in value
        ):
            raise fail("a list of tables, each with invoice_provider, service and usage_provider")
        return tuple(TokenService(**v) for v in value)
    if key == "alert_webhooks":
        names = {"name", "url", "shape"}
        if not isinstance(value, list) or not all(
            isinstance(v, dict)
            and {"name", "url"} <= set(v) <= names
            and all(isinstance(x, str) for x in v.values())
            for v in value
        ):
            # Not shown: a webhook's URL may be its secret.
            raise ConfigError(
                f"{path}: alert_webhooks must be a list of tables, each with a name, a url and "
                "a shape (json, slack or teams)"
            )
        return tuple(Webhook(**v) for v in value)
    if not isinstance(value, dict) or not all(
        isinstance(v, dict)
        and set(v) <= {"cache", "reasoning"}
        and all(isinstance(x, str) for x in v.values())
        and set(v.values()) <= {"included", "separate"}
        for v in value.values()
    ):
        raise fail('tables of cache and reasoning, each "included" or "separate"')
    return {source: TokenCounts(**counts) for source, counts in value.items()}


def _typed(name: str, value: Any, kind: type) -> Any:
    """A setting given as text (environment, flags) in its type."""
    if isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool)):
        return value
    text = str(value).strip().lower()
    if kind is bool:
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        raise ConfigError(f"{name} must be true or false (found {shown(value)})")
    if kind is int:
        if isinstance(value, bool | float) or not (text.isascii() and text.isdigit()):
            raise ConfigError(f"{name} must be a whole number (found {shown(value)})")
        return int(text)
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number (found {shown(value)})") from None


def config_directory(env: Mapping[str, str] | None = None) -> Path:
    """valuegap's folder in the user's configuration directory, where its keys are kept:
    ``$XDG_CONFIG_HOME/valuegap``, else ``~/.config/valuegap``."""
    env = os.environ if env is None else env
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return config / "valuegap"


def acting_user(flag: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Who is acting: ``--as``, else ``VALUEGAP_USER``, else the login name."""
    env = os.environ if env is None else env
    return flag or env.get(ENV_PREFIX + "USER") or getpass.getuser()
