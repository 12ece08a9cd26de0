"""The bundled price table (`prices.json`, beside this module), read once at start-up."""

from __future__ import annotations

import json
from importlib import resources

from proxy.core.usage import PriceTable, parse_price_table

PRICES_FILE = "prices.json"


def bundled_prices() -> PriceTable:
    text = resources.files("proxy.ledger").joinpath(PRICES_FILE).read_text("utf-8")
    return parse_price_table(json.loads(text))
