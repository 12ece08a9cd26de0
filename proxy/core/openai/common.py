"""Field mappings shared by the response and stream translators: ids, stop reasons, usage."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from proxy.core.classify import STATUS_ERROR_TYPE

_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")

_FINISH_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}

_EXTRA_STATUS_TYPES = {408: "timeout_error", 422: "invalid_request_error", 503: "overloaded_error"}

_CODE_TYPES = {
    "rate_limit_exceeded": "rate_limit_error",
    "insufficient_quota": "rate_limit_error",
    "invalid_api_key": "authentication_error",
    "permission_denied": "permission_error",
    "model_not_found": "not_found_error",
    "context_length_exceeded": "invalid_request_error",
    "server_error": "api_error",
    "internal_error": "api_error",
    "overloaded": "overloaded_error",
    "server_overloaded": "overloaded_error",
    "timeout": "timeout_error",
}


def digest(value: Any) -> str:
    """A short stable hash of a JSON-like value, for ids the upstream did not give."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def safe_id(raw: object, prefix: str, fallback: str) -> str:
    """An id Anthropic accepts (`[A-Za-z0-9_-]+`), built from the upstream's id when it has one."""
    return _UNSAFE_ID_CHARS.sub("_", raw if isinstance(raw, str) and raw else prefix + fallback)


def message_id(raw: object, fallback: str) -> str:
    return "msg_" + safe_id(raw, "", fallback)


def stop_reason(finish_reason: object, used_tools: bool, stop_sequence: str | None) -> str:
    """Anthropic's stop reason. `tool_use` follows the blocks sent, not the finish reason:
    some servers report tool calls as a plain `stop`, or `tool_calls` with no call."""
    if stop_sequence is not None:
        return "stop_sequence"
    reason = _FINISH_REASONS.get(finish_reason) if isinstance(finish_reason, str) else None
    if reason in (None, "end_turn", "tool_use"):
        return "tool_use" if used_tools else "end_turn"
    return reason


def matched_stop_sequence(choice: dict[str, Any]) -> str | None:
    """The stop string some servers (vLLM) name in `stop_reason` when one ended the output."""
    matched = choice.get("stop_reason")
    if choice.get("finish_reason") == "stop" and isinstance(matched, str) and matched:
        return matched
    return None


def anthropic_usage(usage: object) -> dict[str, int]:
    """OpenAI token counts as Anthropic counts them: cached prompt tokens apart from input."""
    if not isinstance(usage, dict):
        usage = {}
    prompt = _count(usage.get("prompt_tokens"))
    cached = min(prompt, _cached_tokens(usage))
    return {
        "input_tokens": prompt - cached,
        "output_tokens": _count(usage.get("completion_tokens")),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    }


def _cached_tokens(usage: dict[str, Any]) -> int:
    details = usage.get("prompt_tokens_details")
    if isinstance(details, dict) and _count(details.get("cached_tokens")):
        return _count(details.get("cached_tokens"))
    return _count(usage.get("prompt_cache_hit_tokens"))


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


def arguments_text(raw: object) -> str:
    """Tool-call arguments as JSON text; a few servers send an object instead of a string."""
    if isinstance(raw, str):
        return raw
    if raw is None:
        return ""
    return json.dumps(raw, ensure_ascii=False)


def parse_arguments(text: str) -> dict[str, Any]:
    """The tool input object; text that is not a JSON object stays visible, never raises."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {"_raw_arguments": text}
    return value if isinstance(value, dict) else {"_raw_arguments": text}


def error_type_for_status(status: int) -> str:
    """The Anthropic error type a client expects for an HTTP status."""
    kind = STATUS_ERROR_TYPE.get(status) or _EXTRA_STATUS_TYPES.get(status)
    if kind:
        return kind
    return "api_error" if status >= 500 or status < 400 else "invalid_request_error"


def error_type_for_code(error: dict[str, Any]) -> str:
    """The Anthropic error type for an in-band OpenAI error object (`code`, `type`, `status`)."""
    for key in ("code", "status"):
        value = error.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return error_type_for_status(value)
    for key in ("code", "type"):
        value = error.get(key)
        if isinstance(value, str) and value in _CODE_TYPES:
            return _CODE_TYPES[value]
        if isinstance(value, str) and value in STATUS_ERROR_TYPE.values():
            return value
    return "api_error"
