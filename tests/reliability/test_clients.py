"""Slow and abusive clients: slow readers, slowloris, idle crowds, disconnects at every point."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from tests.fakes import sse, stream_events
from tests.reliability.leaks import describe, open_fds, other_tasks, rss_mib, settle
from tests.reliability.test_chaos import raise_fd_limit

BODY = json.dumps(
    {"model": "m", "max_tokens": 5, "stream": True, "messages": [{"role": "user", "content": "x"}]}
).encode()


def raw_request(port: int, body: bytes = BODY) -> bytes:
    head = (
        f"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def connections(proxy) -> int:
    return len(proxy.server.runner.server.connections)


async def proxy_for(upstreams, make_proxy, extra: str = ""):
    a = await upstreams("a")
    config = f'endpoints: [{{name: a, base_url: "{a.url}"}}]\n{extra}'
    return a, await make_proxy(config)


async def assert_serves(proxy) -> None:
    """A normal client still gets a whole answer, quickly."""
    async with asyncio.timeout(5):
        body = {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
        async with await proxy.post(json=body) as response:
            assert response.status == 200
            await response.read()


# ------------------------------------------------------------------ a slow reader

BIG_EVENTS = 6000  # ~60 MB through the proxy
PADDING = "x" * 10_000


async def firehose(request: web.Request) -> web.StreamResponse:
    """A provider that writes ~60 MB as fast as the proxy takes it."""
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    head = stream_events([])
    for event in head[:3]:
        await response.write(event)
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta"}}
    for i in range(BIG_EVENTS):
        delta["delta"]["text"] = f"{i:06d}{PADDING}"
        await response.write(sse("content_block_delta", delta))
    for event in head[3:]:
        await response.write(event)
    await response.write_eof()
    return response


@pytest.mark.timeout(90)
async def test_a_slow_reader_does_not_grow_memory(upstreams, make_proxy) -> None:
    a, proxy = await proxy_for(upstreams, make_proxy, "timeouts: {idle: 30}")
    a.behaviour = firehose
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.server.port)
    writer.transport.set_write_buffer_limits(0)
    before = rss_mib()
    writer.write(raw_request(proxy.server.port))
    await reader.readuntil(b"\r\n\r\n")
    peak = before
    for _ in range(20):  # read a trickle while the provider pushes as fast as it can
        await reader.read(1024)
        await asyncio.sleep(0.05)
        peak = max(peak, rss_mib())
    assert peak - before < 25, f"memory grew {peak - before:.0f} MiB behind a slow reader"
    received = 0
    while chunk := await asyncio.wait_for(reader.read(1 << 20), 10):
        received += len(chunk)
        if chunk.endswith(b"0\r\n\r\n"):
            break
    assert received > BIG_EVENTS * len(PADDING)
    writer.close()


# ------------------------------------------------------------------ slowloris and idle crowds


@pytest.mark.timeout(60)
async def test_slowloris_clients_do_not_block_others(upstreams, make_proxy) -> None:
    _, proxy = await proxy_for(upstreams, make_proxy)
    port = proxy.server.port
    request = raw_request(port)
    crowd = [await asyncio.open_connection("127.0.0.1", port) for _ in range(200)]
    for step in range(3):  # each sends a few more header bytes, never finishing
        for _, writer in crowd:
            writer.write(request[step * 10 : step * 10 + 10])
        await assert_serves(proxy)
    for _, writer in crowd:
        writer.close()
    assert await settle(lambda: connections(proxy) <= 1)  # the normal client's keep-alive


@pytest.mark.timeout(60)
async def test_thousands_of_idle_keepalive_connections(upstreams, make_proxy) -> None:
    raise_fd_limit(8000)
    _, proxy = await proxy_for(upstreams, make_proxy)
    fds = open_fds()
    port = proxy.server.port
    get = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    crowd = []
    for _ in range(2000):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        crowd.append((reader, writer))
    for _, writer in crowd[:500]:  # some have been served once and now sit idle
        writer.write(get)
    for reader, _ in crowd[:500]:
        assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 200")
    await assert_serves(proxy)
    for _, writer in crowd:
        writer.close()
    assert await settle(lambda: connections(proxy) <= 1)  # the normal client's keep-alive
    assert await settle(lambda: open_fds() <= fds + 4), (open_fds(), fds)


# ------------------------------------------------------------------ disconnects at every point


def slow_stream(a, events_before_pause: int) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for event in stream_events(["Hel", "lo"])[:events_before_pause]:
            await response.write(event)
        await asyncio.sleep(3600)
        return response

    a.behaviour = answer


POINTS = {
    "mid request line": (lambda req: req[:10], None),
    "mid headers": (lambda req: req[:60], None),
    "mid body": (lambda req: req[:-10], None),
    "waiting for headers": (lambda req: req, "hang"),
    "while held before commit": (lambda req: req, 1),
    "mid stream after commit": (lambda req: req, 4),
}


@pytest.mark.parametrize("point", POINTS)
async def test_a_client_that_disconnects_leaves_nothing_behind(
    upstreams, make_proxy, point: str
) -> None:
    a, proxy = await proxy_for(upstreams, make_proxy, "timeouts: {first_byte: 30, idle: 30}")
    cut, upstream = POINTS[point]
    await assert_serves(proxy)  # warm: pools and tasks as they are in steady state
    a.received.clear()
    tasks, idle = other_tasks(), connections(proxy)
    a.disconnected.clear()
    if upstream == "hang":
        a.hang()
    elif upstream is not None:
        slow_stream(a, upstream)
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.server.port)
    writer.write(cut(raw_request(proxy.server.port)))
    if upstream is not None:
        await settle(lambda: len(a.received) == 1)
        if upstream == 4:
            await reader.readuntil(b"content_block_start")
    writer.transport.abort()
    if upstream is not None:
        async with asyncio.timeout(5):
            await a.disconnected.wait()  # the provider's request was cancelled too
    assert await settle(lambda: connections(proxy) <= idle)
    assert await settle(lambda: proxy.runtime.metrics.in_flight == 0)
    assert await settle(lambda: other_tasks() <= tasks), describe(other_tasks() - tasks)
    a.ok()
    await assert_serves(proxy)
