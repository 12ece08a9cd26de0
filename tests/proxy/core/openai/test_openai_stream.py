"""StreamTranslator on the cases the golden transcripts do not show."""

from __future__ import annotations

import json
from typing import Any

import pytest

from proxy.core.openai.stream import StreamTranslator
from tests.proxy.core.openai.openai_checks import anthropic_events, assembled_blocks


def sse(*chunks: dict[str, Any] | str) -> bytes:
    return b"".join(
        b"data: " + (c if isinstance(c, str) else json.dumps(c)).encode() + b"\n\n" for c in chunks
    )


def delta(finish_reason: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-9",
        "choices": [{"index": 0, "delta": fields, "finish_reason": finish_reason}],
    }


def call(
    index: int | None, call_id: str | None = None, name: str | None = None, args: Any = ""
) -> dict[str, Any]:
    fragment: dict[str, Any] = {"function": {"arguments": args}}
    if index is not None:
        fragment["index"] = index
    if call_id is not None:
        fragment["id"] = call_id
    if name is not None:
        fragment["function"]["name"] = name
    return fragment


def run(raw: bytes) -> list[dict[str, Any]]:
    translator = StreamTranslator("claude-x")
    return anthropic_events(translator.feed(raw) + translator.finish())


def tools_of(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    blocks = assembled_blocks(events)
    return [(b["id"], b["name"], b["streamed"]) for b in blocks if b["type"] == "tool_use"]


@pytest.mark.parametrize(
    "raw", [b"", b": keep-alive\n\n: again\n\n", b"data: [DONE]\n\n", b"data: not json\n\n"]
)
def test_no_response_at_all_is_an_api_error(raw: bytes) -> None:
    translator = StreamTranslator("claude-x")
    out = translator.feed(raw) + translator.finish()
    assert [e["type"] for e in anthropic_events(out)] == ["error"]
    assert anthropic_events(out)[0]["error"]["type"] == "api_error"
    assert not translator.committed


def test_committed_once_a_block_starts() -> None:
    translator = StreamTranslator("claude-x")
    translator.feed(sse(delta(role="assistant", content="")))
    assert not translator.committed
    translator.feed(sse(delta(content="hi")))
    assert translator.committed


def test_done_without_finish_reason_ends_normally() -> None:
    events = run(sse(delta(content="hi"), "[DONE]"))
    assert events[-2]["delta"]["stop_reason"] == "end_turn"


def test_message_stop_is_written_at_done_without_waiting_for_eof() -> None:
    translator = StreamTranslator("claude-x")
    out = translator.feed(sse(delta(content="hi"), delta("stop"), "[DONE]"))
    assert out.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert translator.finish() == b""
    assert translator.feed(sse(delta(content="more"))) == b""
    assert translator.fail("late") == b""


def test_in_band_error_after_content_ends_the_stream_with_an_error() -> None:
    events = run(
        sse(delta(content="hi"), {"error": {"message": "overloaded", "type": "server_error"}})
    )
    assert [e["type"] for e in events][-1] == "error"
    assert events[-1]["error"] == {"type": "api_error", "message": "overloaded"}


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"message": "m", "code": "rate_limit_exceeded"}, "rate_limit_error"),
        ({"message": "m", "code": 503}, "overloaded_error"),
        ({"message": "m", "type": "invalid_request_error"}, "invalid_request_error"),
        ({"message": "m", "code": "weird"}, "api_error"),
        ("plain text", "api_error"),
    ],
)
def test_in_band_error_types(error: Any, kind: str) -> None:
    events = run(sse({"error": error}))
    assert [e["type"] for e in events] == ["error"]
    assert events[0]["error"]["type"] == kind


def test_error_event_with_text_data() -> None:
    events = run(b"event: error\ndata: upstream exploded\n\n")
    assert events == [
        {"type": "error", "error": {"type": "api_error", "message": "upstream exploded"}}
    ]


def test_fail_writes_one_api_error() -> None:
    translator = StreamTranslator("claude-x")
    translator.feed(sse(delta(content="hi")))
    events = anthropic_events(translator.fail("connection reset"))
    assert events == [
        {"type": "error", "error": {"type": "api_error", "message": "connection reset"}}
    ]
    assert translator.fail("again") == b""
    assert translator.finish() == b""


def test_given_message_id_and_model_are_used() -> None:
    translator = StreamTranslator("claude-x", message_id="msg_given")
    start = anthropic_events(translator.feed(sse(delta(content="hi"))))[0]
    assert (start["message"]["id"], start["message"]["model"]) == ("msg_given", "claude-x")


def test_usage_in_the_first_chunk_is_reported_at_message_start() -> None:
    first = delta(content="hi") | {"usage": {"prompt_tokens": 7, "completion_tokens": 1}}
    assert run(sse(first, delta("stop")))[0]["message"]["usage"]["input_tokens"] == 7


def test_calls_without_index_are_told_apart_by_id() -> None:
    events = run(
        sse(
            delta(tool_calls=[call(None, "a", "f", '{"x":')]),
            delta(tool_calls=[call(None, None, None, "1}")]),
            delta(tool_calls=[call(None, "b", "g", "{}")]),
            delta("tool_calls"),
        )
    )
    assert tools_of(events) == [("a", "f", '{"x":1}'), ("b", "g", "{}")]


def test_parallel_calls_that_all_claim_index_zero_are_told_apart_by_id() -> None:
    events = run(
        sse(
            delta(tool_calls=[call(0, "a", "f", "{}")]),
            delta(tool_calls=[call(0, "b", "g", '{"y":2}')]),
            delta("tool_calls"),
        )
    )
    assert tools_of(events) == [("a", "f", "{}"), ("b", "g", '{"y":2}')]


def test_name_arriving_after_arguments_opens_the_block_late() -> None:
    events = run(
        sse(
            delta(tool_calls=[call(0, "a", None, '{"x"')]),
            delta(tool_calls=[call(0, None, "f", ":1}")]),
            delta("tool_calls"),
        )
    )
    assert tools_of(events) == [("a", "f", '{"x":1}')]


def test_call_whose_name_never_comes_still_gets_a_block() -> None:
    events = run(sse(delta(tool_calls=[call(0, "a", None, "{}")]), delta("tool_calls")))
    assert tools_of(events) == [("a", "", "{}")]


def test_fragment_for_an_already_closed_call_is_dropped() -> None:
    events = run(
        sse(
            delta(tool_calls=[call(0, "a", "f", "{")]),
            delta(tool_calls=[call(1, "b", "g", "{}")]),
            delta(tool_calls=[call(0, None, None, "}")]),
            delta("tool_calls"),
        )
    )
    assert tools_of(events) == [("a", "f", "{"), ("b", "g", "{}")]


def test_arguments_sent_as_an_object() -> None:
    events = run(sse(delta(tool_calls=[call(0, "a", "f", {"x": 1})]), delta("tool_calls")))
    assert tools_of(events) == [("a", "f", '{"x": 1}')]


def test_text_after_a_tool_call_opens_a_new_block() -> None:
    events = run(
        sse(
            delta(content="a"),
            delta(tool_calls=[call(0, "t", "f", "{}")]),
            delta(content="b"),
            delta("stop"),
        )
    )
    blocks = assembled_blocks(events)
    assert [(b["type"], b["streamed"]) for b in blocks] == [
        ("text", "a"),
        ("tool_use", "{}"),
        ("text", "b"),
    ]
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_unsafe_and_repeated_tool_ids_are_made_safe_and_unique() -> None:
    events = run(
        sse(
            delta(tool_calls=[call(0, "functions.f:0", "f", "{}")]),
            delta(tool_calls=[call(1, "functions.f:0", "f", "{}")]),
            delta("tool_calls"),
        )
    )
    ids = [tool_id for tool_id, _, _ in tools_of(events)]
    assert ids[0] == "functions_f_0"
    assert len(set(ids)) == 2


def test_legacy_function_call_delta() -> None:
    events = run(
        sse(
            delta(function_call={"name": "f", "arguments": '{"a"'}),
            delta(function_call={"arguments": ":1}"}),
            delta("function_call"),
        )
    )
    assert [(name, args) for _, name, args in tools_of(events)] == [("f", '{"a":1}')]
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_reasoning_only_answer_has_no_blocks() -> None:
    events = run(
        sse(delta(reasoning="thinking..."), delta(reasoning_content="more"), delta("stop"))
    )
    assert [e["type"] for e in events] == ["message_start", "message_delta", "message_stop"]


def test_tool_calls_finish_without_a_call_is_end_turn() -> None:
    events = run(sse(delta(content="done"), delta("tool_calls")))
    assert events[-2]["delta"]["stop_reason"] == "end_turn"


def test_fail_before_anything_arrived() -> None:
    translator = StreamTranslator("claude-x")
    assert anthropic_events(translator.fail("connect timeout"))[0]["error"]["type"] == "api_error"
    assert not translator.committed
    assert translator.feed(sse(delta(content="late"))) == b""
