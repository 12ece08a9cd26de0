"""The conversation: Anthropic system and turns as OpenAI chat messages.

OpenAI wants every assistant `tool_calls` entry answered by a `role: tool` message placed
right after that assistant message. So a user turn becomes its tool messages first, then
one user message with the rest; a result for a call the previous assistant message did not
make becomes text, and a call left unanswered gets a "(no result)" tool message.
"""

from __future__ import annotations

import json
from typing import Any

from proxy.core.openai.common import digest
from proxy.core.openai.content import (
    Part,
    blocks_of,
    compact,
    dicts_of,
    text_of,
    text_part,
    tool_result_content,
    user_parts,
)

Message = dict[str, Any]


def openai_messages(body: dict[str, Any]) -> list[Message]:
    converted = _system_messages(body.get("system"))
    awaiting: list[str] = []
    for message in dicts_of(body.get("messages")):
        if message.get("role") == "assistant":
            assistant = _assistant_message(message.get("content"))
            if assistant is None:
                continue
            converted.extend(_unanswered(awaiting))
            converted.append(assistant)
            awaiting = [call["id"] for call in assistant.get("tool_calls", [])]
        else:
            converted.extend(_user_turn(message.get("content"), awaiting))
            awaiting = []
    return converted


def _system_messages(system: Any) -> list[Message]:
    text = "\n\n".join(text_of(block) for block in blocks_of(system) if text_of(block))
    return [{"role": "system", "content": text}] if text else []


def _assistant_message(content: Any) -> Message | None:
    blocks = blocks_of(content)
    text = "\n\n".join(text_of(block) for block in blocks if text_of(block))
    calls = _unique_calls(block for block in blocks if block.get("type") == "tool_use")
    if not text and not calls:
        return None
    message: Message = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return message


def _unique_calls(blocks: Any) -> list[dict[str, Any]]:
    calls: dict[str, dict[str, Any]] = {}
    for block in blocks:
        call = _tool_call(block)
        calls.setdefault(call["id"], call)
    return list(calls.values())


def _tool_call(block: dict[str, Any]) -> dict[str, Any]:
    raw_id = block.get("id")
    tool_input = block.get("input") if isinstance(block.get("input"), dict) else {}
    return {
        "id": raw_id if isinstance(raw_id, str) and raw_id else f"call_{digest(block)}",
        "type": "function",
        "function": {
            "name": str(block.get("name") or ""),
            "arguments": json.dumps(tool_input, ensure_ascii=False),
        },
    }


def _user_turn(content: Any, awaiting: list[str]) -> list[Message]:
    tool_messages: list[Message] = []
    parts: list[Part] = []
    for block in blocks_of(content):
        if block.get("type") != "tool_result":
            parts.extend(user_parts(block))
            continue
        call_id, (text, attachments) = block.get("tool_use_id"), tool_result_content(block)
        if call_id in awaiting and all(m["tool_call_id"] != call_id for m in tool_messages):
            tool_messages.append({"role": "tool", "tool_call_id": call_id, "content": text})
        else:
            parts.append(text_part(f"Result of tool call {call_id}: {text}"))
        parts.extend(attachments)
    answered = {message["tool_call_id"] for message in tool_messages}
    tool_messages.extend(_unanswered([i for i in awaiting if i not in answered]))
    return tool_messages + ([{"role": "user", "content": compact(parts)}] if parts else [])


def _unanswered(call_ids: list[str]) -> list[Message]:
    return [{"role": "tool", "tool_call_id": i, "content": "(no result)"} for i in call_ids]
