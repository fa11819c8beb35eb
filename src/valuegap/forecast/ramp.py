"""The business case's logistic adoption ramp, and the value and ROI it plans month by month.

A business case invests ``monthly_investment`` every month from the start of the programme
(the PoC) and expects ``monthly_value_at_full_adoption`` at full adoption. Adoption in month m
(1 is the first) follows a logistic ramp:

    adoption(m) = ceiling / (1 + exp(-steepness x (m - midpoint_month)))

so it is half the ceiling at the midpoint month and approaches the ceiling later. The value
planned for month m is the value at full adoption x adoption(m); net value is that less the
month's investment; after M months, planned ROI = (planned value - investment x M) /
(investment x M). Money stays decimal: the exponential is taken in decimal arithmetic.

This module owns the ramp: ``forecast.jcurve`` builds the expected J-curve and its band on it,
and the gates and reviews read the planned ROI and its band from here.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from valuegap.bounds import WIDE, rounded
from valuegap.model.portfolio import DEFAULT_BAND, BusinessCase
from valuegap.records import record

_ROI_PLACES = Decimal("0.0001")
_BAND = Decimal(str(DEFAULT_BAND))


def _decimal(value: Decimal | float) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@functools.lru_cache(maxsize=4096)
def _adoption(ceiling: Decimal, midpoint: Decimal, steepness: Decimal, month: int) -> Decimal:
    # Kept by the ramp's shape: an exponential in 80 digits takes about 40 us, and the reports
    # ask for the same months again (the portfolio's J-curve, then each initiative's).
    power = WIDE.exp(WIDE.multiply(-steepness, month - midpoint))
    return WIDE.divide(ceiling, 1 + power)


@record
class Plan:
    """A business case as the ramp reads it, in decimals."""

    monthly_investment: Decimal
    monthly_value: Decimal  # at full adoption
    ceiling: Decimal
    midpoint_month: Decimal
    steepness: Decimal
    band: Decimal = _BAND  # the J-curve's band, a share of the investment so far

    @classmethod
    def of(cls, case: BusinessCase) -> Plan:
        ramp = case.adoption_ramp
        return cls(
            _decimal(case.monthly_investment),
            _decimal(case.monthly_value_at_full_adoption),
            _decimal(ramp.ceiling),
            _decimal(ramp.midpoint_month),
            _decimal(ramp.steepness),
            _decimal(case.band),
        )

    def adoption(self, month: int) -> Decimal:
        """The share of full adoption in ``month`` (1 is the first month)."""
        return _adoption(self.ceiling, self.midpoint_month, self.steepness, month)

    def value(self, months: int) -> Decimal:
        """The value planned for months 1 to ``months``, together."""
        shares = sum((self.adoption(m) for m in range(1, months + 1)), Decimal(0))
        return WIDE.multiply(self.monthly_value, shares)

    def net_value(self, months: int) -> Decimal:
        """The planned cumulative net value after ``months`` months: value less investment."""
        return self.value(months) - self.monthly_investment * months

    def roi(self, months: int) -> float | None:
        """The ROI planned after ``months`` months (4 places); none before the first month
        or without an investment."""
        planned = self._roi(months)
        return None if planned is None else float(rounded(planned, _ROI_PLACES))

    def roi_band(self, months: int) -> tuple[float, float] | None:
        """The planned ROI's band after ``months`` months (4 places): the planned ROI plus or
        minus the band, which is the J-curve's band over the investment so far in ROI terms."""
        planned = self._roi(months)
        if planned is None:
            return None
        low, high = planned - self.band, planned + self.band
        return float(rounded(low, _ROI_PLACES)), float(rounded(high, _ROI_PLACES))

    def _roi(self, months: int) -> Decimal | None:
        if months < 1 or not self.monthly_investment:
            return None
        invested = self.monthly_investment * months
        return WIDE.divide(self.net_value(months), invested)
