"""An OpenAI chat.completion.chunk SSE stream as an Anthropic Messages event stream.

Feed the upstream bytes as they arrive, split anywhere; each call returns the Anthropic
SSE bytes ready so far. The output is `message_start`, then content blocks one at a time
(text as `text_delta`, each tool call as `input_json_delta` fragments), then
`message_delta` and `message_stop`. Rules where the formats differ:

- The message starts at the first JSON chunk; it ends at `[DONE]`, or at `finish()` when a
  `finish_reason` arrived (servers that never send `[DONE]`).
- `finish()` emits an `api_error` frame instead when no chunk arrived at all, or when
  neither `[DONE]` nor a `finish_reason` came: the stream broke mid-answer.
- An in-band `{"error": …}` chunk (or an `event: error`) becomes an `event: error` frame with
  the mapped Anthropic type, and ends the translation.
- `reasoning_content` / `reasoning` deltas are dropped: Anthropic thinking blocks need a
  signature no other provider can make. `refusal` deltas read as text.
- A tool call opens its block once its name is known; a fragment for a call whose block
  already closed (OpenAI streams calls one after another) is dropped.
- After `message_stop` or an error frame nothing more is written, `fail()` included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from proxy.core.openai.common import (
    anthropic_usage,
    arguments_text,
    digest,
    error_type_for_code,
    matched_stop_sequence,
    message_id,
    safe_id,
    stop_reason,
)
from proxy.core.openai.content import dict_field, dicts_of
from proxy.core.sse import SseEvent, SseParser, error_frame, frame

TEXT = "text"
NO_RESPONSE = "upstream ended the stream without a response"


@dataclass(slots=True)
class _ToolCall:
    index: object
    upstream_id: str | None
    name: str = ""
    pending: str = ""
    block: int | None = None


class StreamTranslator:
    """One upstream stream's translation; see the module docstring for the rules."""

    def __init__(self, model: str, message_id: str | None = None) -> None:
        self._model = model
        self._message_id = message_id
        self._parser = SseParser()
        self._started = False
        self._ended = False
        self._committed = False
        self._next_block = 0
        self._open_block: int | None = None
        self._open_kind: str | _ToolCall | None = None
        self._calls: list[_ToolCall] = []
        self._tool_ids: set[str] = set()
        self._finish_reason: object = None
        self._stop_sequence: str | None = None
        self._usage: dict[str, Any] | None = None

    @property
    def committed(self) -> bool:
        """Whether a `content_block_start` or `message_stop` has been emitted."""
        return self._committed

    def feed(self, chunk: bytes) -> bytes:
        return b"".join(self._on_event(event) for event in self._parser.feed(chunk))

    def finish(self) -> bytes:
        """Call at upstream EOF: the stream's end, or an error frame if it broke."""
        out = b"".join(self._on_event(event) for event in self._parser.flush())
        if self._ended:
            return out
        if not self._started:
            return out + self._error("api_error", NO_RESPONSE)
        if self._finish_reason is None:
            return out + self.fail("upstream stream ended before the response was complete")
        return out + self._end_message()

    def fail(self, message: str) -> bytes:
        """The stream broke: an `api_error` frame, unless the stream already ended."""
        return b"" if self._ended else self._error("api_error", message)

    def _on_event(self, event: SseEvent) -> bytes:
        if self._ended:
            return b""
        data = event.data.strip()
        if data == "[DONE]":
            return self._end_message() if self._started else self._error("api_error", NO_RESPONSE)
        chunk = _json_object(data)
        if event.event == "error" or (chunk is not None and chunk.get("error")):
            return self._in_band_error(chunk.get("error") if chunk else data)
        return self._on_chunk(chunk) if chunk is not None else b""

    def _in_band_error(self, error: Any) -> bytes:
        if isinstance(error, dict):
            message = error.get("message")
            text = message if isinstance(message, str) and message else json.dumps(error)
            return self._error(error_type_for_code(error), text)
        return self._error("api_error", str(error) or "upstream stream error")

    def _error(self, kind: str, message: str) -> bytes:
        self._ended = True
        return error_frame(kind, message)

    def _on_chunk(self, chunk: dict[str, Any]) -> bytes:
        out = b"" if self._started else self._start_message(chunk)
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        choices = dicts_of(chunk.get("choices"))
        return out + (self._on_choice(choices[0]) if choices else b"")

    def _start_message(self, chunk: dict[str, Any]) -> bytes:
        self._started = True
        self._message_id = self._message_id or message_id(chunk.get("id"), digest(chunk))
        message: dict[str, Any] = {
            "id": self._message_id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": anthropic_usage(chunk.get("usage")),
        }
        return frame("message_start", {"type": "message_start", "message": message})

    def _on_choice(self, choice: dict[str, Any]) -> bytes:
        delta = dict_field(choice, "delta")
        out = self._on_delta(delta)
        if choice.get("finish_reason"):
            self._finish_reason = choice["finish_reason"]
            self._stop_sequence = matched_stop_sequence(choice)
            out += self._close_blocks()
        return out

    def _on_delta(self, delta: dict[str, Any]) -> bytes:
        out = b""
        text = delta.get("content") or delta.get("refusal")
        if isinstance(text, str) and text:
            out += self._text(text)
        for fragment in dicts_of(delta.get("tool_calls")):
            out += self._tool_fragment(fragment)
        if isinstance(delta.get("function_call"), dict):
            out += self._tool_fragment({"index": -1, "function": delta["function_call"]})
        return out

    def _text(self, text: str) -> bytes:
        out = b"" if self._open_kind == TEXT else self._start_block({"type": "text", "text": ""})
        self._open_kind = TEXT
        return out + self._delta({"type": "text_delta", "text": text})

    def _tool_fragment(self, fragment: dict[str, Any]) -> bytes:
        call = self._call_for(fragment)
        function = dict_field(fragment, "function")
        if not call.name and isinstance(function.get("name"), str):
            call.name = function["name"]
        call.pending += arguments_text(function.get("arguments"))
        if call.block is None:
            return self._start_tool(call) if call.name else b""
        return self._flush_arguments(call)

    def _call_for(self, fragment: dict[str, Any]) -> _ToolCall:
        index, raw_id = fragment.get("index"), fragment.get("id")
        upstream_id = raw_id if isinstance(raw_id, str) and raw_id else None
        for call in reversed(self._calls):
            if _same_call(call, index, upstream_id, self._calls[-1]):
                call.upstream_id = call.upstream_id or upstream_id
                return call
        self._calls.append(_ToolCall(index, upstream_id))
        return self._calls[-1]

    def _start_tool(self, call: _ToolCall) -> bytes:
        tool_id = safe_id(call.upstream_id, "toolu_", f"{self._message_id}_{len(self._calls)}")
        if tool_id in self._tool_ids:
            tool_id = f"{tool_id}_{len(self._calls)}"
        self._tool_ids.add(tool_id)
        block = {"type": "tool_use", "id": tool_id, "name": call.name, "input": {}}
        out = self._start_block(block)
        call.block, self._open_kind = self._open_block, call
        return out + self._flush_arguments(call)

    def _flush_arguments(self, call: _ToolCall) -> bytes:
        fragment, call.pending = call.pending, ""
        if not fragment or self._open_kind is not call:
            return b""
        return self._delta({"type": "input_json_delta", "partial_json": fragment})

    def _start_block(self, content_block: dict[str, Any]) -> bytes:
        out = self._close_block()
        self._open_block, self._next_block = self._next_block, self._next_block + 1
        self._committed = True
        start = {"type": "content_block_start", "index": self._open_block}
        return out + frame("content_block_start", start | {"content_block": content_block})

    def _delta(self, delta: dict[str, Any]) -> bytes:
        event = {"type": "content_block_delta", "index": self._open_block, "delta": delta}
        return frame("content_block_delta", event)

    def _close_block(self) -> bytes:
        if self._open_block is None:
            return b""
        index, self._open_block, self._open_kind = self._open_block, None, None
        return frame("content_block_stop", {"type": "content_block_stop", "index": index})

    def _close_blocks(self) -> bytes:
        """Close the open block and give calls whose name never came a block of their own."""
        out = self._close_block()
        for call in self._calls:
            if call.block is None:
                out += self._start_tool(call) + self._close_block()
        return out

    def _end_message(self) -> bytes:
        out = self._close_blocks()
        used_tools = any(call.block is not None for call in self._calls)
        delta = {
            "stop_reason": stop_reason(self._finish_reason, used_tools, self._stop_sequence),
            "stop_sequence": self._stop_sequence,
        }
        usage = anthropic_usage(self._usage)
        out += frame("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
        self._ended = self._committed = True
        return out + frame("message_stop", {"type": "message_stop"})


def _same_call(call: _ToolCall, index: object, upstream_id: str | None, last: _ToolCall) -> bool:
    """Whether a fragment continues `call`: same index (and no other id), else same id, else
    a fragment with neither continues the latest call."""
    if upstream_id and call.upstream_id and upstream_id != call.upstream_id:
        return False
    if isinstance(index, int) and not isinstance(index, bool):
        return call.index == index
    if upstream_id:
        return call.upstream_id == upstream_id
    return call is last


def _json_object(data: str) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
