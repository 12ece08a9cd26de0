"""Model-name mapping: exact names or `*` globs, first match wins."""

from __future__ import annotations

from fnmatch import fnmatchcase


def map_model(model: str, rules: tuple[tuple[str, str], ...]) -> str:
    """The name `model` is sent as: the target of the first matching rule, else unchanged."""
    for pattern, target in rules:
        if pattern == model or fnmatchcase(model, pattern):
            return target
    return model
