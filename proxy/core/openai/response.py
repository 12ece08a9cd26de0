"""An OpenAI chat.completion as an Anthropic Message, and OpenAI error bodies as Anthropic's."""

from __future__ import annotations

import json
from typing import Any

from proxy.core.openai.common import (
    anthropic_usage,
    arguments_text,
    digest,
    error_type_for_status,
    matched_stop_sequence,
    message_id,
    parse_arguments,
    safe_id,
    stop_reason,
)
from proxy.core.openai.content import dict_field
from proxy.core.sse import error_body

MAX_ERROR_TEXT = 500


def openai_to_anthropic(data: dict[str, Any], model: str) -> dict[str, Any]:
    choice = _first_choice(data)
    message = dict_field(choice, "message")
    fallback = digest(data)
    content = _text_blocks(message) + _tool_use_blocks(message, fallback)
    stop_sequence = matched_stop_sequence(choice)
    used_tools = any(block["type"] == "tool_use" for block in content)
    return {
        "id": message_id(data.get("id"), fallback),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason"), used_tools, stop_sequence),
        "stop_sequence": stop_sequence,
        "usage": anthropic_usage(data.get("usage")),
    }


def _first_choice(data: dict[str, Any]) -> dict[str, Any]:
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    return {}


def _text_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The reply text (a refusal reads as text); reasoning fields are not carried over."""
    text = _text(message.get("content")) or _text(message.get("refusal"))
    return [{"type": "text", "text": text}] if text else []


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return ""
    pieces = (part.get("text") or part.get("refusal") for part in value if isinstance(part, dict))
    return "".join(piece for piece in pieces if isinstance(piece, str))


def _tool_use_blocks(message: dict[str, Any], fallback: str) -> list[dict[str, Any]]:
    calls = message.get("tool_calls")
    calls = list(calls) if isinstance(calls, list) else []
    if isinstance(message.get("function_call"), dict):
        calls.append({"function": message["function_call"]})
    return [
        _tool_use(call, f"{fallback}_{position}")
        for position, call in enumerate(calls)
        if isinstance(call, dict)
    ]


def _tool_use(call: dict[str, Any], fallback: str) -> dict[str, Any]:
    function = dict_field(call, "function")
    return {
        "type": "tool_use",
        "id": safe_id(call.get("id"), "toolu_", fallback),
        "name": str(function.get("name") or ""),
        "input": parse_arguments(arguments_text(function.get("arguments"))),
    }


def openai_error_to_anthropic(status: int, body: bytes) -> bytes:
    """Any upstream error body, JSON or not, as an Anthropic error for `status`."""
    message = _error_message(body) or f"upstream returned HTTP {status}"
    return json.dumps(error_body(error_type_for_status(status), message)).encode()


def _error_message(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        return text[:MAX_ERROR_TEXT]
    if isinstance(data, list) and data:
        data = data[0]
    return _message_in(data) if isinstance(data, dict) else text[:MAX_ERROR_TEXT]


def _message_in(data: dict[str, Any]) -> str:
    error = data.get("error")
    if isinstance(error, dict):
        return _message_in(error) or json.dumps(error)[:MAX_ERROR_TEXT]
    for value in (error, data.get("message"), data.get("detail")):
        if isinstance(value, str) and value:
            return value
    return json.dumps(data)[:MAX_ERROR_TEXT] if data else ""
