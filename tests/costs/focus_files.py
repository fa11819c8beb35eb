"""FOCUS exports written the way providers write them, for tests and benchmarks.

The header is the full FOCUS 1.2 column set an AWS export carries; values include what real
exports contain: `NULL` spelled as text, timestamps with and without a zone, JSON in Tags and
SkuPriceDetails, `x_` columns, negative credits, purchases with no effective cost, tax.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HEADER_12 = [
    "ProviderName", "PublisherName", "InvoiceIssuerName", "InvoiceId", "BillingAccountId",
    "BillingAccountName", "BillingAccountType", "SubAccountId", "SubAccountName",
    "SubAccountType", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
    "ChargePeriodEnd", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice",
    "ContractedUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit", "PricingCurrency",
    "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "BillingCurrency", "ConsumedQuantity", "ConsumedUnit",
    "ServiceName", "ServiceCategory", "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceId",
    "SkuPriceDetails", "ResourceId", "ResourceName", "ResourceType", "RegionId", "RegionName",
    "AvailabilityZone", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountCategory", "CommitmentDiscountType", "CommitmentDiscountStatus",
    "CommitmentDiscountQuantity", "CommitmentDiscountUnit", "CapacityReservationId",
    "CapacityReservationStatus", "Tags", "x_UsageType",
]  # fmt: skip

SERVICES = [
    ("Amazon SageMaker", "AI and Machine Learning", "p5.48xlarge GPU hours"),
    ("Amazon Bedrock", "AI and Machine Learning", "Claude Sonnet input tokens"),
    ("Amazon S3", "Storage", "Standard storage"),
    ("AmazonEC2", "Compute", "m6i.large hours"),
    ("AmazonCloudWatch", "Management and Governance", "Custom metrics"),
]
OWNERS = ["team-ml", "team-data", "team-platform", None]
APPLICATIONS = ["ai-platform", "loc-qa", "search", None]


def write_aws_export(path: Path, rows: int, seed: int = 7, month: str = "2025-05") -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER_12)
        for n in range(rows):
            service, category, description = SERVICES[n % len(SERVICES)]
            day = 1 + n % 28
            charge = rng.choices(["Usage", "Credit", "Tax", "Purchase"], [90, 4, 3, 3])[0]
            billed = round(rng.uniform(0.01, 900), 6)
            if charge == "Credit":
                billed = -billed
            effective = 0 if charge == "Purchase" else billed
            tags = {k: v for k, v in (("Owner", OWNERS[n % 4]),
                                      ("application", APPLICATIONS[n % 4])) if v}  # fmt: skip
            zone = "Z" if n % 3 else ""  # some timestamps carry no zone: UTC
            start = f"{month}-{day:02d}T{n % 24:02d}:00:00{zone}"
            end = f"{month}-{day:02d}T{n % 24:02d}:59:59{zone}"
            row = {
                "ProviderName": "AWS", "PublisherName": "AWS", "InvoiceIssuerName": "AWS",
                "InvoiceId": f"INV-{month}-{n % 2 + 1:04d}", "BillingAccountId": "100000000001",
                "BillingAccountName": "Northwind Payer", "BillingAccountType": "Payer Account",
                "SubAccountId": f"20000000001{n % 3}", "SubAccountName": "prod",
                "SubAccountType": "Linked Account", "BillingPeriodStart": f"{month}-01T00:00:00Z",
                "BillingPeriodEnd": f"{month}-28T00:00:00Z", "ChargePeriodStart": start,
                "ChargePeriodEnd": end, "ChargeCategory": charge, "ChargeClass": "",
                "ChargeDescription": description, "ChargeFrequency": "Usage-Based",
                "BilledCost": f"{billed:.6f}", "EffectiveCost": f"{effective:.6f}",
                "ListCost": f"{abs(billed) * 1.1:.6f}", "ContractedCost": f"{billed:.6f}",
                "ListUnitPrice": "0.0960000000", "ContractedUnitPrice": "0.0640320000",
                "PricingCategory": "Standard", "PricingQuantity": "1.0000",
                "PricingUnit": "Hours", "PricingCurrency": "USD",
                "PricingCurrencyContractedUnitPrice": "0.0640320000",
                "PricingCurrencyEffectiveCost": f"{effective:.6f}",
                "PricingCurrencyListUnitPrice": "0.0960000000", "BillingCurrency": "USD",
                "ConsumedQuantity": "NULL" if charge != "Usage" else "1.0000",
                "ConsumedUnit": "NULL" if charge != "Usage" else "Hours",
                "ServiceName": service, "ServiceCategory": category,
                "ServiceSubcategory": "Other", "SkuId": f"SKU-{n % 97:05d}", "SkuMeter": "Compute",
                "SkuPriceId": f"SPRICE-{n:08d}",
                "SkuPriceDetails": json.dumps({"InstanceType": "m6i.large", "CoreCount": 2}),
                "ResourceId": f"arn:aws:resource/{n}", "ResourceName": f"r-{n}",
                "ResourceType": "Instance", "RegionId": "eu-west-1", "RegionName": "Ireland",
                "AvailabilityZone": "NULL", "CommitmentDiscountId": "",
                "CommitmentDiscountName": "", "CommitmentDiscountCategory": "",
                "CommitmentDiscountType": "", "CommitmentDiscountStatus": "",
                "CommitmentDiscountQuantity": "", "CommitmentDiscountUnit": "",
                "CapacityReservationId": "", "CapacityReservationStatus": "",
                "Tags": json.dumps(tags) if tags else "NULL",
                "x_UsageType": f"EU-BoxUsage:{n % 5}",
            }  # fmt: skip
            writer.writerow([row[c] for c in HEADER_12])


def write_focus_13(path: Path) -> None:
    """A FOCUS 1.3 file: ServiceProviderName and HostProviderName, no ProviderName."""
    header = ["ServiceProviderName", "HostProviderName", "BillingAccountId", "BillingCurrency",
              "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
              "ChargeCategory", "BilledCost", "EffectiveCost", "ServiceName", "ServiceCategory",
              "Tags"]  # fmt: skip
    rows = [
        ["OpenAI", "Microsoft", "acct-9", "USD", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z",
         "2025-06-03T00:00:00Z", "2025-06-04T00:00:00Z", "Usage", "120.00", "120.00",
         "Azure OpenAI", "AI and Machine Learning", '{"application": "ai-platform"}'],
        ["OpenAI", "Microsoft", "acct-9", "USD", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z",
         "2025-06-04T00:00:00Z", "2025-06-05T00:00:00Z", "Adjustment", "-5.50", "-5.50",
         "Azure OpenAI", "AI and Machine Learning", ""],
    ]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
