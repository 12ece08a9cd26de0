"""Model mapping: exact names or `*` globs, first match wins, unmatched names pass unchanged."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.models import map_model

RULES = (
    ("claude-haiku-*", "anthropic/claude-haiku-4.5"),
    ("claude-opus-4-1", "anthropic/claude-opus-4.1"),
    ("*-sonnet-*", "anthropic/claude-sonnet-4.5"),
    ("*", "fallback-model"),
)


@pytest.mark.parametrize(
    ("model", "mapped"),
    [
        ("claude-haiku-4-5-20251001", "anthropic/claude-haiku-4.5"),
        ("claude-haiku-", "anthropic/claude-haiku-4.5"),  # `*` matches nothing too
        ("claude-opus-4-1", "anthropic/claude-opus-4.1"),
        ("claude-opus-4-1-20250805", "fallback-model"),  # exact means exact
        ("claude-sonnet-4-5", "anthropic/claude-sonnet-4.5"),
        ("", "fallback-model"),
    ],
)
def test_first_matching_rule_wins(model: str, mapped: str) -> None:
    assert map_model(model, RULES) == mapped


def test_no_rules_or_no_match_leaves_the_name() -> None:
    assert map_model("claude-sonnet-4-5", ()) == "claude-sonnet-4-5"
    assert map_model("gpt-4o", RULES[:2]) == "gpt-4o"


def test_matching_is_case_sensitive() -> None:
    assert map_model("Claude-Haiku-4", RULES[:1]) == "Claude-Haiku-4"


def test_exact_beats_glob_only_by_order() -> None:
    glob_first = (("claude-*", "glob"), ("claude-opus-4-1", "exact"))
    assert map_model("claude-opus-4-1", glob_first) == "glob"
    assert map_model("claude-opus-4-1", glob_first[::-1]) == "exact"


def test_star_matches_slashes_and_dots() -> None:
    assert map_model("org/claude-3.5-sonnet", (("*sonnet", "s"),)) == "s"


@pytest.mark.parametrize(
    ("pattern", "model"),
    [
        ("claude-?", "claude-3"),  # `?` is not a documented wildcard
        ("claude-[abc]", "claude-a"),  # nor is a `[...]` class
        ("claude-sonnet-4-5[1m]", "claude-sonnet-4-51"),
    ],
)
def test_only_star_is_a_wildcard(pattern: str, model: str) -> None:
    """DESIGN §2: "exact names or * globs"; fnmatch also reads `?` and `[...]`."""
    assert map_model(model, ((pattern, "mapped"),)) == model


def test_brackets_in_an_exact_name_match_themselves() -> None:
    assert map_model("claude-sonnet-4-5[1m]", (("claude-sonnet-4-5[1m]", "x"),)) == "x"


# ---------------------------------------------------------------- properties

PIECES = st.text(alphabet="ab-.", max_size=4)
PATTERNS = st.lists(st.one_of(PIECES, st.just("*")), min_size=1, max_size=4).map("".join)
MODELS = st.text(alphabet="ab-.", max_size=8)


def star_glob_matches(pattern: str, model: str) -> bool:
    """The reference: `*` is any run of characters, everything else is literal."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, model, flags=re.DOTALL) is not None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(PATTERNS, st.text(max_size=5)), max_size=5), MODELS)
def test_result_is_the_target_of_the_first_star_glob_match(
    rules: list[tuple[str, str]], model: str
) -> None:
    expected = next((target for p, target in rules if star_glob_matches(p, model)), model)
    assert map_model(model, tuple(rules)) == expected


@settings(max_examples=100, deadline=None)
@given(MODELS, st.text(max_size=5))
def test_a_literal_name_matches_itself(model: str, target: str) -> None:
    assert map_model(model, ((model, target),)) == target
    assert map_model(model, (("*", target),)) == target
