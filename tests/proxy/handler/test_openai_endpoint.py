"""Claude Code's SDK through `ccf serve` to a fake OpenAI-format provider, tool use and all."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anthropic
import pytest
from aiohttp import web

from tests.fakes import FakesInThread
from tests.proxy.core.openai.openai_checks import assert_valid_openai_request
from tests.serve import ccf_serve

pytestmark = pytest.mark.slow
TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]


def chunk(
    delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None
) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-test",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
        if delta is not None
        else [],
    }
    if usage:
        body["usage"] = usage
    return f"data: {json.dumps(body)}\n\n".encode()


def tool_call_chunks() -> list[bytes]:
    call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    return [
        chunk({"role": "assistant", "content": "Let me check."}),
        chunk({"tool_calls": [call]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        chunk({}, finish="tool_calls"),
        chunk(None, usage={"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29}),
        b"data: [DONE]\n\n",
    ]


def answer_chunks() -> list[bytes]:
    return [
        chunk({"role": "assistant", "content": "It is "}),
        chunk({"content": "sunny in Paris."}),
        chunk({}, finish="stop"),
        chunk(None, usage={"prompt_tokens": 40, "completion_tokens": 5, "total_tokens": 45}),
        b"data: [DONE]\n\n",
    ]


def completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-2",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-test",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29},
    }


async def openai_provider(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    assert_valid_openai_request(body)
    answered = body["messages"][-1]["role"] == "tool"
    if not body.get("stream"):
        if answered:
            return web.json_response(
                completion({"role": "assistant", "content": "It is sunny in Paris."}, "stop")
            )
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
        return web.json_response(
            completion(
                {"role": "assistant", "content": "Let me check.", "tool_calls": [call]},
                "tool_calls",
            )
        )
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    for part in answer_chunks() if answered else tool_call_chunks():
        await response.write(part)
    return response


@pytest.fixture
def client(tmp_path: Path, threaded_fakes: FakesInThread):
    primary, provider = threaded_fakes.start("anthropic"), threaded_fakes.start("openai")
    primary.status(529)
    provider.behaviour = openai_provider
    config = tmp_path / "config.yaml"
    config.write_text(
        "endpoints:\n"
        f"  - {{name: anthropic, base_url: '{primary.url}'}}\n"
        f"  - name: gpt\n    base_url: '{provider.url}/v1'\n    format: openai\n"
        "    auth: bearer\n    key: 'env:GPT_KEY'\n    models: {'*': gpt-test}\n"
    )
    with ccf_serve(config, env={**os.environ, "GPT_KEY": "sk-openai-test"}) as url:
        sdk = anthropic.Anthropic(base_url=url, api_key="sk-ant-client", max_retries=0)
        yield sdk, provider
        sdk.close()


def history_after(first) -> list[dict[str, Any]]:
    tool_use = next(block for block in first.content if block.type == "tool_use")
    return [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [block.model_dump(exclude_none=True) for block in first.content],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tool_use.id, "content": "22°C, sunny"}
            ],
        },
    ]


def test_tool_use_round_trip_not_streamed(client) -> None:
    sdk, provider = client
    first = sdk.messages.create(
        model="claude-sonnet-5-5",
        max_tokens=200,
        tools=TOOLS,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    assert first.stop_reason == "tool_use"
    assert [block.type for block in first.content] == ["text", "tool_use"]
    assert first.content[1].input == {"city": "Paris"}
    assert first.model == "claude-sonnet-5-5"
    second = sdk.messages.create(
        model="claude-sonnet-5-5", max_tokens=200, tools=TOOLS, messages=history_after(first)
    )
    assert second.content[0].text == "It is sunny in Paris."
    sent = provider.received[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-openai-test"
    tool_message = sent.json["messages"][-1]
    assert tool_message == {"role": "tool", "tool_call_id": "call_1", "content": "22°C, sunny"}
    assert sent.json["model"] == "gpt-test"


def test_tool_use_round_trip_streamed(client) -> None:
    sdk, provider = client
    with sdk.messages.stream(
        model="claude-sonnet-5-5",
        max_tokens=200,
        tools=TOOLS,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    ) as stream:
        first = stream.get_final_message()
    assert first.stop_reason == "tool_use"
    assert first.content[0].text == "Let me check."
    assert first.content[1].input == {"city": "Paris"}
    assert first.usage.output_tokens == 9
    with sdk.messages.stream(
        model="claude-sonnet-5-5", max_tokens=200, tools=TOOLS, messages=history_after(first)
    ) as stream:
        text = "".join(stream.text_stream)
    assert text == "It is sunny in Paris."
    assert provider.received[-1].json["stream_options"] == {"include_usage": True}


def test_count_tokens_is_not_sent_to_an_openai_endpoint_but_estimated(client) -> None:
    """The primary answers 529 and the OpenAI endpoint has no count_tokens: the proxy
    estimates, says so in a header, and Claude Code's auto-compaction keeps working."""
    sdk, provider = client
    raw = sdk.messages.with_raw_response.count_tokens(
        model="claude-sonnet-5-5", messages=[{"role": "user", "content": "hi " * 70}]
    )
    assert raw.headers["x-ccf-estimate"] == "true"
    assert 50 < raw.parse().input_tokens < 100
    assert provider.received == []
