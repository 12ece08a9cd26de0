"""The SSE commit boundary: held until the first content block, then relayed byte for byte."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from proxy.core.sse import SseParser
from tests.fakes import error_event, sse, stream_events

STREAM_REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 50,
    "stream": True,
    "messages": [{"role": "user", "content": "hi"}],
}


def config(a_url: str, b_url: str, timeouts: str = "") -> str:
    return f"""
endpoints:
  - {{name: a, base_url: "{a_url}"}}
  - {{name: b, base_url: "{b_url}"}}
{timeouts}
"""


@pytest.fixture
async def pair(upstreams, make_proxy):
    a, b = await upstreams("a"), await upstreams("b")
    proxy = await make_proxy(config(a.url, b.url, "timeouts: {first_byte: 2, idle: 0.5}"))
    return a, b, proxy


async def read_stream(response) -> bytes:
    return b"".join([chunk async for chunk in response.content.iter_any()])


async def test_a_healthy_stream_is_relayed_byte_for_byte(pair) -> None:
    a, _, proxy = pair
    events = stream_events(["Hello", ", ", "world"])
    a.stream(events)
    async with await proxy.post(json=STREAM_REQUEST) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["x-ccf-endpoint"] == "a"
        assert await read_stream(response) == b"".join(events)


async def test_crlf_and_comments_pass_unchanged(pair) -> None:
    a, _, proxy = pair
    events = [e.replace(b"\n", b"\r\n") for e in stream_events(["x"])]
    events.insert(1, b": keep-alive\r\n\r\n")
    a.stream(events)
    async with await proxy.post(json=STREAM_REQUEST) as response:
        assert await read_stream(response) == b"".join(events)


async def test_an_error_event_before_commit_fails_over(pair) -> None:
    a, b, proxy = pair
    a.stream([stream_events([])[0], error_event("overloaded_error")])
    b.stream(stream_events(["from b"]))
    async with await proxy.post(json=STREAM_REQUEST) as response:
        body = await read_stream(response)
        assert response.headers["x-ccf-endpoint"] == "b"
        assert response.headers["x-ccf-attempts"] == "a=sse-529, b=200"
    assert body == b"".join(stream_events(["from b"]))
    assert b"overloaded" not in body


async def test_a_stream_that_ends_before_commit_fails_over(pair) -> None:
    a, b, proxy = pair
    a.stream(stream_events(["x"])[:2])
    b.stream(stream_events(["from b"]))
    async with await proxy.post(json=STREAM_REQUEST) as response:
        assert response.headers["x-ccf-attempts"] == "a=reset, b=200"


async def test_a_reset_after_commit_ends_with_an_error_frame(pair) -> None:
    a, b, proxy = pair
    events = stream_events(["one", "two", "three"])
    a.stream(events[:4], then="reset")
    async with await proxy.post(json=STREAM_REQUEST) as response:
        body = await read_stream(response)
    assert body.startswith(b"".join(events[:4]))
    tail = SseParser().feed(body[len(b"".join(events[:4])) :])
    assert [e.event for e in tail] == ["error"]
    assert '"type":"api_error"' in tail[0].data.replace(" ", "")
    assert b.received == []


async def test_an_idle_stall_after_commit_ends_with_an_error_frame(pair) -> None:
    a, b, proxy = pair
    events = stream_events(["one", "two"])
    a.stream(events[:4], then="hang")
    started = time.monotonic()
    async with await proxy.post(json=STREAM_REQUEST) as response:
        body = await read_stream(response)
    assert 0.5 <= time.monotonic() - started < 20
    parsed = SseParser().feed(body)
    assert parsed[-1].event == "error"
    assert b"idle" in parsed[-1].raw
    assert b.received == []
    await asyncio.wait_for(a.disconnected.wait(), 2)


async def test_a_truncated_stream_after_commit_ends_with_an_error_frame(pair) -> None:
    a, _, proxy = pair
    events = stream_events(["one"])
    a.stream(events[:-1])
    async with await proxy.post(json=STREAM_REQUEST) as response:
        body = await read_stream(response)
    assert body.startswith(b"".join(events[:-1]))
    assert SseParser().feed(body)[-1].event == "error"


async def test_a_stream_that_never_commits_fails_over_within_first_byte(
    upstreams, make_proxy
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.stream(stream_events([])[:2], then="hang")
    proxy = await make_proxy(config(a.url, b.url, "timeouts: {first_byte: 0.4, idle: 5}"))
    started = time.monotonic()
    async with await proxy.post(json=STREAM_REQUEST) as response:
        await read_stream(response)
        assert response.headers["x-ccf-attempts"] == "a=timeout, b=200"
    assert time.monotonic() - started < 15


async def test_events_are_forwarded_as_they_arrive(pair) -> None:
    a, _, proxy = pair
    events = stream_events([f"part{i}" for i in range(5)])
    a.stream(events, delay=0.1)
    arrivals: list[float] = []
    async with await proxy.post(json=STREAM_REQUEST) as response:
        async for _ in response.content.iter_any():
            arrivals.append(time.monotonic())
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) >= 6
    assert sum(gap > 0.05 for gap in gaps) >= 5


async def test_stream_usage_is_counted_in_metrics(pair) -> None:
    a, _, proxy = pair
    a.stream(stream_events(["a", "b", "c"]))
    async with await proxy.post(json=STREAM_REQUEST) as response:
        await read_stream(response)
    metrics = await (await proxy.session.get(proxy.url + "/metrics")).text()
    assert 'ccf_tokens_total{endpoint="a",kind="input_tokens"} 12.0' in metrics
    assert 'ccf_tokens_total{endpoint="a",kind="output_tokens"} 3.0' in metrics


async def test_message_stop_alone_commits(pair) -> None:
    a, _, proxy = pair
    events = [stream_events([])[0], sse("message_stop", {"type": "message_stop"})]
    a.stream(events)
    async with await proxy.post(json=STREAM_REQUEST) as response:
        assert await read_stream(response) == b"".join(events)
        assert response.headers["x-ccf-endpoint"] == "a"
