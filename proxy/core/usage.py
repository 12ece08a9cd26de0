"""What the usage ledger decides without I/O: tokens, prices, cost, rescue, the tray line."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from proxy.core.body import counts_only, parse_json_object
from proxy.core.config import PRICE_KINDS, Endpoint, FieldError, Price, parse_price

PER_MTOK = 1_000_000


@dataclass(frozen=True, slots=True)
class Tokens:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def __bool__(self) -> bool:
        return bool(self.input or self.output or self.cache_read or self.cache_write)


def tokens_of(usage: object) -> Tokens:
    """The counts of an Anthropic `usage` object (OpenAI answers arrive translated), given
    as counted by the attempt (`proxy.core.body.find_usage`) or as a `usage` object's text;
    anything else counts nothing."""
    if not usage:
        return Tokens()
    counts = counts_only(parse_json_object(usage) if isinstance(usage, bytes) else usage)
    if not counts:
        return Tokens()
    return Tokens(
        input=counts.get("input_tokens", 0),
        output=counts.get("output_tokens", 0),
        cache_read=counts.get("cache_read_input_tokens", 0),
        cache_write=counts.get("cache_creation_input_tokens", 0),
    )


def cost_of(tokens: Tokens, price: Price | None) -> float | None:
    """USD; None when tokens were used at an unknown price (never guessed as $0)."""
    if not tokens:
        return 0.0
    if price is None:
        return None
    total = (
        tokens.input * price.input
        + tokens.output * price.output
        + tokens.cache_read * price.cache_read
        + tokens.cache_write * price.cache_write
    )
    return total / PER_MTOK


# ---------------------------------------------------------------- the bundled price table


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Model-name globs and their prices; the first match wins."""

    as_of: str
    rows: tuple[tuple[str, Price], ...]

    def price_of(self, model: str | None) -> Price | None:
        if not model:
            return None
        name = model.lower()
        for pattern, price in self.rows:
            if fnmatch.fnmatchcase(name, pattern):
                return price
        return None


def parse_price_table(data: Mapping[str, Any]) -> PriceTable:
    """The bundled table's JSON: {"as_of": date, "models": [{"match": [...], ...prices}]}."""
    rows: list[tuple[str, Price]] = []
    for i, entry in enumerate(data.get("models", [])):
        fields = {k: v for k, v in entry.items() if k in PRICE_KINDS}
        price = parse_price(fields, f"models[{i}]")
        if price is None or not entry.get("match"):
            raise FieldError(f"models[{i}]", "needs a price and the model names it matches")
        rows.extend((str(pattern).lower(), price) for pattern in entry["match"])
    return PriceTable(as_of=str(data.get("as_of", "")), rows=tuple(rows))


def price_for(endpoint: Endpoint | None, model: str | None, table: PriceTable) -> Price | None:
    """The endpoint's own `price`, else the table's price for the model it served."""
    if endpoint is not None and endpoint.price is not None:
        return endpoint.price
    return table.price_of(model)


# ---------------------------------------------------------------- what a row means


def is_rescued(status: int, endpoint: str | None, primary: str | None) -> bool:
    """The primary failed (or was cooling down) and another endpoint answered it well."""
    return 200 <= status < 300 and endpoint is not None and endpoint != primary


def failovers_in(steps: Sequence[str]) -> int:
    return max(len(steps) - 1, 0)


def session_of(headers: Sequence[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if len(name) == 24 and name.lower() == "x-claude-code-session-id":
            return value[:200]
    return None


@dataclass(frozen=True, slots=True)
class UsageToday:
    """The tray's line: today's requests, cost and rescues, and what went wrong recording."""

    requests: int = 0
    cost: float = 0.0  # of the requests with a known price
    unpriced: int = 0  # requests that used tokens at an unknown price
    rescued: int = 0
    warning: str = ""


def today_line(today: UsageToday) -> str:
    """The tray's line, such as "Today: 182 requests · $4.10 · 3 rescued"."""
    noun = "request" if today.requests == 1 else "requests"
    if today.unpriced and not today.cost:
        cost = "cost unknown"
    else:
        cost = f"${today.cost:.2f}" + ("+" if today.unpriced else "")
    return f"Today: {today.requests} {noun} · {cost} · {today.rescued} rescued"
