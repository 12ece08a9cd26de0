"""Bodies: the model map, stripping thinking blocks for the signature retry, `usage`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.body import (
    dump,
    find_usage,
    parse_json_object,
    sniff_model,
    with_model,
)

RULES = (("claude-haiku-*", "anthropic/claude-haiku-4.5"), ("*", "anthropic/claude-sonnet-4.5"))


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'"text"', b"null", b"\xff\xfe", b"[" * 100_000, b"{"],
)
def test_bodies_that_are_not_json_objects_are_none(body: bytes) -> None:
    assert parse_json_object(body) is None


def test_json_object_is_parsed() -> None:
    assert parse_json_object(b'{"model": "m", "stream": true}') == {"model": "m", "stream": True}
    assert parse_json_object('{"text": "é"}'.encode()) == {"text": "é"}


def test_model_is_mapped() -> None:
    data = {"model": "claude-haiku-4-5", "max_tokens": 10}
    mapped, target = with_model(data, RULES)
    assert target == "anthropic/claude-haiku-4.5"
    assert mapped == {"model": "anthropic/claude-haiku-4.5", "max_tokens": 10}
    assert data["model"] == "claude-haiku-4-5"  # the original is not mutated


@pytest.mark.parametrize(
    ("data", "rules"),
    [
        ({"model": "claude-sonnet-4-5"}, ()),
        ({"model": "claude-sonnet-4-5"}, (("claude-sonnet-4-5", "claude-sonnet-4-5"),)),
        ({"model": 5}, RULES),
        ({"model": None}, RULES),
        ({"messages": []}, RULES),
    ],
)
def test_nothing_to_map_returns_the_same_data(
    data: dict[str, Any], rules: tuple[tuple[str, str], ...]
) -> None:
    mapped, target = with_model(data, rules)
    assert mapped is data
    assert target is None


def test_dump_is_compact_utf8() -> None:
    assert dump({"model": "m", "text": "é→"}) == '{"model":"m","text":"é→"}'.encode()


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), JSON, max_size=4))
def test_dump_then_parse_is_identity(data: dict[str, Any]) -> None:
    assert parse_json_object(dump(data)) == data
    assert json.loads(dump(data)) == data


def test_sniff_model_finds_the_top_level_model_without_parsing() -> None:
    body = json.dumps(
        {"model": "claude-opus-4-1", "messages": [{"role": "user", "content": 'say "model": "x"'}]}
    )
    assert sniff_model(body.encode()) == "claude-opus-4-1"
    assert sniff_model(b"not json") is None


def test_find_usage_takes_the_top_level_usage_after_the_content() -> None:
    answer = {
        "content": [{"type": "tool_use", "input": {"usage": {"input_tokens": 999}}}],
        "usage": {
            "input_tokens": 5,
            "cache_creation": {"ephemeral_5m_input_tokens": 2},
            "output_tokens": 3,
        },
    }
    assert find_usage(json.dumps(answer).encode()) == {"input_tokens": 5, "output_tokens": 3}
    assert find_usage(b'{"usage": {"input_tokens": ') == {}
    assert find_usage(b"<html>") == {}


def test_find_usage_reads_a_message_start_event() -> None:
    start = {"type": "message_start", "message": {"content": [], "usage": {"input_tokens": 12}}}
    assert find_usage(json.dumps(start).encode()) == {"input_tokens": 12}


def test_find_usage_skips_a_last_usage_that_is_not_an_object() -> None:
    body = b'{"usage": {"input_tokens": 4}, "note": "usage", "usage": null}'
    assert find_usage(body) == {"input_tokens": 4}


def test_only_positive_whole_numbers_are_counts() -> None:
    body = b'{"usage": {"input_tokens": 3, "cached": true, "tier": "x", "refund": -2, "r": 1.5}}'
    assert find_usage(body) == {"input_tokens": 3}


COUNTS = st.dictionaries(
    st.sampled_from(["input_tokens", "output_tokens", "cache_read_input_tokens"]),
    st.integers(1, 10**9),
)
TEXTS = st.lists(st.sampled_from(['"', "\\", '"usage"', ":", "{", "}", " ", "x"]), max_size=12).map(
    "".join
)


@given(COUNTS, st.lists(TEXTS, max_size=4))
def test_find_usage_finds_the_answers_usage_whatever_the_content_says(
    usage: dict[str, int], texts: list[str]
) -> None:
    content = [{"type": "text", "text": text} for text in texts]
    body = json.dumps({"id": "msg", "content": content, "usage": usage}).encode()
    assert find_usage(body) == usage


@given(st.binary(max_size=200))
def test_find_usage_never_raises(body: bytes) -> None:
    assert isinstance(find_usage(b'"usage": ' + body), dict)
