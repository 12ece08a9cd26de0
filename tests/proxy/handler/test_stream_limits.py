"""An upstream event that never ends: the client gets an error event, other clients are served."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from tests.fakes import FakeUpstream, stream_events

STREAM_REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 50,
    "stream": True,
    "messages": [{"role": "user", "content": "hi"}],
}
ENDLESS_EVENT_BYTES = 64 * 1024 * 1024
OPENING = b"".join(stream_events(["x"])[:3])  # message_start, ping, content_block_start


def endless_event(fake: FakeUpstream, opening: bytes = OPENING) -> None:
    """Send `opening`, then 64 MiB of one `data:` line that never ends."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(opening + b"event: content_block_delta\ndata: ")
        chunk = b"x" * (64 * 1024)
        for _ in range(ENDLESS_EVENT_BYTES // len(chunk)):
            await response.write(chunk)
        await response.write_eof()
        return response

    fake.behaviour = answer


async def health_latencies(url: str, session, stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        async with session.get(url + "/health") as response:
            await response.read()
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)
    return latencies


async def test_an_endless_event_ends_the_stream_with_an_error_event(
    threaded_fakes, make_proxy
) -> None:
    a = threaded_fakes.start("a")
    endless_event(a)
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    stop = asyncio.Event()
    poller = asyncio.ensure_future(health_latencies(proxy.url, proxy.session, stop))
    started = time.monotonic()
    async with await proxy.post(json=STREAM_REQUEST) as response:
        body = b"".join([chunk async for chunk in response.content.iter_any()])
    took = time.monotonic() - started
    stop.set()
    latencies = sorted(await poller)
    assert body.startswith(OPENING)
    assert body.endswith(b"\n\n")
    assert body.rsplit(b"\n\n", 2)[-2].startswith(b"event: error\n")
    assert b"xxxx" not in body  # the unfinished event is dropped, not cut off mid-way
    assert took < 10
    assert latencies[-1] < 0.1, latencies  # the slowest: a handful were sent meanwhile


async def test_an_endless_event_before_commit_fails_over(threaded_fakes, make_proxy) -> None:
    a, b = threaded_fakes.start("a"), threaded_fakes.start("b")
    endless_event(a, opening=stream_events(["x"])[0])
    proxy = await make_proxy(
        f'endpoints: [{{name: a, base_url: "{a.url}"}}, {{name: b, base_url: "{b.url}"}}]'
    )
    async with await proxy.post(json=STREAM_REQUEST) as response:
        body = await response.read()
        assert response.headers["x-ccf-attempts"] == "a=protocol, b=200"
    assert body == b"".join(stream_events(["Hel", "lo"]))
