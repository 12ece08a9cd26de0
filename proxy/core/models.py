"""Model-name mapping: exact names or `*` globs, first match wins."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    """Only `*` is special: `?` and `[...]` are literal, as in real model names like `x[1m]`."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def map_model(model: str, rules: tuple[tuple[str, str], ...]) -> str:
    """The name `model` is sent as: the target of the first matching rule, else unchanged."""
    for pattern, target in rules:
        if pattern == model or ("*" in pattern and _glob(pattern).fullmatch(model)):
            return target
    return model
