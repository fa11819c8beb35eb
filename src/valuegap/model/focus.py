"""FOCUS (FinOps Open Cost and Usage Specification) 1.0 to 1.3, as valuegap reads it.

Column names follow the specification; a file may spell them in any letter case. What valuegap
needs is required; the other specified columns are kept when present; ``x_`` and any other
columns are kept in ``extra``. FOCUS 1.3 renamed ``ProviderName`` to ``ServiceProviderName``:
either is accepted, the newer winning when both are present.
"""

from __future__ import annotations

from typing import Literal

from valuegap.records import record

ColumnType = Literal["text", "timestamp", "decimal", "money", "currency", "json"]


@record
class FocusColumn:
    name: str  # the FOCUS column name
    field: str  # the column in the ledger
    type: ColumnType
    required: bool = False


COLUMNS: tuple[FocusColumn, ...] = (
    FocusColumn("BillingAccountId", "billing_account_id", "text", required=True),
    FocusColumn("SubAccountId", "sub_account_id", "text"),
    FocusColumn("InvoiceIssuerName", "invoice_issuer", "text"),
    FocusColumn("InvoiceId", "invoice_id", "text"),
    FocusColumn("ServiceName", "service_name", "text", required=True),
    FocusColumn("ServiceCategory", "service_category", "text", required=True),
    FocusColumn("ChargeCategory", "charge_category", "text", required=True),
    FocusColumn("ChargeDescription", "charge_description", "text"),
    FocusColumn("ResourceId", "resource_id", "text"),
    FocusColumn("RegionId", "region_id", "text"),
    FocusColumn("BillingPeriodStart", "billing_period_start", "timestamp", required=True),
    FocusColumn("ChargePeriodStart", "charge_period_start", "timestamp", required=True),
    FocusColumn("ChargePeriodEnd", "charge_period_end", "timestamp", required=True),
    FocusColumn("BillingCurrency", "billing_currency", "currency", required=True),
    FocusColumn("BilledCost", "billed_cost", "money", required=True),
    FocusColumn("EffectiveCost", "effective_cost", "money", required=True),
    FocusColumn("ListCost", "list_cost", "money"),
    FocusColumn("ContractedCost", "contracted_cost", "money"),
    FocusColumn("ConsumedQuantity", "consumed_quantity", "decimal"),
    FocusColumn("ConsumedUnit", "consumed_unit", "text"),
    FocusColumn("Tags", "tags", "json"),
)

# The provider: FOCUS 1.3's ServiceProviderName, else the deprecated ProviderName.
PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName")

CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")

# A negative cost is refused on these charge categories, unless the line's ChargeClass is
# Correction (a correction of an earlier billing period, FOCUS 1.0+): refunds and credits come
# as Credit lines, changes after the fact as Adjustment lines, and Tax may be refunded.
NOT_NEGATIVE_CATEGORIES = ("Usage", "Purchase")
CORRECTION = "Correction"

# The cost columns a ledger may report on; EffectiveCost (amortised, after discounts) by default.
COST_COLUMNS = {
    "EffectiveCost": "effective_cost",
    "BilledCost": "billed_cost",
    "ListCost": "list_cost",
    "ContractedCost": "contracted_cost",
}
