"""The portfolio's vocabulary (PRODUCT.md section 1), as validated models.

``InitiativeSpec`` and ``MetricSpec`` are what a portfolio file declares; ``Initiative`` adds what
the ledger owns (the stage). Numbers that a portfolio file holds are ``Decimal``, never binary
floats, so that a value written in a file comes back exactly as written.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from valuegap.bounds import MAX_AMOUNT, too_large
from valuegap.model.vocabulary import (
    Autonomy,
    Direction,
    Kind,
    Method,
    RiskTier,
    Stage,
)

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64),
    Field(description="lower-case letters, digits, '-' and '_', starting with a letter or digit"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def _number(value: Any) -> Any:
    """Accept numbers only: a quoted "12" in a file is a mistake worth reporting."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _period(value: Any) -> Any:
    """A period is text, but `period: 2025` or `period: 2025-01-01` in YAML is not a mistake."""
    if isinstance(value, int | date) and not isinstance(value, bool):
        return str(value)
    return value


Period = Annotated[str, BeforeValidator(_period), StringConstraints(min_length=1)]

# At most 10 decimal places, so that a value survives the store's DECIMAL(38, 10) exactly.
Number = Annotated[Decimal, BeforeValidator(_number), Field(max_digits=38, decimal_places=10)]


def _bounded(value: Decimal) -> Decimal:
    if abs(value) >= MAX_AMOUNT:
        raise ValueError(too_large("an amount", MAX_AMOUNT))
    return value


# Money: less than 10^15 in size, as a cost line (``valuegap.bounds``), so that a value per unit
# times a volume, or a monthly amount times the months, still fits every total.
Amount = Annotated[Number, AfterValidator(_bounded)]
Ratio = Annotated[float, Field(gt=0, le=1)]
Score = Annotated[float, Field(ge=0, le=1)]
ActionName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
Positive = Annotated[float, Field(gt=0)]


class _Model(BaseModel):
    # defer_build: a model's validator is built when first used, not when valuegap is
    # imported; most commands use few of them. A list field defaults to [], which pydantic
    # copies for each model: building a validator with `default_factory=list` reads the
    # signature of the builtin `list`, which costs a command Python's tokenizer (10 ms).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Baseline(_Model):
    value: Number
    period: Period
    source: Text | None = None


class MetricSpec(_Model):
    """A success metric, defined before any code is written."""

    id: Slug
    name: Text
    unit: Text
    direction: Direction
    baseline: Baseline | None = None
    target: Number | None = None
    value_per_unit: Amount | None = None
    currency: Currency | None = None
    volume_basis: Text | None = None
    method: Method | None = None
    primary: bool | None = None  # true: the metric that decides the initiative's validation
    agreed_by: Text | None = None
    agreed_at: date | None = None
    # When the ledger recorded the agreement (what "agreed in advance" is judged by); set by
    # valuegap, never read from a portfolio file, and not part of a metric's fields.
    agreement_recorded: datetime | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> MetricSpec:
        if self.value_per_unit is not None and self.currency is None:
            raise ValueError("value_per_unit needs a currency (an ISO 4217 code such as USD)")
        if (self.agreed_by is None) != (self.agreed_at is None):
            raise ValueError("agreed_by and agreed_at go together: give both or neither")
        if self.agreed_by is not None and self.method is None:
            raise ValueError("a finance agreement is an agreement on a method: set method")
        return self

    @property
    def agreed(self) -> bool:
        return self.agreed_at is not None


class AdoptionRamp(_Model):
    """A logistic ramp: adoption(month) = ceiling / (1 + exp(-steepness * (month - midpoint)));
    ``forecast.ramp`` computes it."""

    ceiling: Ratio
    midpoint_month: Positive
    steepness: Positive


DEFAULT_BAND = 0.2


class BusinessCase(_Model):
    currency: Currency
    monthly_investment: Amount
    monthly_value_at_full_adoption: Amount
    adoption_ramp: AdoptionRamp
    # The J-curve's band: plus or minus this share of the investment made so far, around the
    # expected cumulative net value (``forecast.jcurve``).
    band: Score = DEFAULT_BAND


class PocEvaluation(_Model):
    """How the proof of concept was evaluated (the poc -> mvp gate reads it)."""

    representative_data: bool  # on data representative of production
    evaluated_by: Text
    independent_of_builders: bool  # evaluated by users other than the builders
    accuracy: Score  # or another quality score between 0 and 1
    sample_size: Annotated[int, Field(gt=0)]


class CostEstimate(_Model):
    """Inference cost at production volume, estimated before the MVP."""

    currency: Currency
    monthly: Amount


class AgentSpec(_Model):
    """What an agent may do on its own (initiatives of kind ``agent``)."""

    objective: Text
    success_criteria: list[Text] = []
    allowed_actions: list[ActionName] = Field(min_length=1)
    autonomy: Autonomy
    approval_threshold: Number | None = None  # an action's amount above this needs approval
    currency: Currency | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AgentSpec:
        if self.approval_threshold is not None and self.currency is None:
            raise ValueError("approval_threshold needs a currency (an ISO 4217 code such as USD)")
        if self.approval_threshold is not None and self.approval_threshold < 0:
            raise ValueError("approval_threshold must be zero or more")
        return self


class InitiativeSpec(_Model):
    """An AI use case, workflow or agent, as a portfolio file declares it."""

    id: Slug
    name: Text
    kind: Kind
    business_unit: Slug
    owner: Text | None = None
    sponsor: Text | None = None
    risk_tier: RiskTier | None = None
    hypothesis: Text | None = None
    kill_criteria: list[Text] = []
    business_case: BusinessCase | None = None
    poc_evaluation: PocEvaluation | None = None
    production_cost_estimate: CostEstimate | None = None
    human_in_the_loop: Text | None = None  # when people review, approve or override
    fallback: Text | None = None  # what happens when the AI is unavailable or wrong
    agent: AgentSpec | None = None
    metrics: list[MetricSpec] = []

    @model_validator(mode="after")
    def _agent_only_for_agents(self) -> InitiativeSpec:
        if self.agent is not None and self.kind != "agent":
            raise ValueError(f"agent is only for initiatives of kind 'agent', not {self.kind!r}")
        primaries = [m.id for m in self.metrics if m.primary]
        if len(primaries) > 1:
            raise ValueError(
                f"one primary metric decides validation; {', '.join(primaries)} are all primary"
            )
        return self

    @property
    def primary_metric(self) -> MetricSpec | None:
        """The metric that decides its validation: the one marked primary, else the first."""
        return next(
            (m for m in self.metrics if m.primary), self.metrics[0] if self.metrics else None
        )


class Initiative(InitiativeSpec):
    """An initiative as the ledger holds it: its declaration plus its stage."""

    stage: Stage = "proposed"

    def spec(self) -> InitiativeSpec:
        return InitiativeSpec.model_validate(self.model_dump(exclude={"stage"}))


class Portfolio(_Model):
    """A portfolio file: the initiatives and their metrics."""

    initiatives: list[InitiativeSpec] = []
