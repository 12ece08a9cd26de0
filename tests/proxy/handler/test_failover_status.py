"""Which upstream answers move on to the next endpoint, and what the client then gets."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import FakeClock, config_from_yaml
from tests.fakes import closed_port, message

REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 50,
    "messages": [{"role": "user", "content": "hi"}],
}
CLIENT_HEADERS = {"x-api-key": "client-key", "anthropic-version": "2023-06-01"}


def two_endpoints(a_url: str, b_url: str, extra: str = "") -> str:
    return f"""
endpoints:
  - {{name: a, base_url: "{a_url}", auth: client}}
  - name: b
    base_url: "{b_url}"
    auth: x-api-key
    models: {{"claude-sonnet-*": b-sonnet, "*": b-default}}
{extra}
"""


@pytest.fixture
async def pair(upstreams, make_proxy):
    a, b = await upstreams("a"), await upstreams("b")
    proxy = await make_proxy(two_endpoints(a.url, b.url), keys={"b": "sk-b-secret"})
    return a, b, proxy


@pytest.mark.parametrize("status", [429, 529, 500, 502, 503, 401, 403, 404, 408, 409])
async def test_failover_statuses_move_to_the_next_endpoint(pair, status: int) -> None:
    a, b, proxy = pair
    a.status(status)
    async with await proxy.post(json=REQUEST, headers=CLIENT_HEADERS) as response:
        body = await response.json()
        assert response.status == 200
        assert response.headers["x-ccf-endpoint"] == "b"
        assert response.headers["x-ccf-attempts"] == f"a={status}, b=200"
    assert body["content"][0]["text"] == "Hello from b"
    assert a.received[0].json["model"] == "claude-sonnet-4-5"
    sent = b.received[0]
    assert sent.path == "/v1/messages"
    assert sent.json["model"] == "b-sonnet"
    assert sent.headers["x-api-key"] == "sk-b-secret"
    assert sent.headers["anthropic-version"] == "2023-06-01"


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_client_errors_are_returned_unchanged(pair, status: int) -> None:
    a, b, proxy = pair
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad field"}}
    a.status(status, body=body, headers={"request-id": "req_123"})
    async with await proxy.post(json=REQUEST, headers=CLIENT_HEADERS) as response:
        assert response.status == status
        assert await response.json() == body
        assert response.headers["request-id"] == "req_123"
        assert response.headers["x-ccf-endpoint"] == "a"
    assert b.received == []


async def test_429_cools_down_for_retry_after(pair, clock: FakeClock) -> None:
    a, _b, proxy = pair
    a.status(429, headers={"retry-after": "120"})
    async with await proxy.post(json=REQUEST) as response:
        assert response.headers["x-ccf-endpoint"] == "b"
    a.ok()
    clock.advance(119)
    async with await proxy.post(json=REQUEST) as response:
        assert response.headers["x-ccf-attempts"] == "b=200"
    clock.advance(2)
    async with await proxy.post(json=REQUEST) as response:
        assert response.headers["x-ccf-attempts"] == "a=200"
    assert len(a.received) == 2


async def test_429_without_retry_after_uses_the_doubling_cooldown(pair, clock: FakeClock) -> None:
    a, _, proxy = pair
    a.status(429)
    for expected in (30, 60, 120):
        async with await proxy.post(json=REQUEST) as response:
            assert response.headers["x-ccf-attempts"] == "a=429, b=200"
        assert proxy.runtime.health["a"].remaining(clock.now) == expected
        clock.advance(expected)


async def test_auth_errors_with_the_endpoints_own_key_mark_auth_error_for_the_cap(
    upstreams, make_proxy
) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    own_key = two_endpoints(a.url, b.url).replace("auth: client", "auth: x-api-key")
    proxy = await make_proxy(own_key, keys={"a": "sk-a", "b": "sk-b"})
    a.status(401)
    async with await proxy.post(json=REQUEST):
        pass
    health = await (await proxy.session.get(proxy.url + "/health")).json()
    state = {e["name"]: e for e in health["endpoints"]}
    assert state["a"]["state"] == "auth_error"
    assert state["a"]["retry_in"] == 1800
    assert health["status"] == "degraded"
    assert health["serving"] == "b"


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_client_key_fails_over_without_marking_the_endpoint(
    pair, status: int
) -> None:
    a, _, proxy = pair
    a.status(status)
    async with await proxy.post(json=REQUEST, headers=CLIENT_HEADERS) as response:
        assert response.headers["x-ccf-attempts"] == f"a={status}, b=200"
    health = await (await proxy.session.get(proxy.url + "/health")).json()
    assert {e["name"]: e["state"] for e in health["endpoints"]} == {"a": "ok", "b": "ok"}
    a.ok()
    async with await proxy.post(json=REQUEST, headers=CLIENT_HEADERS) as response:
        assert response.headers["x-ccf-attempts"] == "a=200"  # the next client may pass


async def test_connection_refused_fails_over(upstreams, make_proxy) -> None:
    b = await upstreams("b")
    proxy = await make_proxy(
        two_endpoints(f"http://127.0.0.1:{closed_port()}", b.url), keys={"b": "k"}
    )
    async with await proxy.post(json=REQUEST) as response:
        assert response.status == 200
        assert response.headers["x-ccf-attempts"] == "a=connect, b=200"


async def test_dns_failure_fails_over(upstreams, make_proxy) -> None:
    b = await upstreams("b")
    proxy = await make_proxy(two_endpoints("http://no-such-host.invalid", b.url), keys={"b": "k"})
    async with await proxy.post(json=REQUEST) as response:
        assert response.headers["x-ccf-attempts"] == "a=connect, b=200"


async def test_reset_before_response_fails_over(pair) -> None:
    a, _, proxy = pair
    a.reset()
    async with await proxy.post(json=REQUEST) as response:
        assert response.status == 200
        assert response.headers["x-ccf-attempts"] == "a=reset, b=200"


async def test_black_holed_primary_fails_over_within_first_byte(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.hang()
    config = two_endpoints(a.url, b.url, "timeouts: {connect: 1, first_byte: 0.5, idle: 5}")
    proxy = await make_proxy(config, keys={"b": "k"})
    started = time.monotonic()
    async with await proxy.post(json=REQUEST) as response:
        assert response.status == 200
        assert response.headers["x-ccf-attempts"] == "a=timeout, b=200"
    assert 0.5 <= time.monotonic() - started < 15
    await asyncio.wait_for(a.disconnected.wait(), 2)


async def test_all_failed_returns_the_last_upstream_error_as_it_came(pair) -> None:
    a, b, proxy = pair
    a.status(529)
    b.status(503, body={"type": "error", "error": {"type": "api_error", "message": "b is down"}})
    async with await proxy.post(json=REQUEST) as response:
        assert response.status == 503
        assert (await response.json())["error"]["message"] == "b is down"
        assert response.headers["x-ccf-attempts"] == "a=529, b=503"
        assert response.headers["x-ccf-endpoint"] == "b"


async def test_all_failed_without_a_response_is_502_naming_every_attempt(
    upstreams, make_proxy
) -> None:
    a = await upstreams("a")
    a.reset()
    proxy = await make_proxy(
        two_endpoints(a.url, f"http://127.0.0.1:{closed_port()}"), keys={"b": "k"}
    )
    async with await proxy.post(json=REQUEST) as response:
        assert response.status == 502
        body = await response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "api_error"
    assert "a=reset, b=connect" in body["error"]["message"]


async def test_all_timed_out_is_504(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    a.hang()
    proxy = await make_proxy(
        f'endpoints: [{{name: a, base_url: "{a.url}"}}]\ntimeouts: {{first_byte: 0.3}}'
    )
    async with await proxy.post(json=REQUEST) as response:
        assert response.status == 504
        assert "a=timeout" in (await response.json())["error"]["message"]


async def test_all_cooling_tries_the_soonest_once(pair, clock: FakeClock) -> None:
    a, b, proxy = pair
    a.status(529)
    b.status(429, headers={"retry-after": "10"})
    async with await proxy.post(json=REQUEST) as response:
        assert response.headers["x-ccf-attempts"] == "a=529, b=429"
    async with await proxy.post(json=REQUEST) as response:
        assert response.headers["x-ccf-attempts"] == "b=429"
        assert response.status == 429


async def test_missing_key_skips_the_endpoint_without_calling_it(upstreams, make_proxy) -> None:
    a, b = await upstreams("a"), await upstreams("b")
    a.status(529)
    proxy = await make_proxy(two_endpoints(a.url, b.url))
    async with await proxy.post(json=REQUEST) as response:
        assert response.status == 529
        assert response.headers["x-ccf-attempts"] == "a=529, b=no-key"
    assert b.received == []


def test_config_helper_rejects_nothing_valid() -> None:
    assert config_from_yaml(two_endpoints("http://x", "http://y")).endpoints[1].auth == "x-api-key"
    assert message()["type"] == "message"
