"""Lossless bodies: a rewrite changes `model`, `max_tokens`, `thinking` and nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.config import Endpoint, Limits
from proxy.core.rewrite import UNCHANGED, rewrite_anthropic, rewrite_data
from proxy.core.thinking import Provenance, SignatureBook
from tests.proxy.core.jsontext import SPACE, join_members, request_members

PRIMARY = "https://api.anthropic.com"
FALLBACK = Endpoint(
    name="fb",
    base_url="https://fallback.example",
    models=(("*", "their-model"),),
    limits=Limits(max_output_tokens=8192),
)


def provenance() -> Provenance:
    return Provenance(PRIMARY, SignatureBook())


@settings(deadline=None, max_examples=150)
@given(request_members(), st.lists(SPACE, min_size=1, max_size=3))
def test_the_rewritten_body_is_the_input_but_for_model_and_max_tokens(
    members: list[tuple[str, str]], spaces: list[str]
) -> None:
    body = join_members(members, spaces).encode()
    expected_members = [
        (key, '"their-model"' if key == '"model"' else "8192" if value == "64000" else value)
        for key, value in members
    ]
    expected = join_members(expected_members, spaces).encode()
    rewritten = rewrite_anthropic(body, FALLBACK, provenance())
    assert rewritten.body == expected
    assert rewritten.mapped == "their-model"


@settings(deadline=None, max_examples=50)
@given(request_members(), st.lists(SPACE, min_size=1, max_size=3))
def test_a_body_with_nothing_to_change_is_left_alone(
    members: list[tuple[str, str]], spaces: list[str]
) -> None:
    body = join_members(members, spaces).encode()
    plain = Endpoint(name="p", base_url=PRIMARY)
    assert rewrite_anthropic(body, plain, provenance()) == UNCHANGED


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"model": "m"',
        b'\xff{"model": "m"}',
        b'{"model": "m"} trailing',
        b'{"model": "m", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        '{"model": "m"}'.encode("utf-16"),
    ],
)
def test_a_body_that_cannot_be_edited_goes_unchanged(body: bytes) -> None:
    assert rewrite_anthropic(body, FALLBACK, provenance()) == UNCHANGED


def test_a_lone_surrogate_does_not_stop_the_rewrite() -> None:
    body = b'{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"\\ud83d \\u00e9 1e-7"}]}'
    rewritten = rewrite_anthropic(body, FALLBACK, provenance())
    assert rewritten.body == body.replace(b"claude-sonnet-4-5", b"their-model")


def thinking_body(budget: int, max_tokens: int = 64000) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": max_tokens,
        "thinking": {"type": "enabled", "budget_tokens": budget},
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_a_clamp_keeps_the_thinking_budget_below_max_tokens() -> None:
    body = json.dumps(thinking_body(31999)).encode()
    out = json.loads(rewrite_anthropic(body, FALLBACK, provenance()).body or b"")
    assert out["max_tokens"] == 8192
    assert out["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    small = json.dumps(thinking_body(4000)).encode()
    out = json.loads(rewrite_anthropic(small, FALLBACK, provenance()).body or b"")
    assert out["thinking"]["budget_tokens"] == 4000


def test_a_limit_too_small_for_any_budget_turns_thinking_off() -> None:
    tiny = Endpoint(name="t", base_url="https://t.example", limits=Limits(max_output_tokens=1500))
    rewritten = rewrite_anthropic(json.dumps(thinking_body(2000)).encode(), tiny, provenance())
    out = json.loads(rewritten.body or b"")
    assert "thinking" not in out
    assert out["max_tokens"] == 1500
    assert rewritten.thinking_off


def test_openai_data_gets_the_model_and_the_clamp() -> None:
    endpoint = Endpoint(
        name="o",
        base_url="https://o.example/v1",
        format="openai",
        models=(("*", "gpt"),),
        limits=Limits(max_output_tokens=100),
    )
    data, mapped = rewrite_data({"model": "claude", "max_tokens": 64000}, endpoint)
    assert data == {"model": "gpt", "max_tokens": 100}
    assert mapped == "gpt"
    same = {"model": "gpt", "max_tokens": 5}
    assert rewrite_data(same, endpoint) == (same, None)


def test_a_body_within_the_output_limit_is_not_parsed() -> None:
    from proxy.core.body import max_tokens_within

    limited = Endpoint(name="l", base_url=PRIMARY, limits=Limits(max_output_tokens=64000))
    within = b'{"model":"m","max_tokens":32000,"messages":[], "x": \\ud83d'  # not even JSON
    assert rewrite_anthropic(within, limited, provenance()) == UNCHANGED
    assert max_tokens_within(b'{"max_tokens": 64000}', 64000)
    assert not max_tokens_within(b'{"a":{"max_tokens":1},"max_tokens" : 64001 }', 64000)
    assert max_tokens_within(b'{"max_tokens": 1e9}', 64000)  # not a whole number: never clamped
    above = b'{"model":"m","max_tokens":128000,"messages":[]}'
    assert rewrite_anthropic(above, limited, provenance()).body == above.replace(
        b"128000", b"64000"
    )
