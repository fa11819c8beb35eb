"""Anomalies in daily spend: a day that departs from what the same day of the week has cost in
the weeks before, judged robustly, with the lines that drove it.

For a day ``d`` of a series (an initiative's, a provider's, a model's daily spend), its
baseline is the ``WEEKS`` (4) weeks before it, d - 28 to d - 1 (days on or after the series'
first day with spend; a missing day spent nothing):

    median = the median spend of the same day of the week: d - 7, d - 14, d - 21, d - 28
    MAD    = the median absolute deviation from it of the same kind of day (weekdays, Monday
             to Friday, or weekend days) in those weeks
    scale  = max(1.4826 x MAD, 0.05 x |median|)
    score  = |spend on d - median| / scale

and ``d`` is flagged when the score exceeds ``THRESHOLD`` (3.5). The constants:

- the same weekday for the median, because spend is seasonal by day of the week (a quiet
  Sunday is not an anomaly against Fridays); the same kind of day for the spread, as the
  forecast's rates (``forecast.spend``), because the MAD of four values is too unstable to
  judge by (often a fraction of their spread: on normally distributed spend whose standard
  deviation is 15 % of its level, the same four weekdays' MAD flags one day in nine), where 20
  weekdays or 8 weekend days give a steady one (one day in fifty; ``tests/costs``);
- 4 weeks, so that a change that stays becomes the new normal soon (below); a day is judged
  once the series has ``MIN_SAMPLES`` (3) same weekdays before it: from its fourth week;
- the median and the MAD, because one past spike moves neither (a mean and a standard
  deviation would be pulled by the very spikes to be found);
- 1.4826 makes the MAD estimate the standard deviation of normally distributed spend, so the
  score reads as a z-score; 3.5 is Iglewicz and Hoaglin's threshold for this "modified
  z-score";
- when the baseline days all cost the same, the MAD is 0; the scale is then 5 % of the median,
  so that a flat series flags a spike (any day more than 17.5 % off) and never its own level.
  A series that spent nothing on all its baseline days (median and scale 0) flags any day that
  spends, with no score.

Every constant is relative (the scale is a multiple of the MAD or the median), so scaling a
series by a positive factor changes no flag, and a constant series never flags.

**A spike and a plateau.** A spike (one day, or a few, then back) is flagged on its days. A
plateau (a step to a new level that stays) is flagged from its first day, as a run: consecutive
flagged days are one anomaly, each naming the run's first day (``since``), so it is alerted
once. It has settled once half the baseline days are at the new level: from the step's third
week (d - 7 and d - 14 at the new level, d - 21 and d - 28 at the old; half the weekdays or
weekend days too) the median is halfway, the MAD half the step, and the score
1 / 1.4826 = 0.67; a week later the median is the new level. It is not flagged again.

**The lines that drove it.** A flagged day's series is a sum of lines (initiative, business
unit, provider, model); each line's spend that day is set against its own median over the same
baseline days, and the lines whose spend moved the most, in the direction of the anomaly, are
named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Generic, Literal, TypeVar

from valuegap.bounds import WIDE
from valuegap.records import record

WEEKS = 4
MIN_SAMPLES = 3
THRESHOLD = Decimal("3.5")
CONSISTENCY = Decimal("1.4826")  # MAD x this estimates a normal standard deviation
FLOOR = Decimal("0.05")  # the scale's floor, a share of the median
ZERO = Decimal(0)
MAX_LINES = 5  # the lines named for an anomaly

Direction = Literal["up", "down"]
K = TypeVar("K")


@record
class Flag:
    """A flagged day of a series."""

    day: date
    spend: Decimal
    median: Decimal  # of the baseline days
    scale: Decimal  # max(1.4826 x MAD, 5 % of the median)
    score: Decimal | None  # None when the scale is 0 (the baseline spent nothing)
    direction: Direction
    since: date  # the first day of the run of flagged days it is part of


@record
class Driver(Generic[K]):
    """A line's spend on a flagged day against its own median."""

    line: K
    spend: Decimal
    median: Decimal

    @property
    def change(self) -> Decimal:
        return self.spend - self.median


def baseline(series: Mapping[date, Decimal], day: date, first: date) -> list[Decimal]:
    """The spend of the same weekday in the ``WEEKS`` weeks before ``day``, not before
    ``first``."""
    days = [day - timedelta(weeks=n) for n in range(1, WEEKS + 1)]
    return [series.get(d, ZERO) for d in days if d >= first]


def same_kind(series: Mapping[date, Decimal], day: date, first: date) -> list[Decimal]:
    """The spend of the days of ``day``'s kind (weekday or weekend day) in the ``WEEKS`` weeks
    before it, not before ``first``."""
    weekend = day.weekday() >= 5
    days = [day - timedelta(days=n) for n in range(1, 7 * WEEKS + 1)]
    return [series.get(d, ZERO) for d in days if d >= first and (d.weekday() >= 5) == weekend]


def median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    with localcontext(WIDE):
        return (ordered[middle - 1] + ordered[middle]) / 2


def judged(
    spend: Decimal, samples: Sequence[Decimal], kind: Sequence[Decimal]
) -> tuple[Decimal, Decimal, Decimal | None]:
    """A day's median (of ``samples``, the same weekdays), scale (from the deviations of
    ``kind``, the same kind of day, from that median) and score."""
    centre = median(samples)
    with localcontext(WIDE):
        mad = median([abs(x - centre) for x in kind])
        scale = max(CONSISTENCY * mad, FLOOR * abs(centre))
        score = abs(spend - centre) / scale if scale else None
    return centre, scale, score


def flags(
    series: Mapping[date, Decimal], start: date, end: date, threshold: Decimal = THRESHOLD
) -> list[Flag]:
    """The flagged days of ``series`` (spend by day; a missing day spent nothing) in
    [start, end). Runs are followed from ``WEEKS`` weeks before ``start``, so that a run that
    began before it is named by its first day."""
    spent = [d for d, v in series.items() if v]
    if not spent:
        return []
    first = min(spent)
    found: list[Flag] = []
    day = max(first, start - timedelta(weeks=WEEKS))
    while day < end:
        flag = _flag(series, day, first, threshold, found[-1] if found else None)
        if flag is not None:
            found.append(flag)
        day += timedelta(days=1)
    return [f for f in found if f.day >= start]


def _flag(
    series: Mapping[date, Decimal], day: date, first: date, threshold: Decimal, last: Flag | None
) -> Flag | None:
    samples = baseline(series, day, first)
    if len(samples) < MIN_SAMPLES:
        return None
    spend = series.get(day, ZERO)
    centre, scale, score = judged(spend, samples, same_kind(series, day, first))
    if spend == centre or (score is not None and score <= threshold):
        return None
    direction: Direction = "up" if spend > centre else "down"
    run = last is not None and last.day == day - timedelta(days=1)
    since = last.since if run and last is not None else day
    return Flag(day, spend, centre, scale, score, direction, since)


def drivers(
    lines: Mapping[K, Mapping[date, Decimal]], flag: Flag, first: date, limit: int = MAX_LINES
) -> list[Driver[K]]:
    """The lines (each spend by day) whose spend on ``flag``'s day moved most from their own
    median over the same baseline days, in the flag's direction: at most ``limit``."""
    found = []
    for line, series in lines.items():
        spend = series.get(flag.day, ZERO)
        centre = median(baseline(series, flag.day, first) or [ZERO])
        change = spend - centre
        if (change > 0) if flag.direction == "up" else (change < 0):
            found.append(Driver(line, spend, centre))
    found.sort(key=lambda d: abs(d.change), reverse=True)
    return found[:limit]
