"""Request edge cases: disconnects, body limits, non-JSON bodies, count_tokens, thinking retry."""

from __future__ import annotations

import asyncio
import io
import json

import aiohttp

REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": "hi"}],
}


def two(a: str, b: str) -> str:
    return f'endpoints: [{{name: a, base_url: "{a}"}}, {{name: b, base_url: "{b}"}}]'


async def test_client_disconnect_cancels_the_upstream_request(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    a.hang()
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    task = asyncio.ensure_future(proxy.post(json=REQUEST))
    while not a.received:
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.wait_for(a.disconnected.wait(), 2)
    for _ in range(100):
        if proxy.runtime.metrics.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert proxy.runtime.metrics.in_flight == 0
    assert proxy.runtime.activity[-1].status == 499  # not a 502: the client left


async def test_client_disconnect_mid_stream_closes_the_upstream(upstreams, make_proxy) -> None:
    from tests.fakes import stream_events

    a = await upstreams("a")
    a.stream(stream_events(["x"] * 50), delay=0.05)
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    response = await proxy.post(json={**REQUEST, "stream": True})
    await response.content.readany()
    response.close()
    await asyncio.wait_for(a.disconnected.wait(), 2)


async def test_bodies_up_to_32_mib_pass_and_larger_get_413(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    big = json.dumps({**REQUEST, "system": "x" * (32 * 1024 * 1024 - 200)}).encode()
    async with await proxy.post(data=io.BytesIO(big)) as response:
        assert response.status == 200
    too_big = json.dumps({**REQUEST, "system": "x" * (32 * 1024 * 1024 + 10)}).encode()
    async with await proxy.post(data=io.BytesIO(too_big)) as response:
        assert response.status == 413
        body = await response.json()
    assert body == {
        "type": "error",
        "error": {"type": "request_too_large", "message": "Request body is larger than 32 MiB."},
    }
    assert len(a.received) == 1
    assert a.received[0].body == big


async def test_a_body_that_is_not_json_goes_unchanged_to_the_first_endpoint(
    upstreams, make_proxy
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.status(529)
    proxy = await make_proxy(two(a.url, b.url))
    async with await proxy.post(
        data=b"\x00not json{", headers={"content-type": "application/json"}
    ) as response:
        assert response.status == 529
        assert response.headers["x-ccf-attempts"] == "a=529"
    assert a.received[0].body == b"\x00not json{"
    assert b.received == []


async def test_count_tokens_404_fails_over_without_changing_health(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.status(404)
    b.raw(200, b'{"input_tokens": 5}')
    proxy = await make_proxy(two(a.url, b.url))
    async with await proxy.post("/v1/messages/count_tokens", json=REQUEST) as response:
        assert response.headers["x-ccf-attempts"] == "a=404, b=200"
    assert proxy.runtime.health == {}


async def test_invalid_thinking_signature_is_retried_once_without_thinking(
    upstreams, make_proxy
) -> None:
    a = await upstreams("a")
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    error = {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "messages.1.content.0: Invalid `signature` in `thinking` block",
        },
    }
    calls = 0

    async def behaviour(request):
        nonlocal calls
        calls += 1
        from aiohttp import web

        from tests.fakes import message

        if calls == 1:
            return web.json_response(error, status=400)
        return web.json_response(message("ok"))

    a.behaviour = behaviour
    history = {
        **REQUEST,
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "foreign"},
                    {"type": "text", "text": "hello"},
                ],
            },
            {"role": "user", "content": "again"},
        ],
    }
    async with await proxy.post(json=history) as response:
        assert response.status == 200
        assert response.headers["x-ccf-attempts"] == "a=400, a=200"
    retried = a.received[1].json
    assert retried["messages"][1]["content"] == [{"type": "text", "text": "hello"}]


async def test_health_and_metrics(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.status(529)
    proxy = await make_proxy(two(a.url, b.url))
    async with await proxy.post(json=REQUEST):
        pass
    health = await (await proxy.session.get(proxy.url + "/health")).json()
    assert health["status"] == "degraded"
    assert health["serving"] == "b"
    assert health["endpoints"][0]["state"] == "cooling"
    assert health["reason"] == "via b — a failing, retry in 30 s"
    metrics = await (await proxy.session.get(proxy.url + "/metrics")).text()
    for line in (
        'ccf_requests_total{endpoint="b",status="200"} 1.0',
        'ccf_failovers_total{endpoint="a",reason="529"} 1.0',
        'ccf_endpoint_up{endpoint="a"} 0.0',
        'ccf_endpoint_up{endpoint="b"} 1.0',
        "ccf_in_flight_requests 0.0",
        'ccf_upstream_latency_seconds_count{endpoint="a"} 1.0',
        'ccf_tokens_total{endpoint="b",kind="output_tokens"} 3.0',
    ):
        assert line in metrics


async def test_a_provider_answering_garbage_is_not_a_crash(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.raw(503, b"<html>gateway</html>", content_type="text/html")
    b.raw(200, b"not json at all", content_type="application/json")
    proxy = await make_proxy(two(a.url, b.url))
    async with await proxy.post(json=REQUEST) as response:
        # a 200 that is not a message is a failure too: the last real answer comes back
        assert response.status == 503
        assert response.headers["x-ccf-attempts"] == "a=503, b=200(not-a-message)"
        assert await response.read() == b"<html>gateway</html>"
    assert json.loads(json.dumps(proxy.runtime.activity[-1].to_json()))["status"] == 503
    assert isinstance(aiohttp.__version__, str)
