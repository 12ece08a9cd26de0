"""openai_to_anthropic and openai_error_to_anthropic on the cases the golden files do not show."""

from __future__ import annotations

import json
from typing import Any

import pytest

from proxy.core.openai.response import openai_error_to_anthropic, openai_to_anthropic
from tests.proxy.core.openai.openai_checks import assert_valid_anthropic_message


def completion(
    message: dict[str, Any], finish_reason: object = "stop", **choice: Any
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, **choice}],
    }


def translate(data: dict[str, Any]) -> dict[str, Any]:
    message = openai_to_anthropic(data, "claude-x")
    assert_valid_anthropic_message(message)
    return message


@pytest.mark.parametrize(
    ("finish_reason", "stop_reason"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("content_filter", "refusal"),
        ("tool_calls", "end_turn"),
        ("function_call", "end_turn"),
        (None, "end_turn"),
        ("something_new", "end_turn"),
    ],
)
def test_stop_reasons(finish_reason: object, stop_reason: str) -> None:
    assert translate(completion({"content": "x"}, finish_reason))["stop_reason"] == stop_reason


@pytest.mark.parametrize("finish_reason", ["tool_calls", "stop", None])
def test_tool_calls_end_in_tool_use(finish_reason: str | None) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    message = translate(completion({"content": None, "tool_calls": [call]}, finish_reason))
    assert message["stop_reason"] == "tool_use"


def test_length_with_tool_calls_stays_max_tokens() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{"}}
    message = translate(completion({"content": None, "tool_calls": [call]}, "length"))
    assert message["stop_reason"] == "max_tokens"


def test_stop_string_named_by_the_server_is_a_stop_sequence() -> None:
    message = translate(completion({"content": "1, 2"}, "stop", stop_reason="END"))
    assert (message["stop_reason"], message["stop_sequence"]) == ("stop_sequence", "END")


def test_eos_token_id_in_stop_reason_is_not_a_stop_sequence() -> None:
    message = translate(completion({"content": "x"}, "stop", stop_reason=151645))
    assert (message["stop_reason"], message["stop_sequence"]) == ("end_turn", None)


@pytest.mark.parametrize(
    ("arguments", "tool_input"),
    [
        ("", {}),
        (None, {}),
        ('{"a": [1, 2]}', {"a": [1, 2]}),
        ({"a": 1}, {"a": 1}),
        ("[1, 2]", {"_raw_arguments": "[1, 2]"}),
        ("{broken", {"_raw_arguments": "{broken"}),
        ("[" * 5000, {"_raw_arguments": "[" * 5000}),
    ],
)
def test_tool_arguments(arguments: object, tool_input: dict[str, Any]) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    message = translate(completion({"tool_calls": [call]}, "tool_calls"))
    assert message["content"][0]["input"] == tool_input


def test_missing_ids_are_generated_deterministically_and_distinct() -> None:
    calls = [{"function": {"name": "f", "arguments": "{}"}} for _ in range(2)]
    data = {"choices": [{"message": {"tool_calls": calls}, "finish_reason": "tool_calls"}]}
    first, second = translate(data), translate(data)
    assert first == second
    assert first["id"].startswith("msg_")
    ids = [block["id"] for block in first["content"]]
    assert len(set(ids)) == 2
    assert all(tool_id.startswith("toolu_") for tool_id in ids)


def test_legacy_function_call() -> None:
    message = translate(
        completion({"function_call": {"name": "f", "arguments": '{"a":1}'}}, "function_call")
    )
    assert message["content"][0]["name"] == "f"
    assert message["content"][0]["input"] == {"a": 1}
    assert message["stop_reason"] == "tool_use"


def test_refusal_and_content_parts_read_as_text() -> None:
    refused = translate(completion({"content": None, "refusal": "I can't help with that."}))
    assert refused["content"] == [{"type": "text", "text": "I can't help with that."}]
    parts = translate(
        completion({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]})
    )
    assert parts["content"] == [{"type": "text", "text": "ab"}]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"choices": []},
        {"choices": [None]},
        {"choices": [{"message": "text"}], "usage": "x", "id": 5},
        {"choices": [{"message": {"tool_calls": [None, {"function": "x"}]}}]},
        {"usage": {"prompt_tokens": -3, "completion_tokens": True, "prompt_tokens_details": None}},
    ],
)
def test_odd_completions_still_give_a_valid_message(data: dict[str, Any]) -> None:
    translate(data)


def test_cached_tokens_never_exceed_prompt_tokens() -> None:
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 1,
        "prompt_tokens_details": {"cached_tokens": 50},
    }
    result = translate({"choices": [], "usage": usage})["usage"]
    assert (result["input_tokens"], result["cache_read_input_tokens"]) == (0, 10)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (402, "billing_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (408, "timeout_error"),
        (413, "request_too_large"),
        (418, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (503, "overloaded_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
        (200, "api_error"),
    ],
)
def test_error_type_follows_the_status(status: int, kind: str) -> None:
    body = json.loads(openai_error_to_anthropic(status, b'{"error": {"message": "m"}}'))
    assert body == {"type": "error", "error": {"type": kind, "message": "m"}}


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe not utf-8", b"null", b"[]", b"{}", b'{"error": {}}', b"x" * 10_000, b"[" * 5000],
)
def test_any_error_body_gives_a_well_formed_error(body: bytes) -> None:
    translated = json.loads(openai_error_to_anthropic(500, body))
    assert translated["type"] == "error"
    assert translated["error"]["type"] == "api_error"
    assert isinstance(translated["error"]["message"], str)
    assert 0 < len(translated["error"]["message"]) <= 500
