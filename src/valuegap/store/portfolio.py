"""Initiatives, metrics, stage history and control attestations in the ledger file."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, JsonValue

from valuegap.decimals import plain
from valuegap.model.portfolio import (
    AdoptionRamp,
    AgentSpec,
    Baseline,
    BusinessCase,
    CostEstimate,
    Initiative,
    InitiativeSpec,
    MetricSpec,
    PocEvaluation,
)
from valuegap.store.database import Database
from valuegap.store.literals import literal, text_list

M = TypeVar("M", bound=BaseModel)

# What a cached initiative is read from (store/read_cache.py).
INITIATIVE_TABLES = frozenset({"initiatives", "metrics"})
_INITIATIVE_COLUMNS = (
    "id, name, kind, business_unit, owner, sponsor, risk_tier, hypothesis, kill_criteria, "
    "case_currency, case_monthly_investment, case_monthly_value, case_ramp_ceiling, "
    "case_ramp_midpoint_month, case_ramp_steepness, case_band, poc_evaluation, "
    "production_cost_estimate, human_in_the_loop, fallback, agent"
)
_METRIC_COLUMNS = (
    "id, initiative_id, position, name, unit, direction, baseline_value, baseline_period, "
    "baseline_source, target, value_per_unit, currency, volume_basis, method, agreed_by, "
    "agreed_at, agreement_recorded_at, is_primary"
)


class PortfolioStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # Initiatives

    def initiatives(
        self, *, ids: list[str] | None = None, stage: str | None = None, unit: str | None = None
    ) -> list[Initiative]:
        if ids is None and stage is None and unit is None:
            # Every initiative, read once between writes: a report asks for them from several
            # parts (the cost allocation, the outcomes, the adoption units).
            return list(self._db.cached("initiatives", self._read_initiatives, INITIATIVE_TABLES))
        return self._read_initiatives(ids=ids, stage=stage, unit=unit)

    def _read_initiatives(
        self, *, ids: list[str] | None = None, stage: str | None = None, unit: str | None = None
    ) -> list[Initiative]:
        # Literals, not parameters: a read that binds one loads pandas (store/literals.py).
        where: list[str] = ["TRUE"]
        for column, value in (("stage", stage), ("business_unit", unit)):
            if value is not None:
                where.append(f"{column} = {literal(value)}")
        if ids is not None:
            where.append(f"list_contains({text_list(ids)}, id)")
        rows = self._db.all(
            f"SELECT {_INITIATIVE_COLUMNS}, stage FROM initiatives "
            f"WHERE {' AND '.join(where)} ORDER BY id"
        )
        metrics = self._metrics_by_initiative([r["id"] for r in rows])
        return [_initiative(row, metrics.get(row["id"], [])) for row in rows]

    def initiative(self, initiative_id: str) -> Initiative | None:
        def read() -> Initiative | None:
            found = self.initiatives(ids=[initiative_id])
            return found[0] if found else None

        return self._db.cached(("initiative", initiative_id), read, INITIATIVE_TABLES)

    def insert_initiative(self, spec: InitiativeSpec, created_at: datetime) -> None:
        self._db.execute(
            f"INSERT INTO initiatives ({_INITIATIVE_COLUMNS}, stage, created_at) "
            f"VALUES ({', '.join('?' * len(_INITIATIVE_COLUMNS.split(', ')))}, 'proposed', ?)",
            [*_initiative_values(spec), created_at],
        )

    def update_initiative(self, spec: InitiativeSpec) -> None:
        names = _INITIATIVE_COLUMNS.split(", ")[1:]
        self._db.execute(
            f"UPDATE initiatives SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
            [*_initiative_values(spec)[1:], spec.id],
        )

    def set_stage(self, initiative_id: str, stage: str) -> None:
        self._db.execute("UPDATE initiatives SET stage = ? WHERE id = ?", [stage, initiative_id])

    # Metrics

    def metrics(self, initiative_id: str | None = None) -> list[tuple[str, MetricSpec]]:
        rows = self._db.all(
            f"SELECT {_METRIC_COLUMNS} FROM metrics WHERE {literal(initiative_id)} IS NULL "
            f"OR initiative_id = {literal(initiative_id)} ORDER BY initiative_id, position"
        )
        return [(row["initiative_id"], _metric(row)) for row in rows]

    def metric_owner(self, metric_id: str) -> str | None:
        row = self._db.one(f"SELECT initiative_id FROM metrics WHERE id = {literal(metric_id)}")
        return None if row is None else str(row[0])

    def insert_metric(self, initiative_id: str, metric: MetricSpec) -> None:
        row = self._db.one(
            "SELECT coalesce(max(position) + 1, 0) FROM metrics WHERE initiative_id = ?",
            [initiative_id],
        )
        position = int(row[0]) if row else 0
        self._db.execute(
            f"INSERT INTO metrics ({_METRIC_COLUMNS}) "
            f"VALUES ({', '.join('?' * len(_METRIC_COLUMNS.split(', ')))})",
            [metric.id, initiative_id, position, *_metric_values(metric)],
        )

    def update_metric(self, metric: MetricSpec) -> None:
        names = _METRIC_COLUMNS.split(", ")[3:]
        self._db.execute(
            f"UPDATE metrics SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
            [*_metric_values(metric), metric.id],
        )

    def _metrics_by_initiative(self, ids: list[str]) -> dict[str, list[MetricSpec]]:
        rows = self._db.all(
            f"SELECT {_METRIC_COLUMNS} FROM metrics "
            f"WHERE list_contains({text_list(ids)}, initiative_id) ORDER BY initiative_id, position"
        )
        found: dict[str, list[MetricSpec]] = {}
        for row in rows:
            found.setdefault(row["initiative_id"], []).append(_metric(row))
        return found

    # Stage history and readiness controls

    def add_stage_event(
        self,
        initiative_id: str,
        from_stage: str | None,
        to_stage: str,
        *,
        at: datetime,
        actor: str,
        decision: str,
        rules: JsonValue,  # the JSON form of the rules that decided
        reason: str | None = None,
        learnings: str | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO stage_history SELECT ?, "
            "(SELECT coalesce(max(seq) + 1, 1) FROM stage_history WHERE initiative_id = ?), "
            "?, ?, ?, ?, ?, ?, ?, ?",
            [
                initiative_id,
                initiative_id,
                from_stage,
                to_stage,
                at,
                actor,
                decision,
                json.dumps(rules),
                reason,
                learnings,
            ],
        )

    def stage_history(self, initiative_id: str) -> list[dict[str, Any]]:
        rows = self._db.all(
            "SELECT from_stage, to_stage, moved_at, actor, decision, rules, reason, learnings "
            f"FROM stage_history WHERE initiative_id = {literal(initiative_id)} ORDER BY seq"
        )
        for row in rows:
            row["rules"] = json.loads(row["rules"])
        return rows

    def attest(
        self, initiative_id: str, control: str, evidence: str, actor: str, at: datetime
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO control_attestations VALUES (?, ?, ?, ?, ?)",
            [initiative_id, control, evidence, actor, at],
        )

    def attestations(self, initiative_id: str) -> dict[str, dict[str, Any]]:
        def read() -> dict[str, dict[str, Any]]:
            rows = self._db.all(
                "SELECT control, evidence, attested_by, attested_at FROM control_attestations "
                f"WHERE initiative_id = {literal(initiative_id)} ORDER BY control"
            )
            return {row.pop("control"): row for row in rows}

        return self._db.cached(
            ("attestations", initiative_id), read, frozenset({"control_attestations"})
        )

    def attested(self, control: str) -> set[str]:
        """The initiatives that attested ``control``."""
        rows = self._db.all(
            f"SELECT initiative_id FROM control_attestations WHERE control = {literal(control)}"
        )
        return {str(row["initiative_id"]) for row in rows}

    def stages_entered(self, initiative_id: str) -> dict[str, datetime]:
        """When the initiative last entered each stage it has been at."""

        def read() -> dict[str, datetime]:
            rows = self._db.all(
                "SELECT to_stage, max(moved_at) AS at FROM stage_history "
                f"WHERE initiative_id = {literal(initiative_id)} GROUP BY to_stage"
            )
            return {row["to_stage"]: row["at"] for row in rows}

        return self._db.cached(
            ("stages_entered", initiative_id), read, frozenset({"stage_history"})
        )

    def stages_entered_by_initiative(self) -> dict[str, dict[str, datetime]]:
        """``stages_entered`` of every initiative, in one query."""
        rows = self._db.all(
            "SELECT initiative_id, to_stage, max(moved_at) AS at FROM stage_history GROUP BY ALL"
        )
        found: dict[str, dict[str, datetime]] = {}
        for row in rows:
            found.setdefault(row["initiative_id"], {})[row["to_stage"]] = row["at"]
        return found

    def entered_stage_at(self, initiative_id: str, stage: str) -> datetime | None:
        row = self._db.one(
            "SELECT max(moved_at) FROM stage_history "
            f"WHERE initiative_id = {literal(initiative_id)} AND to_stage = {literal(stage)}"
        )
        return None if row is None else row[0]


def _initiative_values(spec: InitiativeSpec) -> list[Any]:
    case = spec.business_case
    ramp = case.adoption_ramp if case else None
    return [
        spec.id,
        spec.name,
        spec.kind,
        spec.business_unit,
        spec.owner,
        spec.sponsor,
        spec.risk_tier,
        spec.hypothesis,
        json.dumps(spec.kill_criteria),
        case.currency if case else None,
        case.monthly_investment if case else None,
        case.monthly_value_at_full_adoption if case else None,
        ramp.ceiling if ramp else None,
        ramp.midpoint_month if ramp else None,
        ramp.steepness if ramp else None,
        case.band if case else None,
        _json(spec.poc_evaluation),
        _json(spec.production_cost_estimate),
        spec.human_in_the_loop,
        spec.fallback,
        _json(spec.agent),
    ]


def _json(block: BaseModel | None) -> str | None:
    """A nested block as JSON; decimals become strings, read back exactly by ``_block``."""
    return None if block is None else block.model_dump_json()


def _stored_block(model: type[M], text: str | None, money: tuple[str, ...] = ()) -> M | None:
    """A nested block written by ``_json``; its decimals come back from strings, exactly."""
    if text is None:
        return None
    data: dict[str, Any] = json.loads(text)
    for name in money:
        if data.get(name) is not None:
            data[name] = Decimal(data[name])
    return _stored(model, **data)


def _stored(model: type[M], **values: Any) -> M:
    """A model made from what the ledger stored, without validating it again: every value was
    validated when it was written, and a short command that only reads then builds no
    validators (pydantic builds one per model and process, in milliseconds). The values must
    already have the fields' types: tests/store/test_portfolio_reads.py compares what is read
    with what validation makes of it. A row changed by hand, past valuegap, is read as it is
    (``spec()`` validates it again: an export or an update then says what is wrong)."""
    return model.model_construct(**values)


def _initiative(row: dict[str, Any], metrics: list[MetricSpec]) -> Initiative:
    case = None
    if row["case_currency"] is not None:
        case = _stored(
            BusinessCase,
            currency=row["case_currency"],
            monthly_investment=_plain(row["case_monthly_investment"]),
            monthly_value_at_full_adoption=_plain(row["case_monthly_value"]),
            adoption_ramp=_stored(
                AdoptionRamp,
                ceiling=row["case_ramp_ceiling"],
                midpoint_month=row["case_ramp_midpoint_month"],
                steepness=row["case_ramp_steepness"],
            ),
            band=row["case_band"],
        )
    return _stored(
        Initiative,
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        business_unit=row["business_unit"],
        owner=row["owner"],
        sponsor=row["sponsor"],
        risk_tier=row["risk_tier"],
        hypothesis=row["hypothesis"],
        kill_criteria=json.loads(row["kill_criteria"]),
        business_case=case,
        poc_evaluation=_stored_block(PocEvaluation, row["poc_evaluation"]),
        production_cost_estimate=_stored_block(
            CostEstimate, row["production_cost_estimate"], ("monthly",)
        ),
        human_in_the_loop=row["human_in_the_loop"],
        fallback=row["fallback"],
        agent=_stored_block(AgentSpec, row["agent"], ("approval_threshold",)),
        metrics=metrics,
        stage=row["stage"],
    )


def _metric_values(metric: MetricSpec) -> list[Any]:
    baseline = metric.baseline
    return [
        metric.name,
        metric.unit,
        metric.direction,
        baseline.value if baseline else None,
        baseline.period if baseline else None,
        baseline.source if baseline else None,
        metric.target,
        metric.value_per_unit,
        metric.currency,
        metric.volume_basis,
        metric.method,
        metric.agreed_by,
        metric.agreed_at,
        metric.agreement_recorded,
        bool(metric.primary),
    ]


def _metric(row: dict[str, Any]) -> MetricSpec:
    baseline = None
    if row["baseline_value"] is not None:
        baseline = _stored(
            Baseline,
            value=_plain(row["baseline_value"]),
            period=row["baseline_period"],
            source=row["baseline_source"],
        )
    return _stored(
        MetricSpec,
        id=row["id"],
        name=row["name"],
        unit=row["unit"],
        direction=row["direction"],
        baseline=baseline,
        target=_plain(row["target"]),
        value_per_unit=_plain(row["value_per_unit"]),
        currency=row["currency"],
        volume_basis=row["volume_basis"],
        method=row["method"],
        agreed_by=row["agreed_by"],
        agreed_at=row["agreed_at"],
        agreement_recorded=row["agreement_recorded_at"],
        primary=True if row["is_primary"] else None,
    )


def _plain(value: Decimal | None) -> Decimal | None:
    """Drop the store's trailing zeros (85.0000000000 -> 85)."""
    return None if value is None else plain(value)
