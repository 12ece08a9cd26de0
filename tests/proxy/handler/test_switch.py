"""Surviving the switch, through the running proxy: limits skip and clamp, foreign thinking
is stripped, third parties get no Anthropic headers, health is told honestly."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web

from tests.fakes import message, sse, stream_events

IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}


def request(**fields: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64000,
        "messages": [{"role": "user", "content": "hi"}],
        **fields,
    }


def config(a: str, b: str, b_extra: str = "", c: str | None = None, c_extra: str = "") -> str:
    text = (
        f'endpoints:\n  - {{name: a, base_url: "{a}"}}\n  - {{name: b, base_url: "{b}"{b_extra}}}\n'
    )
    if c is not None:
        text += f'  - {{name: c, base_url: "{c}"{c_extra}}}\n'
    return text


async def test_an_endpoint_that_takes_no_images_is_skipped(upstreams, make_proxy) -> None:
    a, b, c = await upstreams("a"), await upstreams("b"), await upstreams("c")
    a.status(529)
    proxy = await make_proxy(config(a.url, b.url, ", limits: {images: false}", c.url))
    with_image = request(
        messages=[{"role": "user", "content": [IMAGE, {"type": "text", "text": "?"}]}]
    )
    async with await proxy.post(json=with_image) as response:
        assert response.status == 200
        assert response.headers["x-ccf-attempts"] == "a=529, b=skipped(images), c=200"
    assert b.received == []
    async with await proxy.post(json=request()) as response:  # no image: b serves
        assert response.headers["x-ccf-endpoint"] == "b"


async def test_when_every_endpoint_would_be_skipped_the_last_is_tried(
    upstreams, make_proxy
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    proxy = await make_proxy(
        f"""endpoints:
  - {{name: a, base_url: "{a.url}", limits: {{tools: 1}}}}
  - {{name: b, base_url: "{b.url}", limits: {{tools: 2}}}}
"""
    )
    tools = [{"name": f"t{i}", "input_schema": {"type": "object"}} for i in range(3)]
    async with await proxy.post(json=request(tools=tools)) as response:
        # never refused without trying: the last endpoint is tried
        assert response.headers["x-ccf-attempts"] == "a=skipped(tools), b=200"
    assert len(b.received) == 1


async def test_max_tokens_is_clamped_for_a_small_provider(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.status(529)
    proxy = await make_proxy(config(a.url, b.url, ", limits: {max_output_tokens: 8192}"))
    body = request(thinking={"type": "enabled", "budget_tokens": 31999})
    async with await proxy.post(json=body) as response:
        assert response.status == 200
    assert a.received[-1].json["max_tokens"] == 64000
    sent = b.received[-1].json
    assert (sent["max_tokens"], sent["thinking"]["budget_tokens"]) == (8192, 4096)


def tool_loop(signature: str) -> dict[str, Any]:
    return request(
        stream=False,
        thinking={"type": "enabled", "budget_tokens": 2000},
        messages=[
            {"role": "user", "content": "read it"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": signature},
                    {"type": "tool_use", "id": "t1", "name": "Read", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}],
            },
        ],
    )


def thinking_answer(signature: str) -> dict[str, Any]:
    answer = message("done")
    answer["content"].insert(0, {"type": "thinking", "thinking": "ok", "signature": signature})
    return answer


async def test_a_tool_loop_with_thinking_survives_the_switch_both_ways(
    upstreams, make_proxy, clock
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    proxy = await make_proxy(config(a.url, b.url, ", models: {'*': glm}"))
    a.status(529)
    b.behaviour = lambda _: _json(thinking_answer("sig-b"))
    async with await proxy.post(json=tool_loop("sig-a")) as response:
        assert response.headers["x-ccf-endpoint"] == "b"
    to_b = b.received[-1].json
    assert "thinking" not in to_b  # a's block stripped: the final turn starts without thinking
    assert [blk["type"] for blk in to_b["messages"][1]["content"]] == ["tool_use"]
    async with await proxy.post(json=tool_loop("sig-b")) as response:  # b's own: kept
        assert response.headers["x-ccf-endpoint"] == "b"
    assert b.received[-1].json["thinking"]["type"] == "enabled"
    assert b.received[-1].json["messages"][1]["content"][0]["signature"] == "sig-b"
    clock.advance(3600)
    a.ok()
    async with await proxy.post(json=tool_loop("sig-b")) as response:  # back on a
        assert response.headers["x-ccf-endpoint"] == "a"
    to_a = a.received[-1].json
    assert "thinking" not in to_a
    assert [blk["type"] for blk in to_a["messages"][1]["content"]] == ["tool_use"]


async def _json(
    data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.StreamResponse:
    return web.json_response(data, status=status, headers=headers)


async def test_an_openai_provider_gets_no_anthropic_headers(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.status(529)
    b.behaviour = lambda _: _json(
        {
            "id": "c",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "hi"},
                    "finish_reason": "stop",
                }
            ],
        }
    )
    proxy = await make_proxy(config(a.url, b.url + "/v1", ", format: openai"))
    headers = {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "interleaved-thinking-2025-05-14",
        "x-claude-code-session-id": "abc",
        "x-stainless-lang": "js",
        "x-api-key": "sk-ant-client",
        "authorization": "Bearer client-oauth",
    }
    async with await proxy.post(json=request(), headers=headers) as response:
        assert response.status == 200
    sent = b.received[-1].headers
    assert not [
        n for n in sent if n.lower().startswith(("anthropic-", "x-claude-code-", "x-stainless-"))
    ]
    assert "x-api-key" not in sent
    assert "authorization" not in sent
    assert a.received[-1].headers["x-api-key"] == "sk-ant-client"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/html", b"<html>captive portal</html>"), ("application/json", b'{"ok": true}')],
)
async def test_a_2xx_that_is_not_a_message_fails_over(
    upstreams, make_proxy, content_type: str, body: bytes
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.raw(200, body, content_type)
    proxy = await make_proxy(config(a.url, b.url))
    async with await proxy.post(json=request()) as response:
        assert response.status == 200
        assert response.headers["x-ccf-attempts"] == "a=200(not-a-message), b=200"
    assert proxy.runtime.health["a"].failures == 1


async def test_a_stream_without_message_start_fails_over(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.stream(stream_events(["x"])[1:])  # everything but message_start
    proxy = await make_proxy(config(a.url, b.url))
    async with await proxy.post(json=request(stream=True)) as response:
        assert response.headers["x-ccf-attempts"] == "a=200(not-a-message), b=200"
        assert b"message_start" in await response.read()


async def test_the_requests_own_400_never_cools_an_endpoint(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.status(400)
    proxy = await make_proxy(
        config(a.url, b.url).replace("endpoints:", "failover: {on_status: [400, 529]}\nendpoints:")
    )
    async with await proxy.post(json=request()) as response:
        assert response.headers["x-ccf-attempts"] == "a=400, b=200"
    assert "a" not in proxy.runtime.health


async def test_a_used_up_rate_limit_cools_the_endpoint_before_the_429(
    upstreams, make_proxy, clock
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    reset = int(clock.wall_now + 600)
    limited = {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": str(reset),
        "anthropic-ratelimit-unified-5h-utilization": "1.0",
        "anthropic-ratelimit-unified-5h-reset": str(reset),
    }
    a.behaviour = lambda _: _json(message("last one"), headers=limited)
    proxy = await make_proxy(config(a.url, b.url))
    async with await proxy.post(json=request()) as response:
        assert response.headers["x-ccf-endpoint"] == "a"  # it still served this one
    assert proxy.runtime.health["a"].remaining(clock.now) == 600
    async with await proxy.post(json=request()) as response:
        assert response.headers["x-ccf-attempts"] == "b=200"
    row = proxy.runtime.snapshot().to_json()["endpoints"][0]
    assert row["usage"]["windows"][0]["utilization"] == 1.0
    assert row["state"] == "cooling"


async def test_count_tokens_goes_to_the_next_anthropic_endpoint_or_is_estimated(
    upstreams, make_proxy
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.status(529)
    b.behaviour = lambda _: _json({"input_tokens": 42})
    proxy = await make_proxy(config(a.url, b.url))
    path = "/v1/messages/count_tokens"
    async with await proxy.post(path, json=request()) as response:
        assert (await response.json(), response.headers.get("x-ccf-estimate")) == (
            {"input_tokens": 42},
            None,
        )
    b.status(404)
    async with await proxy.post(path, json=request(system="x" * 3500)) as response:
        assert response.status == 200
        assert response.headers["x-ccf-estimate"] == "true"
        assert response.headers["x-ccf-attempts"] == "a=529, b=404"
        assert 1000 <= (await response.json())["input_tokens"] < 1100


@pytest.mark.slow
async def test_a_black_holed_primary_fails_over_within_the_default_15_s(
    upstreams, make_proxy
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.hang()
    proxy = await make_proxy(config(a.url, b.url))
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with await proxy.post(json=request(stream=True)) as response:
        assert response.headers["x-ccf-attempts"] == "a=timeout, b=200"
        await response.read()
    assert loop.time() - started < 20


async def test_after_a_streams_headers_pings_count_as_life(upstreams, make_proxy) -> None:
    """No `first_byte`: past the headers only `idle` bounds the wait for content."""
    a, b = await upstreams("a"), await upstreams("b")
    events = stream_events(["x"])
    ping = sse("ping", {"type": "ping"})
    a.stream([events[0], *[ping] * 6, *events[1:]], delay=0.2)
    proxy = await make_proxy(
        config(a.url, b.url).replace("endpoints:", "timeouts: {idle: 1}\nendpoints:")
    )
    async with await proxy.post(json=request(stream=True)) as response:
        assert response.headers["x-ccf-attempts"] == "a=200"
        assert json.dumps("x")[1:-1].encode() in await response.read()


async def test_a_non_api_path_gets_the_first_answer_without_a_cascade(
    upstreams, make_proxy
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.status(404)
    proxy = await make_proxy(config(a.url, b.url))
    async with proxy.session.head(proxy.url + "/") as response:
        assert response.status == 404
        assert response.headers["x-ccf-attempts"] == "a=404"
    assert b.received == []
    assert proxy.runtime.health == {}
