"""Shared checks for the translation tests: SDK validation and the Anthropic stream grammar."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from anthropic.types import ErrorResponse, Message, RawMessageStreamEvent
from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from pydantic import TypeAdapter

from proxy.core.sse import SseParser

GOLDEN = Path(__file__).parent / "golden"


def golden_json(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


@cache
def _request_adapter(streaming: bool) -> TypeAdapter[Any]:
    kind = CompletionCreateParamsStreaming if streaming else CompletionCreateParamsNonStreaming
    return TypeAdapter(kind)


@cache
def _event_adapter() -> TypeAdapter[Any]:
    return TypeAdapter(RawMessageStreamEvent)


def _materialise(value: Any) -> Any:
    """Pydantic validates `Iterable[...]` fields lazily: walk them so every item is checked."""
    if isinstance(value, dict):
        return {key: _materialise(item) for key, item in value.items()}
    if isinstance(value, list | tuple) or type(value).__name__ == "ValidatorIterator":
        return [_materialise(item) for item in value]
    return value


def assert_valid_openai_request(request: dict[str, Any]) -> None:
    """The official SDK's request types accept `request`, and drop nothing from it (an
    unknown key would be dropped, so equality also rules out misspelt fields)."""
    validated = _request_adapter(request.get("stream") is True).validate_python(request)
    assert _materialise(validated) == request


def assert_valid_anthropic_message(message: dict[str, Any]) -> None:
    Message.model_validate(message)
    assert set(message) == {
        "id",
        "type",
        "role",
        "model",
        "content",
        "stop_reason",
        "stop_sequence",
        "usage",
    }


def anthropic_events(raw: bytes) -> list[dict[str, Any]]:
    """The events of an Anthropic SSE stream, each name checked against its payload type and
    each payload validated with the SDK's event (or error) types."""
    parser = SseParser()
    events = parser.feed(raw) + parser.flush()
    assert parser.pending == b""
    payloads = []
    for event in events:
        payload = json.loads(event.data)
        assert payload["type"] == event.event
        if event.event == "error":
            ErrorResponse.model_validate(payload)
        else:
            _event_adapter().validate_python(payload)
        payloads.append(payload)
    return payloads


def assembled_blocks(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check the grammar of a complete stream and return its blocks, with the text or the
    `partial_json` of each concatenated. message_start first; blocks numbered 0, 1, 2…, each
    started, given deltas of its own kind, and stopped before the next; message_delta, then
    message_stop last."""
    assert events[0]["type"] == "message_start"
    assert [e["type"] for e in events[-2:]] == ["message_delta", "message_stop"]
    blocks: list[dict[str, Any]] = []
    open_index: int | None = None
    for event in events[1:-2]:
        open_index = _grammar_step(event, blocks, open_index)
    assert open_index is None
    return blocks


def _grammar_step(
    event: dict[str, Any], blocks: list[dict[str, Any]], open_index: int | None
) -> int | None:
    kind = event["type"]
    if kind == "content_block_start":
        assert open_index is None
        assert event["index"] == len(blocks)
        block = dict(event["content_block"])
        block["streamed"] = ""
        blocks.append(block)
        return event["index"]
    if kind == "content_block_delta":
        assert event["index"] == open_index
        block = blocks[open_index]
        delta = event["delta"]
        expected = "text_delta" if block["type"] == "text" else "input_json_delta"
        assert delta["type"] == expected
        block["streamed"] += delta["text"] if block["type"] == "text" else delta["partial_json"]
        return open_index
    assert kind == "content_block_stop", kind
    assert event["index"] == open_index
    return None
