"""anthropic_to_openai on the cases the golden files do not show."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.core.openai.request import anthropic_to_openai
from proxy.core.openai.schema import clean_schema
from tests.proxy.core.openai.openai_checks import assert_valid_openai_request


def translate(**fields: Any) -> dict[str, Any]:
    return anthropic_to_openai({"model": "m", "max_tokens": 16, **fields})


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def assistant(content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def tool_use(call_id: str, name: str = "f") -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": {"x": 1}}


def tool_result(call_id: str, content: Any = "ok") -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": content}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"messages": "hello"},
        {"messages": [None, 3, "x", {"role": "user"}]},
        {"messages": [user(None)], "system": 7, "tools": "x", "tool_choice": "auto"},
        {"messages": [user([None, {"type": "image"}, {"type": "document", "source": {}}])]},
        {"messages": [assistant([{"type": "tool_use"}]), user([{"type": "tool_result"}])]},
        {"metadata": "x", "stop_sequences": "STOP", "temperature": True, "max_tokens": "9"},
    ],
)
def test_odd_input_does_not_crash(body: dict[str, Any]) -> None:
    anthropic_to_openai(body)


def test_minimal_request_is_valid_for_the_openai_sdk() -> None:
    translated = translate(messages=[user("hi")])
    assert translated == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 16,
    }
    assert_valid_openai_request(translated)


def test_tool_messages_precede_the_user_text_of_the_same_turn() -> None:
    messages = [
        user("go"),
        assistant([tool_use("a"), tool_use("b")]),
        user([{"type": "text", "text": "first"}, tool_result("b"), tool_result("a")]),
    ]
    roles = [(m["role"], m.get("tool_call_id")) for m in translate(messages=messages)["messages"]]
    assert roles == [
        ("user", None),
        ("assistant", None),
        ("tool", "b"),
        ("tool", "a"),
        ("user", None),
    ]


def test_result_without_a_matching_call_becomes_text() -> None:
    messages = [user("go"), assistant("no tools here"), user([tool_result("ghost", "42")])]
    converted = translate(messages=messages)["messages"]
    assert converted[-1] == {"role": "user", "content": "Result of tool call ghost: 42"}
    assert_valid_openai_request(translate(messages=messages))


def test_duplicate_result_becomes_text() -> None:
    messages = [assistant([tool_use("a")]), user([tool_result("a", "1"), tool_result("a", "2")])]
    converted = translate(messages=messages)["messages"]
    assert converted[1] == {"role": "tool", "tool_call_id": "a", "content": "1"}
    assert converted[2] == {"role": "user", "content": "Result of tool call a: 2"}


def test_unanswered_call_gets_a_placeholder_result() -> None:
    messages = [assistant([tool_use("a"), tool_use("b")]), user([tool_result("a")]), assistant("x")]
    converted = translate(messages=messages)["messages"]
    assert converted[2] == {"role": "tool", "tool_call_id": "b", "content": "(no result)"}


def test_call_unanswered_before_the_next_assistant_message_gets_a_placeholder() -> None:
    messages = [assistant([tool_use("a")]), assistant("later"), user("hi")]
    roles = [m["role"] for m in translate(messages=messages)["messages"]]
    assert roles == ["assistant", "tool", "assistant", "user"]


def test_error_results_and_empty_results() -> None:
    messages = [
        assistant([tool_use("a"), tool_use("b"), tool_use("c")]),
        user(
            [
                {"type": "tool_result", "tool_use_id": "a", "is_error": True},
                {"type": "tool_result", "tool_use_id": "b"},
                {"type": "tool_result", "tool_use_id": "c", "is_error": True, "content": "boom"},
            ]
        ),
    ]
    contents = [m["content"] for m in translate(messages=messages)["messages"][1:]]
    assert contents == ["Error", "(no output)", "Error: boom"]


def test_thinking_only_assistant_message_is_skipped() -> None:
    thinking = {"type": "thinking", "thinking": "hmm", "signature": "sig"}
    messages = [
        user("a"),
        assistant([thinking, {"type": "redacted_thinking", "data": "x"}]),
        user("b"),
    ]
    assert [m["content"] for m in translate(messages=messages)["messages"]] == ["a", "b"]


def test_documents_by_url_and_by_content() -> None:
    url_doc = {"type": "document", "source": {"type": "url", "url": "https://x.test/a.pdf"}}
    content_doc = {
        "type": "document",
        "source": {"type": "content", "content": [{"type": "text", "text": "inner"}]},
    }
    converted = translate(messages=[user([url_doc, content_doc])])["messages"]
    assert converted == [
        {
            "role": "user",
            "content": "[Document: https://x.test/a.pdf] https://x.test/a.pdf\n\ninner",
        }
    ]


def test_stop_sequences_are_cut_to_openai_limit() -> None:
    translated = translate(messages=[user("x")], stop_sequences=["a", "b", "", "c", "d", "e"])
    assert translated["stop"] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "none"}, "none"),
        ({"type": "any"}, "required"),
        ({"type": "tool", "name": "f"}, {"type": "function", "function": {"name": "f"}}),
    ],
)
def test_tool_choice(choice: dict[str, Any], expected: object) -> None:
    tools = [{"name": "f", "input_schema": {"type": "object"}}]
    translated = translate(messages=[user("x")], tools=tools, tool_choice=choice)
    assert translated["tool_choice"] == expected
    assert_valid_openai_request(translated)


def test_tool_choice_without_tools_is_dropped() -> None:
    translated = translate(messages=[user("x")], tool_choice={"type": "any"})
    assert "tool_choice" not in translated
    assert "tools" not in translated


def test_parallel_calls_stay_allowed_with_tool_choice_none() -> None:
    tools = [{"name": "f", "input_schema": {"type": "object"}}]
    choice = {"type": "none", "disable_parallel_tool_use": True}
    assert "parallel_tool_calls" not in translate(
        messages=[user("x")], tools=tools, tool_choice=choice
    )


def test_short_user_id_is_kept_and_non_streaming_has_no_stream_options() -> None:
    translated = translate(messages=[user("x")], metadata={"user_id": "u-1"}, stream=False)
    assert translated["user"] == "u-1"
    assert "stream" not in translated
    assert "stream_options" not in translated


def test_schema_cleaning_walks_subschemas_but_keeps_property_names() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "$schema": {"type": "string", "format": "uri"},
            "id": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]},
            "when": {"type": ["string", "null"], "format": "date-time"},
            "count": {"type": "integer", "format": "int32"},
        },
        "$defs": {"Item": {"$id": "item", "type": "string", "format": "email"}},
        "items": [{"type": "string", "format": "hostname"}],
    }
    assert clean_schema(schema) == {
        "type": "object",
        "properties": {
            "$schema": {"type": "string"},
            "id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "when": {"type": ["string", "null"], "format": "date-time"},
            "count": {"type": "integer", "format": "int32"},
        },
        "$defs": {"Item": {"type": "string"}},
        "items": [{"type": "string"}],
    }


SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "format": "email"}},
    "required": ["answer"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    "field",
    [
        {"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}},
        {"output_format": {"type": "json_schema", "schema": SCHEMA}},
    ],
)
def test_structured_output_becomes_response_format(field: dict[str, Any]) -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "q"}], **field}
    out = anthropic_to_openai(body)
    assert out["response_format"]["type"] == "json_schema"
    assert out["response_format"]["json_schema"]["name"] == "response"
    assert out["response_format"]["json_schema"]["schema"]["required"] == ["answer"]


@pytest.mark.parametrize(
    "field",
    [
        {"output_config": {"effort": "high"}},
        {"output_config": {"format": {"type": "json_schema"}}},
        {"output_config": {"format": "json"}},
        {"output_format": {"type": "text", "schema": SCHEMA}},
    ],
)
def test_no_response_format_without_a_json_schema(field: dict[str, Any]) -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "q"}], **field}
    assert "response_format" not in anthropic_to_openai(body)
