"""Portfolio as code: read and write the YAML portfolio file.

Reading collects every problem before refusing (a path in the file, the value found, what is
allowed). Numbers are read as ``Decimal``, never as binary floats, and written back the same way,
so that ``export`` then ``apply`` is exact.
"""

from __future__ import annotations

from valuegap.errors import Problem, ValidationError
from valuegap.model.portfolio import InitiativeSpec, Portfolio
from valuegap.portfolio.validation import validated
from valuegap.words import counted


def parse_portfolio(text: str, source: str) -> Portfolio:
    """Parse and validate a portfolio file; raise ``ValidationError`` listing every problem."""
    import yaml  # here, as where every YAML file is read: most commands read none

    from valuegap.yamlio import load_yaml, yaml_problem

    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source} is not valid YAML.", [yaml_problem(exc, source)]) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError(
            f"{source} is not a portfolio file.",
            [Problem("(top level)", "must be a mapping with the key 'initiatives'", data)],
        )
    portfolio = validated(Portfolio, data, f"{source} was refused; nothing was applied.")
    problems = _duplicates(portfolio)
    if problems:
        raise ValidationError(
            f"{source} was refused; nothing was applied. {counted(len(problems), 'problem')}:",
            problems,
        )
    return portfolio


def dump_portfolio(initiatives: list[InitiativeSpec]) -> str:
    from valuegap.yamlio import dump_yaml

    data = Portfolio(initiatives=initiatives).model_dump(exclude_none=True)
    return dump_yaml(data)


def _duplicates(portfolio: Portfolio) -> list[Problem]:
    """Ids used twice: each later use is a problem that names the first."""
    problems = []
    first_initiative: dict[str, str] = {}
    first_metric: dict[str, str] = {}
    for n, initiative in enumerate(portfolio.initiatives):
        where = f"initiatives[{n}]"
        if initiative.id in first_initiative:
            problems.append(Problem(
                f"{where}.id", f"is already used by {first_initiative[initiative.id]}",
                initiative.id,
            ))  # fmt: skip
        first_initiative.setdefault(initiative.id, where)
        for k, metric in enumerate(initiative.metrics):
            at = f"{where}.metrics[{k}]"
            if metric.id in first_metric:
                problems.append(Problem(
                    f"{at}.id",
                    f"is already used by {first_metric[metric.id]} (metric ids are unique)",
                    metric.id,
                ))  # fmt: skip
            first_metric.setdefault(metric.id, at)
    return problems
