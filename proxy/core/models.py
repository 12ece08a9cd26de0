"""Model-name mapping: exact names or `*` globs, first match wins."""

from __future__ import annotations

import re


def glob_regex(pattern: str) -> str:
    """Only `*` is special: `?` and `[...]` are literal, as in real model names like `x[1m]`."""
    return ".*".join(re.escape(part) for part in pattern.split("*"))


def map_model(model: str, rules: tuple[tuple[str, str], ...]) -> str:
    """The name `model` is sent as: the target of the first matching rule, else unchanged."""
    for pattern, target in rules:
        if pattern == model or (
            "*" in pattern and re.fullmatch(glob_regex(pattern), model, re.DOTALL)
        ):
            return target
    return model
