"""The business case's logistic adoption ramp and the value and ROI it plans, worked by hand."""

from __future__ import annotations

import math
from decimal import Decimal

from valuegap.forecast.ramp import Plan
from valuegap.model.portfolio import BusinessCase


def _case(investment: int, value: int, ceiling: float, midpoint: float, steepness: float) -> Plan:
    return Plan.of(
        BusinessCase.model_validate(
            {
                "currency": "USD",
                "monthly_investment": investment,
                "monthly_value_at_full_adoption": value,
                "adoption_ramp": {
                    "ceiling": ceiling,
                    "midpoint_month": midpoint,
                    "steepness": steepness,
                },
            }
        )
    )


def _near(value: Decimal, expected: str) -> bool:
    return abs(value - Decimal(expected)) < Decimal("1e-12")


def test_the_logistic_ramp_by_hand() -> None:
    # ceiling 0.9, midpoint 4, steepness ln 2: exp(-ln 2 x (m - 4)) is 2 ** (4 - m), so
    # adoption(3) = 0.9 / (1 + 2) = 0.3, adoption(4) = 0.9 / 2 = 0.45,
    # adoption(5) = 0.9 / 1.5 = 0.6, adoption(6) = 0.9 / 1.25 = 0.72
    plan = _case(1000, 3000, 0.9, 4, math.log(2))
    assert _near(plan.adoption(3), "0.3")
    assert _near(plan.adoption(4), "0.45")
    assert _near(plan.adoption(5), "0.6")
    assert _near(plan.adoption(6), "0.72")
    assert _near(plan.adoption(3) + plan.adoption(5), "0.9")  # symmetric about the midpoint


def test_planned_value_net_value_and_roi_by_hand() -> None:
    # steepness ln 3 and midpoint 2 give adoption 1/4, 1/2, 3/4 in months 1 to 3:
    # value 3,000 x (1/4 + 1/2 + 3/4) = 4,500 against 3 x 1,000 invested: net 1,500,
    # ROI (4,500 - 3,000) / 3,000 = 0.5
    plan = _case(1000, 3000, 1.0, 2, math.log(3))
    assert _near(plan.value(3), "4500")
    assert _near(plan.net_value(3), "1500")
    assert plan.roi(3) == 0.5
    # the J-curve's dip: month 1 plans 3,000 / 4 = 750 of value for 1,000 invested
    assert _near(plan.net_value(1), "-250")
    assert plan.roi(1) == -0.25
    assert plan.roi(0) is None  # nothing invested yet


def test_no_investment_has_no_roi() -> None:
    assert _case(0, 3000, 1.0, 2, 1.0).roi(6) is None


def test_the_planned_roi_band_by_hand() -> None:
    # The J-curve's band is 0.2 x the investment so far, so in ROI terms it is the planned ROI
    # plus or minus 0.2: after one month -0.25 (above) gives -0.45 to -0.05.
    plan = _case(1000, 3000, 1.0, 2, math.log(3))
    assert plan.roi_band(1) == (-0.45, -0.05)
    assert plan.roi_band(3) == (0.3, 0.7)
    assert plan.roi_band(0) is None
