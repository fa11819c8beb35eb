"""How large a number the ledger accepts, so that every total it makes of them fits.

The store keeps money as DECIMAL(38, 10) (a priced call as DECIMAL(38, 18)), and a sum of
DECIMALs in DuckDB (or Spark) does not widen: past its type's 38 digits it fails or, worse,
wraps around. So each kind of amount is bounded, and the bound times the most lines a ledger
can hold still fits the type its total is summed in (docs/costs.md, "How large an amount can
be", gives the same reasoning for finance):

- ``MAX_LINES``: 10^12 lines of one kind (ten thousand times the hundred million events the
  benchmarks ingest; a DuckDB file of that many would hold tens of terabytes).
- A cost line (a FOCUS cost column, a manual entry, a business case's monthly amount):
  less than 10^15 in size. 10^12 of them sum to less than 10^27, which DECIMAL(38, 10)
  (28 digits before the point) holds.
- A usage event's cost (reported, or computed from tokens and prices): less than 10^7 in
  size. Usage is summed at 18 places, as DECIMAL(38, 18) (20 digits before the point):
  10^12 events of 10^7 sum to 10^19.
- A token count: whole, from 0 to 10^12, so that a count times the dearest price an
  organisation may set (``MAX_PRICE_PER_MTOK`` per million tokens) stays far inside
  DECIMAL(38, 18).
- A currency rate: from 10^-6 to 10^6, so that a converted total stays within 34 digits,
  which the reports' decimal arithmetic (``WIDE``) keeps exactly.
- A value per unit, an observation's volume, mean and standard deviation: less than 10^15, so
  that a value (effect x volume x value per unit) stays within ``WIDE``.

A bound is exclusive where a DECIMAL's digits draw it (999,999,999,999,999.9999999999 is a
cost line's largest value) and inclusive for tokens and rates.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

MAX_LINES = 10**12
MAX_AMOUNT = Decimal(10**15)  # a cost line: less than this in size
MAX_USAGE_COST = Decimal(10**7)  # a usage event's cost: less than this in size
MAX_TOKENS = 10**12  # a token count: at most this
MAX_PRICE_PER_MTOK = Decimal(10**9)  # an organisation's price per million tokens: at most
MIN_RATE, MAX_RATE = Decimal("0.000001"), Decimal(10**6)  # a currency rate: within

# Decimal arithmetic on totals and values: wide enough for a converted total, or a value
# (an effect of up to 10^28, from sums, times a volume and a value per unit each below 10^15),
# to ten places exactly.
WIDE = Context(prec=80)


def rounded(value: Decimal, places: Decimal) -> Decimal:
    """``value`` to ``places`` (half to even), however large it is."""
    return value.quantize(places, ROUND_HALF_EVEN, context=WIDE)


def too_large(kind: str, limit: Decimal) -> str:
    """The message for a value above its bound."""
    return (
        f"is too large: {kind} must be less than {limit:,.0f} in size (so that every total "
        "of them fits); split it, or check the unit and the decimal point"
    )
