"""An Anthropic /v1/messages request body as an OpenAI /chat/completions body.

Kept: system, messages, tools, tool_choice, max_tokens, temperature, top_p, stop_sequences
(as `stop`, the first four, OpenAI's limit), stream, metadata.user_id (as `user`, hashed
when longer than OpenAI's 64 characters), structured output (`output_config.format`, or the
older `output_format`, as `response_format`). Dropped: thinking, cache_control, top_k, and any
field OpenAI has no counterpart for. Server tools (web search, code execution…) are
dropped; only tools with an input schema are sent.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from proxy.core.openai.content import dict_field, dicts_of
from proxy.core.openai.messages import openai_messages
from proxy.core.openai.schema import clean_schema

MAX_STOP_SEQUENCES = 4
MAX_USER_LENGTH = 64


def anthropic_to_openai(body: dict[str, Any]) -> dict[str, Any]:
    model = body.get("model")
    request: dict[str, Any] = {
        "model": model if isinstance(model, str) else "",
        "messages": openai_messages(body),
    }
    request |= _sampling(body)
    request |= _tooling(body)
    request |= _streaming(body)
    request |= _user(body.get("metadata"))
    request |= _response_format(body)
    return request


def _sampling(body: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if _is_number(body.get("max_tokens")) and body["max_tokens"] > 0:
        params["max_tokens"] = int(body["max_tokens"])
    for name in ("temperature", "top_p"):
        if _is_number(body.get(name)):
            params[name] = body[name]
    stop = body.get("stop_sequences")
    stops = [s for s in stop if isinstance(s, str) and s] if isinstance(stop, list) else []
    if stops:
        params["stop"] = stops[:MAX_STOP_SEQUENCES]
    return params


def _is_number(value: object) -> bool:
    """A JSON number that is finite (Python's parser also reads `1e400` as infinity, and NaN)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


def _tooling(body: dict[str, Any]) -> dict[str, Any]:
    tools = [tool for tool in map(_tool, dicts_of(body.get("tools"))) if tool]
    if not tools:
        return {}
    params: dict[str, Any] = {"tools": tools}
    choice = dict_field(body, "tool_choice")
    openai_choice = _tool_choice(choice)
    if openai_choice is not None:
        params["tool_choice"] = openai_choice
    if choice.get("disable_parallel_tool_use") is True and openai_choice != "none":
        params["parallel_tool_calls"] = False
    return params


def _tool(tool: dict[str, Any]) -> dict[str, Any] | None:
    name = tool.get("name")
    schema = tool.get("input_schema")
    if not isinstance(name, str) or not name or not isinstance(schema, dict):
        return None
    function: dict[str, Any] = {"name": name, "parameters": _parameters(schema)}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _parameters(schema: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = clean_schema(schema)
    return cleaned if "type" in cleaned else {"type": "object", **cleaned}


def _tool_choice(choice: dict[str, Any]) -> str | dict[str, Any] | None:
    kind = choice.get("type")
    if kind in ("auto", "none"):
        return str(kind)
    if kind == "any":
        return "required"
    if kind == "tool" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    return None


def _streaming(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("stream") is not True:
        return {}
    return {"stream": True, "stream_options": {"include_usage": True}}


def _user(metadata: Any) -> dict[str, Any]:
    user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
    if not isinstance(user_id, str) or not user_id:
        return {}
    if len(user_id) > MAX_USER_LENGTH:
        user_id = hashlib.sha256(user_id.encode()).hexdigest()
    return {"user": user_id}


def _response_format(body: dict[str, Any]) -> dict[str, Any]:
    """Structured output: Anthropic's JSON schema format as OpenAI's `response_format`."""
    wanted = dict_field(dict_field(body, "output_config"), "format") or dict_field(
        body, "output_format"
    )
    schema = wanted.get("schema")
    if wanted.get("type") != "json_schema" or not isinstance(schema, dict):
        return {}
    name = wanted.get("name")
    json_schema = {
        "name": name if isinstance(name, str) and name else "response",
        "schema": clean_schema(schema),
    }
    return {"response_format": {"type": "json_schema", "json_schema": json_schema}}
