"""Anomalies in daily spend, worked by hand: a spike is flagged, a plateau settles, and the
method's invariants (a constant series never flags; scale does not matter)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from valuegap.costs.anomaly import drivers, flags, judged

START = date(2026, 1, 5)  # a Monday
END = START + timedelta(weeks=12)


def _days(n: int) -> date:
    return START + timedelta(days=n)


def _flat(level: Decimal, days: int = 84) -> dict[date, Decimal]:
    return {_days(n): level for n in range(days)}


def test_a_spike_on_a_flat_series_is_flagged() -> None:
    # 100 every day; day 40 (a Saturday) costs 300. Its baseline, the Saturdays 7, 14, 21 and
    # 28 days before, all cost 100: median 100, MAD 0, scale max(0, 5 % x 100) = 5;
    # score |300 - 100| / 5 = 40 > 3.5. The Saturdays after it have the spike in their
    # baseline once ([300, 100, 100, 100]: median 100, MAD 0): 100 scores 0.
    series = _flat(Decimal(100)) | {_days(40): Decimal(300)}
    found = flags(series, START, END)
    assert [f.day for f in found] == [_days(40)]
    spike = found[0]
    assert (spike.median, spike.scale, spike.score) == (Decimal(100), Decimal(5), Decimal(40))
    assert (spike.direction, spike.since) == ("up", _days(40))


def test_the_score_by_hand() -> None:
    # The same weekdays 100, 104, 96, 110: median (100 + 104) / 2 = 102. The same kind of day
    # 100, 104, 96, 110, 98: deviations from 102: 2, 2, 6, 8, 4: MAD 4; scale
    # max(1.4826 x 4, 0.05 x 102) = max(5.9304, 5.1) = 5.9304. 140 scores 38 / 5.9304 = 6.41
    # (flagged); 120 scores 18 / 5.9304 = 3.04 (not).
    samples = [Decimal(100), Decimal(104), Decimal(96), Decimal(110)]
    kind = [*samples, Decimal(98)]
    centre, scale, score = judged(Decimal(140), samples, kind)
    assert (centre, scale) == (Decimal(102), Decimal("5.9304"))
    assert score is not None and round(score, 2) == Decimal("6.41")
    _, _, lower = judged(Decimal(120), samples, kind)
    assert lower is not None and round(lower, 2) == Decimal("3.04")


def test_a_plateau_is_one_anomaly_and_settles() -> None:
    # 100 a day for six weeks, then 200 from day 42 (a Monday) on. Day 42 to 55: the same
    # weekdays have at most one day at 200 of four (median 100), the same kind of day fewer
    # than half (MAD 0, scale 5): flagged, one run since day 42. From day 56 two of four same
    # weekdays are at 200 (median 150) and half the weekdays (or weekend days) of the four
    # weeks: MAD 50, score 50 / 74.13 = 0.67. It has settled: never flagged again.
    series = _flat(Decimal(100), 42) | {_days(n): Decimal(200) for n in range(42, 84)}
    found = flags(series, START, END)
    assert [f.day for f in found] == [_days(n) for n in range(42, 56)]
    assert {f.since for f in found} == {_days(42)}
    assert flags(series, _days(56), END) == []


def test_a_run_that_began_before_the_window_is_named_by_its_first_day() -> None:
    series = _flat(Decimal(100), 42) | {_days(n): Decimal(200) for n in range(42, 84)}
    assert {f.since for f in flags(series, _days(50), END)} == {_days(42)}


def test_a_drop_is_flagged_down() -> None:
    series = _flat(Decimal(100)) | {_days(40): Decimal(0)}
    assert [(f.day, f.direction) for f in flags(series, START, END)] == [(_days(40), "down")]


def test_a_new_series_is_judged_from_its_fourth_week() -> None:
    # Three same weekdays are needed: a series that starts on day 0 is judged from day 21.
    series = {_days(n): Decimal(100) for n in range(30)} | {_days(20): Decimal(900)}
    assert flags(series, START, _days(30)) == []
    assert [f.day for f in flags(series | {_days(27): Decimal(900)}, START, _days(30))] == [
        _days(27)
    ]


def test_the_lines_that_drove_it() -> None:
    # Two lines: A 80 a day, B 20 a day; on day 40 B costs 220. The series (their sum) is
    # flagged; B moved by 200 against its median of 20, A not at all.
    a, b = _flat(Decimal(80)), _flat(Decimal(20)) | {_days(40): Decimal(220)}
    total = {d: a[d] + b[d] for d in a}
    (flag,) = flags(total, START, END)
    (driver,) = drivers({"A": a, "B": b}, flag, START)
    assert (driver.line, driver.spend, driver.median, driver.change) == (
        "B",
        Decimal(220),
        Decimal(20),
        Decimal(200),
    )


def test_noise_is_seldom_flagged() -> None:
    # Two years of spend around 1,000 a day, normally distributed with a standard deviation
    # of 150 (15 %, above the scale's floor of 5 %): about one day in fifty is flagged (a
    # normal day's modified z-score is above 3.5 far less often; the median of four same
    # weekdays is itself uncertain). The same four weekdays' MAD would flag one in nine.
    rng = random.Random(7)
    days = 730
    series = {_days(n): Decimal(str(round(rng.gauss(1000, 150), 2))) for n in range(days)}
    found = flags(series, START, _days(days))
    assert len(found) < (days - 21) * 0.03


amounts = st.decimals(min_value=0, max_value=10**5, places=2)


@settings(max_examples=50, deadline=None)
@given(level=amounts)
def test_a_constant_series_never_flags(level: Decimal) -> None:
    assert flags(_flat(level), START, END) == []


@settings(max_examples=50, deadline=None)
@given(
    spend=st.lists(amounts, min_size=84, max_size=84),
    factor=st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2),
)
def test_scaling_a_series_changes_no_flag(spend: list[Decimal], factor: Decimal) -> None:
    series = {_days(n): x for n, x in enumerate(spend)}
    scaled = {d: x * factor for d, x in series.items()}
    assert [f.day for f in flags(series, START, END)] == [f.day for f in flags(scaled, START, END)]
