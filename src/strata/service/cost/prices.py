"""The price list the cost view applies: AWS us-east-1 list prices, overridable.

Defaults for the storage classes and DynamoDB's on-demand requests are the design
documents' figures; the rest are AWS's public list prices (us-east-1, December 2026).
Note that AWS itself has charged less for DynamoDB on-demand since November 2024
($0.625 per million writes, $0.125 per million reads): set ``cost_prices`` to follow it.

``cost_prices`` overrides any entry by name, e.g.
``"storage.STANDARD=0.021,dynamodb.write=0.625"``; ``names()`` lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

GB: Final = 1024**3  # AWS bills a GB as 2^30 bytes
DAY_S: Final = 86400.0
MONTH_DAYS: Final = 30.0  # early deletion is prorated per day of a 30-day month

STORAGE_CLASSES: Final = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "EXPRESS_ONEZONE",
    "INTELLIGENT_TIERING",
    "STANDARD_IA",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)

# USD per GB-month.
_STORAGE: Final = {
    "STANDARD": 0.023,
    "REDUCED_REDUNDANCY": 0.024,
    "EXPRESS_ONEZONE": 0.11,
    "INTELLIGENT_TIERING": 0.023,  # the frequent tier; the others are separate classes here
    "STANDARD_IA": 0.0125,
    "ONEZONE_IA": 0.01,
    "GLACIER_IR": 0.004,
    "GLACIER": 0.0036,
    "DEEP_ARCHIVE": 0.00099,
}
# USD per 1,000 requests: PUT, COPY, POST and LIST ("tier1"); GET, SELECT and every other
# request but DELETE and CANCEL, which are free ("tier2").
_TIER1: Final = {
    "STANDARD": 0.005,
    "REDUCED_REDUNDANCY": 0.005,
    "EXPRESS_ONEZONE": 0.00113,
    "INTELLIGENT_TIERING": 0.005,
    "STANDARD_IA": 0.01,
    "ONEZONE_IA": 0.01,
    "GLACIER_IR": 0.02,
    "GLACIER": 0.03,
    "DEEP_ARCHIVE": 0.05,
}
_TIER2: Final = {
    "STANDARD": 0.0004,
    "REDUCED_REDUNDANCY": 0.0004,
    "EXPRESS_ONEZONE": 0.00003,
    "INTELLIGENT_TIERING": 0.0004,
    "STANDARD_IA": 0.001,
    "ONEZONE_IA": 0.001,
    "GLACIER_IR": 0.01,
    "GLACIER": 0.0004,
    "DEEP_ARCHIVE": 0.0004,
}
# USD per GB read back (GET of the classes that charge retrievals).
_RETRIEVAL: Final = {"STANDARD_IA": 0.01, "ONEZONE_IA": 0.01, "GLACIER_IR": 0.03}
# Restores of archived objects (RestoreObject), by class and retrieval tier: USD per 1,000
# requests and per GB restored. Intelligent-Tiering's archive tiers charge no retrieval.
_RESTORE_REQUESTS: Final = {
    "GLACIER.Expedited": 10.0,
    "GLACIER.Standard": 0.05,
    "GLACIER.Bulk": 0.0,
    "DEEP_ARCHIVE.Standard": 0.10,
    "DEEP_ARCHIVE.Bulk": 0.025,
}
_RESTORE_GB: Final = {
    "GLACIER.Expedited": 0.03,
    "GLACIER.Standard": 0.01,
    "GLACIER.Bulk": 0.0,
    "DEEP_ARCHIVE.Standard": 0.02,
    "DEEP_ARCHIVE.Bulk": 0.0025,
}
# Days a version is billed for at least: removed, overwritten or transitioned sooner, the
# remaining days are charged at the class's storage price.
MINIMUM_DAYS: Final = {
    "STANDARD_IA": 30,
    "ONEZONE_IA": 30,
    "GLACIER_IR": 90,
    "GLACIER": 90,
    "DEEP_ARCHIVE": 180,
}
# DynamoDB on-demand, standard table class: USD per million request units, per GB-month.
_DYNAMODB: Final = {"read": 1.25, "write": 1.25, "storage": 0.25}


class PriceError(ValueError):
    """A ``cost_prices`` entry that names no price or is not a non-negative number."""


@dataclass(slots=True)
class Prices:
    """USD figures by name: ``storage.<CLASS>`` per GB-month, ``tier1.<CLASS>`` and
    ``tier2.<CLASS>`` per 1,000 requests, ``retrieval.<CLASS>`` per GB,
    ``restore_request.<CLASS>.<Tier>`` per 1,000 and ``restore_gb.<CLASS>.<Tier>`` per GB
    (RestoreObject of GLACIER and DEEP_ARCHIVE), ``dynamodb.read``
    and ``dynamodb.write`` per million units, ``dynamodb.storage`` per GB-month."""

    table: dict[str, float] = field(default_factory=dict)

    @classmethod
    def defaults(cls) -> Prices:
        table: dict[str, float] = {}
        for prefix, values in (
            ("storage", _STORAGE),
            ("tier1", _TIER1),
            ("tier2", _TIER2),
            ("retrieval", _RETRIEVAL),
            ("restore_request", _RESTORE_REQUESTS),
            ("restore_gb", _RESTORE_GB),
            ("dynamodb", _DYNAMODB),
        ):
            table.update({f"{prefix}.{name}": price for name, price in values.items()})
        return cls(table)

    @classmethod
    def configured(cls, overrides: str) -> Prices:
        """The defaults with ``"name=price,..."`` applied; ``PriceError`` on a bad entry."""
        prices = cls.defaults()
        for entry in filter(None, (part.strip() for part in overrides.split(","))):
            name, sep, value = entry.partition("=")
            name = name.strip()
            if not sep or name not in prices.table:
                raise PriceError(
                    f"'{entry}' names no price (known: {', '.join(sorted(prices.table))})"
                )
            try:
                price = float(value)
            except ValueError:
                raise PriceError(f"'{entry}': the price is not a number") from None
            if not price >= 0:
                raise PriceError(f"'{entry}': a price cannot be negative")
            prices.table[name] = price
        return prices

    def names(self) -> list[str]:
        return sorted(self.table)

    def storage(self, storage_class: str) -> float:
        return self.table.get(f"storage.{storage_class}", self.table["storage.STANDARD"])

    def request(self, tier: str, storage_class: str) -> float:
        return self.table.get(f"{tier}.{storage_class}", self.table[f"{tier}.STANDARD"])

    def retrieval(self, storage_class: str) -> float:
        return self.table.get(f"retrieval.{storage_class}", 0.0)

    def restore(self, storage_class: str, tier: str) -> tuple[float, float]:
        """(per 1,000 requests, per GB) of a restore of ``storage_class`` at ``tier``."""
        name = f"{storage_class}.{tier}"
        return (
            self.table.get(f"restore_request.{name}", 0.0),
            self.table.get(f"restore_gb.{name}", 0.0),
        )

    def dynamodb(self, kind: str) -> float:
        return self.table[f"dynamodb.{kind}"]
