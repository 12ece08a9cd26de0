"""The ledger's pure decisions: tokens, prices, cost, rescue, the tray line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.config import Endpoint, FieldError, Price, parse_config
from proxy.core.usage import (
    Tokens,
    UsageToday,
    cost_of,
    is_rescued,
    price_for,
    session_of,
    today_line,
    tokens_of,
)
from proxy.ledger.prices import bundled_prices

SONNET = Price(input=3, output=15, cache_read=0.3, cache_write=3.75)


def test_tokens_from_a_stream_and_from_a_whole_answer_agree() -> None:
    usage = {"input_tokens": 12, "output_tokens": 3, "cache_read_input_tokens": 100,
             "cache_creation_input_tokens": 50, "service_tier": "standard"}  # fmt: skip
    expected = Tokens(input=12, output=3, cache_read=100, cache_write=50)
    assert tokens_of(usage) == expected
    assert tokens_of(json.dumps(usage).encode()) == expected


def test_tokens_of_nothing_or_garbage_are_zero() -> None:
    assert tokens_of(b"") == Tokens()
    assert tokens_of(b"{not json") == Tokens()
    assert tokens_of({"input_tokens": True, "output_tokens": -4}) == Tokens()


def test_cost_is_per_million_tokens() -> None:
    tokens = Tokens(input=1_000_000, output=2_000_000, cache_read=10, cache_write=0)
    assert cost_of(tokens, SONNET) == pytest.approx(3 + 30 + 0.000003)


def test_an_unknown_price_is_unknown_never_zero() -> None:
    assert cost_of(Tokens(input=5), None) is None
    assert cost_of(Tokens(), None) == 0.0  # no tokens used: nothing to pay


@settings(deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_cost_grows_with_tokens(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert cost_of(Tokens(output=low), SONNET) <= cost_of(Tokens(output=high), SONNET)  # type: ignore[operator]


def test_the_bundled_table_prices_every_presets_models() -> None:
    table = bundled_prices()
    assert table.as_of
    presets = [
        "claude-opus-4-1-20250805", "claude-sonnet-4-5-20250929", "claude-haiku-4-5",
        "anthropic/claude-opus-4.1", "anthropic/claude-haiku-4.5", "anthropic/claude-sonnet-4.5",
        "deepseek-chat", "kimi-k2-0905-preview", "glm-4.5-air", "glm-4.6", "MiniMax-M2",
        "qwen3-coder-plus", "qwen3-coder", "gpt-5-mini", "gpt-5", "openai/gpt-oss-120b",
        "openai/gpt-oss-20b", "Qwen/Qwen3-Coder-30B-A3B-Instruct",
    ]  # fmt: skip
    missing = [model for model in presets if table.price_of(model) is None]
    assert missing == []
    assert table.price_of("claude-sonnet-4-5") == SONNET
    assert table.price_of("gpt-5-mini") != table.price_of("gpt-5")
    assert table.price_of("some-new-model") is None


def test_an_endpoints_own_price_wins_over_the_table() -> None:
    own = Price(input=1, output=2)
    endpoint = Endpoint(name="x", base_url="http://x", price=own)
    assert price_for(endpoint, "claude-sonnet-4-5", bundled_prices()) == own
    plain = Endpoint(name="y", base_url="http://y")
    assert price_for(plain, "claude-sonnet-4-5", bundled_prices()) == SONNET


def test_price_in_the_config_is_checked() -> None:
    config = parse_config(
        {"endpoints": [{"name": "a", "base_url": "http://a", "price": {"input": 0.27}}],
         "usage": {"retention_days": 30}}, {}
    )  # fmt: skip
    assert config.endpoints[0].price == Price(input=0.27)
    assert config.usage.retention_days == 30
    with pytest.raises(FieldError, match=r"endpoints\[0\]\.price\.output"):
        parse_config({"endpoints": [{"name": "a", "base_url": "http://a",
                                     "price": {"output": -1}}]}, {})  # fmt: skip
    with pytest.raises(FieldError, match=r"usage\.retention_days"):
        parse_config({"usage": {"retention_days": 0}}, {})


def test_rescued_means_another_endpoint_answered_well() -> None:
    assert is_rescued(200, "backup", "anthropic")
    assert not is_rescued(200, "anthropic", "anthropic")
    assert not is_rescued(529, "backup", "anthropic")
    assert not is_rescued(502, None, "anthropic")


def test_session_id_comes_from_claude_codes_header() -> None:
    assert session_of([("X-Claude-Code-Session-Id", "abc")]) == "abc"
    assert session_of([("x-api-key", "sk-secret")]) is None


def test_the_tray_line() -> None:
    assert today_line(UsageToday(182, 4.1, 0, 3)) == "Today: 182 requests · $4.10 · 3 rescued"
    assert today_line(UsageToday(1, 0.0, 1, 0)) == "Today: 1 request · cost unknown · 0 rescued"
    assert today_line(UsageToday(5, 1.0, 2, 1)) == "Today: 5 requests · $1.00+ · 1 rescued"
