"""The attempt driver over real sockets: what the machine decides reaches the client."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web

from proxy import handler
from tests.fakes import message

REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "x"}],
}
MiB = 1024 * 1024


def two(a: str, b: str) -> str:
    return f'endpoints: [{{name: a, base_url: "{a}"}}, {{name: b, base_url: "{b}"}}]'


def breaking_answer(mib: int):  # type: ignore[no-untyped-def]
    """2xx JSON that breaks off after `mib` MiB."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "application/json"})
        await response.prepare(request)
        for _ in range(mib):
            await response.write(b" " * MiB)
        assert request.transport is not None
        request.transport.abort()
        return response

    return answer


async def test_a_relayed_answer_that_breaks_reaches_the_client_cut_short(
    upstreams, make_proxy
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.behaviour = breaking_answer(3)
    proxy = await make_proxy(two(a.url, b.url))
    async with await proxy.post(json=REQUEST) as response:
        assert response.status == 200
        assert response.headers["x-ccf-endpoint"] == "a"
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    assert b.received == []  # committed: never continued elsewhere


async def test_an_answer_that_breaks_before_it_is_relayed_fails_over(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.behaviour = breaking_answer(0)
    proxy = await make_proxy(two(a.url, b.url))
    async with await proxy.post(json=REQUEST) as response:
        assert response.headers["x-ccf-attempts"] == "a=reset, b=200"
        assert (await response.json())["content"][0]["text"] == "Hello from b"


async def test_a_whole_answer_keeps_its_body_and_counts_its_usage(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    async with await proxy.post(json=REQUEST) as response:
        assert await response.json() == message("Hello from a")
        assert response.headers["content-length"]
    assert proxy.runtime.metrics.tokens == {"a": {"input_tokens": 12, "output_tokens": 3}}


async def test_a_request_body_that_does_not_arrive_in_time_is_refused(
    upstreams, make_proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handler, "BODY_SECONDS", 0.3)
    a = await upstreams("a")
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    port = proxy.server.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps(REQUEST).encode()
    head = (
        f"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body[:10])  # and the rest never comes
    await writer.drain()
    answer = b""
    async with asyncio.timeout(5):
        while b"}" not in answer:
            answer += await reader.read(4096)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"did not arrive within 0.3 s" in answer
    assert a.received == []


# ---------------------------------------------------------------- time limits, as a client meets them


def slow_for(marker: str, seconds: float):  # type: ignore[no-untyped-def]
    """Answers at once, except requests whose body contains `marker`: after `seconds`."""

    async def answer(request: web.Request) -> web.StreamResponse:
        if marker.encode() in await request.read():
            await asyncio.sleep(seconds)
        return web.json_response(message("quick"))

    return answer


async def test_only_the_request_whose_upstream_hangs_times_out(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.behaviour = slow_for("slow-one", 30)
    timeouts = "timeouts: {first_byte: 0.5, idle: 5}"
    proxy = await make_proxy(two(a.url, b.url) + "\n" + timeouts)

    async def attempts(content: str) -> str:
        body = {**REQUEST, "messages": [{"role": "user", "content": content}]}
        async with await proxy.post(json=body) as response:
            await response.read()
            return response.headers["x-ccf-attempts"]

    slow = asyncio.ensure_future(attempts("slow-one"))
    quick = await asyncio.gather(*(attempts(f"quick {i}") for i in range(20)))
    assert quick == ["a=200"] * 20
    assert await slow == "a=timeout, b=200"


async def test_a_body_that_keeps_coming_is_bounded_by_idle_not_first_byte(
    upstreams, make_proxy
) -> None:
    a = await upstreams("a")

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "application/json"})
        await response.prepare(request)
        text = json.dumps(message("slow but steady")).encode()
        for at in range(0, len(text), len(text) // 5 + 1):
            await response.write(text[at : at + len(text) // 5 + 1])
            await asyncio.sleep(0.15)  # 0.9 s in all: past first_byte, each gap within idle
        await response.write_eof()
        return response

    a.behaviour = trickle
    config = (
        f'endpoints: [{{name: a, base_url: "{a.url}"}}]\ntimeouts: {{first_byte: 0.4, idle: 0.6}}'
    )
    proxy = await make_proxy(config)
    async with await proxy.post(json=REQUEST) as response:
        assert (await response.json())["content"][0]["text"] == "slow but steady"
        assert response.headers["x-ccf-attempts"] == "a=200"


async def test_a_client_that_leaves_is_not_a_timeout(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.hang()
    proxy = await make_proxy(two(a.url, b.url) + "\ntimeouts: {first_byte: 30}")
    task = asyncio.ensure_future(proxy.post(json=REQUEST))
    while not a.received:
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.wait_for(a.disconnected.wait(), 5)
    for _ in range(200):
        if proxy.runtime.activity:
            break
        await asyncio.sleep(0.01)
    assert proxy.runtime.activity[-1].status == 499
    assert b.received == []
    assert proxy.runtime.health == {}  # a client that left counts against nobody
