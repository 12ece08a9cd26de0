"""A scripted coding agent behind fake providers: it asks for one Write, then says "Done."."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes import Behaviour, sse

CONTENT = "hello from the fallback\n"
TOOL_ID = "toolu_fake_write"


def write_input(target: Path) -> dict[str, str]:
    return {"file_path": str(target), "content": CONTENT}


def offers_write(tools: list[dict[str, Any]] | None) -> bool:
    names = {tool.get("name") or tool.get("function", {}).get("name") for tool in tools or []}
    return "Write" in names


# ------------------------------------------------------------------ Anthropic format


def answered_tool(messages: list[dict[str, Any]]) -> bool:
    last = messages[-1] if messages else {}
    content = last.get("content")
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("type") == "tool_result" for block in content
    )


def anthropic_blocks(body: dict[str, Any], target: Path) -> list[dict[str, Any]]:
    if answered_tool(body.get("messages", [])):
        return [{"type": "text", "text": "Done."}]
    if offers_write(body.get("tools")):
        return [{"type": "tool_use", "id": TOOL_ID, "name": "Write", "input": write_input(target)}]
    return [{"type": "text", "text": "OK"}]


def anthropic_message(blocks: list[dict[str, Any]], model: str) -> dict[str, Any]:
    is_tool = blocks[0]["type"] == "tool_use"
    return {
        "id": "msg_agent",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": "tool_use" if is_tool else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


def anthropic_events(message: dict[str, Any]) -> list[bytes]:
    start = {**message, "content": [], "stop_reason": None}
    events = [sse("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        events += block_events(index, block)
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    events.append(
        sse(
            "message_delta",
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": 5}},
        )
    )
    events.append(sse("message_stop", {"type": "message_stop"}))
    return events


def block_events(index: int, block: dict[str, Any]) -> list[bytes]:
    if block["type"] == "tool_use":
        opening = {**block, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    else:
        opening = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": block["text"]}
    return [
        sse(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        ),
        sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}),
        sse("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]


def anthropic_agent(target: Path) -> Behaviour:
    async def answer(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/count_tokens"):
            return web.json_response({"input_tokens": 10})
        if not request.path.endswith("/v1/messages"):
            return web.json_response({"data": [], "has_more": False})
        body = await request.json()
        message = anthropic_message(anthropic_blocks(body, target), body.get("model", "fake"))
        if body.get("stream") is not True:
            return web.json_response(message)
        return await write_stream(request, anthropic_events(message))

    return answer


# ------------------------------------------------------------------ OpenAI format


def answered_tool_call(messages: list[dict[str, Any]]) -> bool:
    after_assistant: list[dict[str, Any]] = []
    for message in messages:
        after_assistant = [] if message.get("role") == "assistant" else [*after_assistant, message]
    return any(message.get("role") == "tool" for message in after_assistant)


def chunk(delta: dict[str, Any] | None, finish: str | None = None) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-agent",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-agent",
        "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if delta is None:
        body["usage"] = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    return f"data: {json.dumps(body)}\n\n".encode()


def openai_message(body: dict[str, Any], target: Path) -> tuple[dict[str, Any], str]:
    if answered_tool_call(body.get("messages", [])):
        return {"role": "assistant", "content": "Done."}, "stop"
    if offers_write(body.get("tools")):
        call = {
            "id": "call_write",
            "type": "function",
            "function": {"name": "Write", "arguments": json.dumps(write_input(target))},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    return {"role": "assistant", "content": "OK"}, "stop"


def openai_chunks(message: dict[str, Any], finish: str) -> list[bytes]:
    chunks = [chunk({"role": "assistant", "content": message["content"] or ""})]
    for index, call in enumerate(message.get("tool_calls", [])):
        chunks.append(chunk({"tool_calls": [{"index": index, **call}]}))
    return [*chunks, chunk({}, finish), chunk(None), b"data: [DONE]\n\n"]


def openai_agent(target: Path) -> Behaviour:
    async def answer(request: web.Request) -> web.StreamResponse:
        if not request.path.endswith("/chat/completions"):
            return web.json_response({"object": "list", "data": []})
        body = await request.json()
        message, finish = openai_message(body, target)
        if body.get("stream") is not True:
            return web.json_response(
                {
                    "id": "chatcmpl-agent",
                    "object": "chat.completion",
                    "created": 1,
                    "model": "gpt-agent",
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
            )
        return await write_stream(request, openai_chunks(message, finish))

    return answer


async def write_stream(request: web.Request, parts: list[bytes]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    for part in parts:
        await response.write(part)
    await response.write_eof()
    return response
