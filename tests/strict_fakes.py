"""Fake providers that enforce the Messages API's rules as the real ones do: signatures
only their maker accepts, thinking first in a tool loop, a max_tokens limit, images or
not. Each answers a tool call until the conversation's tenth turn, then text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import sse

TURNS = 10
THIRD_PARTY_HEADERS = ("anthropic-", "x-claude-code-", "x-stainless-")


@dataclass
class Rules:
    """One provider: who signs its thinking, what it takes, and what it has seen."""

    name: str
    max_output_tokens: int
    images: bool = True
    down: bool = False
    refused: list[str] = field(default_factory=list)  # each 400 it gave, and why
    served: list[int] = field(default_factory=list)  # the turns it answered


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def anthropic_problem(rules: Rules, data: dict[str, Any]) -> str | None:
    """What the Messages API would refuse in `data` at this provider (None: nothing)."""
    if data["max_tokens"] > rules.max_output_tokens:
        return f"max_tokens: {data['max_tokens']} > {rules.max_output_tokens}"
    thinking = data.get("thinking") or {}
    on = thinking.get("type") == "enabled"
    if on and thinking["budget_tokens"] >= data["max_tokens"]:
        return "max_tokens must be greater than thinking.budget_tokens"
    messages = data["messages"]
    for i, message in enumerate(messages):
        for block in _blocks(message):
            if block.get("type") == "thinking" and not block["signature"].startswith(rules.name):
                return f"messages.{i}: Invalid `signature` in `thinking` block"
            if block.get("type") == "image" and not rules.images:
                return f"messages.{i}: this model does not take images"
    last = messages[-1]
    loop = any(b.get("type") == "tool_result" for b in _blocks(last))
    if on and loop:
        final = next(m for m in reversed(messages[:-1]) if m["role"] == "assistant")
        if _blocks(final)[0].get("type") not in ("thinking", "redacted_thinking"):
            return "a final `assistant` message must start with a thinking block"
    return None


def turn_of(messages: list[Any]) -> int:
    return sum(1 for m in messages if m["role"] == "assistant") + 1


def error(status: int, kind: str, text: str) -> web.Response:
    body = {"type": "error", "error": {"type": kind, "message": text}}
    return web.json_response(body, status=status)


def anthropic_behaviour(rules: Rules):  # type: ignore[no-untyped-def]
    async def answer(request: web.Request) -> web.StreamResponse:
        if rules.down:
            return error(529, "overloaded_error", "Overloaded")
        data = await request.json()
        problem = anthropic_problem(rules, data)
        if problem:
            rules.refused.append(problem)
            return error(400, "invalid_request_error", problem)
        turn = turn_of(data["messages"])
        rules.served.append(turn)
        thinking = (data.get("thinking") or {}).get("type") == "enabled"
        return await _anthropic_stream(request, rules.name, turn, thinking)

    return answer


async def _anthropic_stream(
    request: web.Request, signer: str, turn: int, thinking: bool
) -> web.StreamResponse:
    start = {"id": f"msg_{signer}_{turn}", "type": "message", "role": "assistant", "model": "m",
             "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {"input_tokens": 10, "output_tokens": 1}}  # fmt: skip
    events = [sse("message_start", {"type": "message_start", "message": start})]
    index = 0
    if thinking:
        events += _block(index, {"type": "thinking", "thinking": "", "signature": ""}, [
            {"type": "thinking_delta", "thinking": f"turn {turn}"},
            {"type": "signature_delta", "signature": f"{signer}-sig-{turn}"},
        ])  # fmt: skip
        index += 1
    if turn < TURNS:
        tool = {"type": "tool_use", "id": f"toolu_{turn}", "name": "Read", "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps({"turn": turn})}
        events += _block(index, tool, [delta])
        stop = "tool_use"
    else:
        events += _block(
            index, {"type": "text", "text": ""}, [{"type": "text_delta", "text": "done"}]
        )
        stop = "end_turn"
    events += [
        sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                              "usage": {"output_tokens": 5}}),
        sse("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    for event in events:
        await response.write(event)
    await response.write_eof()
    return response


def _block(index: int, start: dict[str, Any], deltas: list[dict[str, Any]]) -> list[bytes]:
    return [
        sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}),
        *[sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas],
        sse("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]  # fmt: skip


def openai_problem(rules: Rules, request: web.Request, data: dict[str, Any]) -> str | None:
    """What an OpenAI-compatible provider would refuse, or should never have been sent."""
    leaked = [n for n in request.headers if n.lower().startswith(THIRD_PARTY_HEADERS)]
    if leaked:
        return f"third-party request carries {leaked}"
    if request.headers.get("authorization") != "Bearer fb-key":
        return "wrong credentials"
    if data.get("max_tokens", 0) > rules.max_output_tokens:
        return f"max_tokens: {data['max_tokens']} > {rules.max_output_tokens}"
    pending: set[str] = set()
    for message in data["messages"]:
        for call in message.get("tool_calls") or []:
            pending.add(call["id"])
        if message["role"] == "tool":
            pending.discard(message["tool_call_id"])
    return f"tool calls without results: {pending}" if pending else None


def openai_behaviour(rules: Rules):  # type: ignore[no-untyped-def]
    async def answer(request: web.Request) -> web.StreamResponse:
        if rules.down:
            return web.json_response(
                {"error": {"message": "down", "code": "server_error"}}, status=503
            )
        data = await request.json()
        problem = openai_problem(rules, request, data)
        if problem:
            rules.refused.append(problem)
            return web.json_response(
                {"error": {"message": problem, "type": "invalid_request_error"}}, status=400
            )
        turn = sum(1 for m in data["messages"] if m["role"] == "assistant") + 1
        rules.served.append(turn)
        return await _openai_stream(request, turn)

    return answer


async def _openai_stream(request: web.Request, turn: int) -> web.StreamResponse:
    def chunk(
        delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None
    ) -> bytes:
        body: dict[str, Any] = {"id": f"c{turn}", "object": "chat.completion.chunk", "model": "gpt",
                                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        if usage:
            body = {**body, "choices": [], "usage": usage}
        return f"data: {json.dumps(body)}\n\n".encode()

    if turn < TURNS:
        call = {"index": 0, "id": f"call_{turn}", "type": "function",
                "function": {"name": "Read", "arguments": json.dumps({"turn": turn})}}  # fmt: skip
        chunks = [chunk({"role": "assistant", "tool_calls": [call]}), chunk({}, "tool_calls")]
    else:
        chunks = [chunk({"role": "assistant", "content": "done"}), chunk({}, "stop")]
    chunks += [chunk({}, usage={"prompt_tokens": 10, "completion_tokens": 5}), b"data: [DONE]\n\n"]
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    for part in chunks:
        await response.write(part)
    await response.write_eof()
    return response
