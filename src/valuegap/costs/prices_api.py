"""Organisation prices (``ledger.costs.prices``): price overrides, and what cannot be priced.

An override prices a model's calls (requested or responding, of one provider or any) on the
days [valid_from, valid_to): it reprices exactly the stored calls it covers, and removing or
ending it gives the calls it no longer covers their catalogue price back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from valuegap.bounds import MAX_PRICE_PER_MTOK
from valuegap.costs.aggregates import months_touched
from valuegap.decimals import plain
from valuegap.errors import NotFound, Problem, ValidationError
from valuegap.model.pricing import Override, Pricer
from valuegap.records import record
from valuegap.session import Part, Session
from valuegap.store.costs import CostStore
from valuegap.store.proof import Totals, combined, read_totals
from valuegap.store.writer import writes

_RATES = ("input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok")
MAX_RATE = MAX_PRICE_PER_MTOK  # a count of tokens times it stays inside DECIMAL(38, 18)


# (months, or None for all) -> how many aggregate rows: costs' refresh of its aggregates
RefreshAggregates = Callable[[Sequence[date] | None], int]


@record
class PriceOverride:
    """An organisation price (per million tokens in ``currency``) on the days [valid_from,
    valid_to), beside the catalogue's price of the same model on its first day (of
    ``catalogue_provider``; None where the catalogue has none)."""

    model: str
    provider: str  # "(any)": any provider's calls
    valid_from: date
    valid_to: date | None
    currency: str
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    cache_read_per_mtok: Decimal | None
    cache_write_per_mtok: Decimal | None
    catalogue_provider: str | None
    catalogue_input_per_mtok: Decimal | None
    catalogue_output_per_mtok: Decimal | None


@record
class UnpricedUsage:
    """Model calls of one provider and model with no reported cost and no price, and why."""

    provider: str | None
    model: str | None
    events: int
    tokens: int
    first_seen: datetime
    last_seen: datetime
    reason: str


class Prices(Part):
    """The organisation's token prices, and the usage no price covers. A repricing has
    ``refresh_aggregates`` compute the cost aggregates of the months it touched again."""

    def __init__(self, session: Session, refresh_aggregates: RefreshAggregates) -> None:
        super().__init__(session)
        self._costs = CostStore(session.db)
        self._refresh_aggregates = refresh_aggregates

    @writes
    def set_price(
        self,
        model: str,
        *,
        input_per_mtok: Decimal,
        output_per_mtok: Decimal,
        valid_from: date,
        valid_to: date | None = None,
        provider: str | None = None,
        currency: str = "USD",
        cache_read_per_mtok: Decimal | None = None,
        cache_write_per_mtok: Decimal | None = None,
    ) -> int:
        """An organisation price for ``model`` (per million tokens in ``currency``) on the days
        [valid_from, valid_to), for ``provider``'s calls or any provider's. It ends an earlier
        open-ended price of the same model and provider where it begins, and, given no end,
        ends where a later one begins. Returns how many stored calls it repriced."""
        from valuegap.model.providers import catalogue_id

        self._require("cost.write")
        rates = {
            "input_per_mtok": input_per_mtok,
            "output_per_mtok": output_per_mtok,
            "cache_read_per_mtok": cache_read_per_mtok,
            "cache_write_per_mtok": cache_write_per_mtok,
        }
        problems = [
            Problem(k, f"must be a number from 0 to {MAX_RATE:,}", v)
            for k, v in rates.items()
            if v is not None and not (v.is_finite() and 0 <= v <= MAX_RATE)
        ]
        code = currency.strip().upper()
        if len(code) != 3 or not code.isalpha():
            problems.append(Problem("currency", "is not an ISO 4217 code such as USD", currency))
        if valid_to is not None and valid_to <= valid_from:
            problems.append(
                Problem("valid_to", f"must be after `valid_from` ({valid_from})", str(valid_to))
            )
        if not model.strip():
            problems.append(Problem("model", "is required", model))
        if problems:
            raise ValidationError(f"The price of {model} was not set.", problems)
        scope = catalogue_id(provider, self.settings.provider_aliases) or ""
        new = Override(model.strip(), scope, valid_from, valid_to, code, **rates)  # type: ignore[arg-type]
        same = [o for o in self._costs.overrides() if (o.model, o.provider) == (new.model, scope)]
        replaced = next((o for o in same if o.valid_from == valid_from), None)
        existing = [o for o in same if o is not replaced]
        ended = [
            replace(o, valid_to=valid_from)
            for o in existing
            if o.valid_to is None and o.valid_from < valid_from
        ]
        if valid_to is None:
            later = [o.valid_from for o in existing if o.valid_from > valid_from]
            new = replace(new, valid_to=min(later)) if later else new
        others = [o for o in existing if o.valid_from not in {e.valid_from for e in ended}]
        clash = next((o for o in [*ended, *others] if o.overlaps(new)), None)
        if clash is not None:
            raise ValidationError(
                f"The price of {model} was not set: it overlaps another organisation price.",
                [
                    Problem(
                        "valid_from",
                        f"overlaps the price from {clash.valid_from} to "
                        f"{clash.valid_to or 'further notice'}; end or remove that one first",
                        str(valid_from),
                    )
                ],
            )
        with self._db.transaction():
            now = self._now()
            for override in ended:
                self._costs.save_override(override, now, self.actor)
            self._costs.save_override(new, now, self.actor)
            # What changes starts on the new first day (a price it replaces had the same, and
            # one it ends was open until then) and ends with the later of them.
            ends = [new.valid_to, *(o.valid_to for o in ([replaced] if replaced else []))]
            end = None if ended or None in ends else max(d for d in ends if d is not None)
            repriced, totals = self._reprice(new.model, (valid_from, end))
            self._record(
                "price.set",
                "price",
                _price_id(new),
                {"replaced": replaced and _fields(replaced), "ended": [_fields(o) for o in ended]},
                {**_fields(new), "repriced": repriced},
                changed=[("price_overrides", {"model": new.model, "provider": scope})],
                totals=totals,
            )
        return repriced

    @writes
    def unset_price(self, model: str, *, valid_from: date, provider: str | None = None) -> int:
        """Remove the organisation price of ``model`` from ``valid_from``: the calls it covered
        get their catalogue price back. Returns how many were repriced."""
        from valuegap.model.providers import catalogue_id

        self._require("cost.write")
        scope = catalogue_id(provider, self.settings.provider_aliases) or ""
        same_day = [
            o for o in self._costs.overrides() if (o.model, o.valid_from) == (model, valid_from)
        ]
        found = next((o for o in same_day if o.provider == scope), None)
        if found is None:
            whose = f" for the provider {scope}" if scope else " for any provider"
            others = ", ".join(o.provider or "any provider" for o in same_day)
            hint = f" (there is one for {others})" if others else ""
            raise NotFound(
                f"There is no organisation price of {model}{whose} from "
                f"{valid_from}{hint}; the price list shows them."
            )
        with self._db.transaction():
            self._costs.delete_override(found)
            repriced, totals = self._reprice(model, (found.valid_from, found.valid_to))
            self._record(
                "price.unset",
                "price",
                _price_id(found),
                _fields(found),
                {"repriced": repriced},
                changed=[("price_overrides", {"model": model, "provider": scope})],
                totals=totals,
            )
        return repriced

    @writes
    def refresh_prices(self) -> int:
        """Price every stored call again, with the catalogue, overrides and provider aliases
        in force (after a new alias in the settings, or a newer catalogue). Returns how many
        changed."""
        self._require("cost.write")
        with self._db.transaction():
            repriced, totals = self._reprice(None, None)
            self._record(
                "price.refresh", "price", "all", None, {"repriced": repriced}, totals=totals
            )
        return repriced

    def _reprice(
        self, model: str | None, days: tuple[date, date | None] | None
    ) -> tuple[int, Totals]:
        """Price the calls of ``model`` on ``days`` again (all calls, without them): how many
        changed, and how that changed the usage totals (for the audit log)."""
        from valuegap.store.pricing import reprice

        pricer = Pricer(self._costs.overrides(), self.settings.provider_aliases)
        before = read_totals(self._db, "usage_events")
        repriced = reprice(self._db, pricer, model, days)
        after = read_totals(self._db, "usage_events") if repriced else before
        if repriced:
            months = months_touched(*days) if days else None
            self._refresh_aggregates(months)
            self._costs.refresh_usage_by_month(months)
        return repriced, combined(after, before, -1)

    def price_overrides(self) -> list[PriceOverride]:
        """The organisation's prices, each beside the catalogue's price of the same model on
        its first day (per million tokens; ``catalogue_provider`` says whose)."""
        from valuegap.model.pricing import MILLION, catalogue_rates
        from valuegap.model.providers import catalogue_id

        self._require("read")
        providers = {r["model"]: r["provider"] for r in reversed(self._costs.models_in_use())}
        found = []
        for o in self._costs.overrides():
            provider = o.provider or catalogue_id(
                providers.get(o.model), self.settings.provider_aliases
            )
            rates = catalogue_rates(
                provider, o.model, datetime.combine(o.valid_from, datetime.min.time())
            )
            tier = rates[0] if rates else None
            found.append(
                PriceOverride(
                    model=o.model,
                    provider=o.provider or "(any)",
                    valid_from=o.valid_from,
                    valid_to=o.valid_to,
                    currency=o.currency,
                    input_per_mtok=plain(o.input_per_mtok),
                    output_per_mtok=plain(o.output_per_mtok),
                    cache_read_per_mtok=_plain(o.cache_read_per_mtok),
                    cache_write_per_mtok=_plain(o.cache_write_per_mtok),
                    catalogue_provider=provider if rates else None,
                    catalogue_input_per_mtok=_per_mtok(tier.input if tier else None, MILLION),
                    catalogue_output_per_mtok=_per_mtok(tier.output if tier else None, MILLION),
                )
            )
        return found

    def unpriced_usage(self) -> list[UnpricedUsage]:
        """Model calls with no reported cost that neither the catalogue nor an override
        prices, by provider and model, with the reason."""
        self._require("read")
        pricer = Pricer(self._costs.overrides(), self.settings.provider_aliases)
        found = []
        for row in self._costs.unpriced():
            provider, model, at = row["provider"], row["model"], row["last_seen"]
            if pricer.price(provider, model, row["request_model"], at):
                reason = (
                    "a price applies now (a new provider alias or price): price "
                    "the stored calls again"
                )
            else:
                reason = pricer.unpriced_reason(provider, model, at)
            found.append(
                UnpricedUsage(
                    provider=provider,
                    model=model,
                    events=int(row["events"]),
                    tokens=int(row["tokens"]),
                    first_seen=row["first_seen"],
                    last_seen=at,
                    reason=reason,
                )
            )
        return found


def _plain(value: Decimal | None) -> Decimal | None:
    return None if value is None else plain(value)


def _per_mtok(per_token: Decimal | None, million: Decimal) -> Decimal | None:
    return None if per_token is None else plain(per_token * million)


def _price_id(o: Override) -> str:
    return f"{o.model}@{o.provider or '*'}@{o.valid_from}"


def _fields(o: Override) -> dict[str, Any]:
    return {
        "model": o.model,
        "provider": o.provider or None,
        "valid_from": o.valid_from,
        "valid_to": o.valid_to,
        "currency": o.currency,
        **{k: getattr(o, k) for k in _RATES},
    }
