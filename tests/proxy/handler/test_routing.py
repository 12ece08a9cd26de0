"""Order, pin, pause, disabled endpoints and cooldown expiry (half-open) with a fake clock."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.conftest import FakeClock, config_from_yaml

REQUEST = {
    "model": "claude-opus-4-1",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": "hi"}],
}


def three(a: str, b: str, c: str, extra: str = "") -> str:
    return f"""
endpoints:
  - {{name: a, base_url: "{a}"}}
  - {{name: b, base_url: "{b}"}}
  - {{name: c, base_url: "{c}"}}
{extra}
"""


@pytest.fixture
async def fakes(upstreams):
    return await upstreams("a"), await upstreams("b"), await upstreams("c")


async def attempts(proxy) -> str:
    async with await proxy.post(json=REQUEST) as response:
        await response.read()
        return response.headers["x-ccf-attempts"]


async def test_pinned_endpoint_goes_first(fakes, make_proxy) -> None:
    a, b, c = fakes
    proxy = await make_proxy(three(a.url, b.url, c.url, "routing: {pinned: c}"))
    assert await attempts(proxy) == "c=200"
    c.status(529)
    assert await attempts(proxy) == "c=529, a=200"


async def test_paused_tries_only_the_first_and_returns_its_answer(fakes, make_proxy) -> None:
    a, b, c = fakes
    a.status(529)
    proxy = await make_proxy(three(a.url, b.url, c.url, "routing: {paused: true}"))
    assert await attempts(proxy) == "a=529"
    assert await attempts(proxy) == "a=529"
    assert b.received == []
    assert c.received == []
    health = await (await proxy.session.get(proxy.url + "/health")).json()
    assert health["status"] == "paused"


async def test_disabled_endpoints_are_never_tried(fakes, make_proxy) -> None:
    a, b, c = fakes
    a.status(500)
    text = three(a.url, b.url, c.url).replace(
        f'name: b, base_url: "{b.url}"', f'name: b, base_url: "{b.url}", enabled: false'
    )
    proxy = await make_proxy(text)
    assert await attempts(proxy) == "a=500, c=200"
    assert b.received == []


async def test_cooldown_expiry_retries_the_primary_half_open(
    fakes, make_proxy, clock: FakeClock
) -> None:
    a, b, c = fakes
    a.status(529)
    proxy = await make_proxy(three(a.url, b.url, c.url))
    assert await attempts(proxy) == "a=529, b=200"
    assert await attempts(proxy) == "b=200"
    clock.advance(30)
    assert await attempts(proxy) == "a=529, b=200"
    assert proxy.runtime.health["a"].remaining(clock.now) == 60
    clock.advance(60)
    a.ok()
    assert await attempts(proxy) == "a=200"
    assert proxy.runtime.health.get("a") is None or proxy.runtime.health["a"].failures == 0


async def test_a_config_swap_applies_to_the_next_request(fakes, make_proxy) -> None:
    a, b, c = fakes
    proxy = await make_proxy(three(a.url, b.url, c.url))
    assert await attempts(proxy) == "a=200"
    runtime = proxy.runtime
    runtime.set_config(runtime.config.with_routing(pinned="b"), runtime.keys)
    assert await attempts(proxy) == "b=200"
    swapped = replace(config_from_yaml(three(a.url, b.url, c.url)), listen=runtime.config.listen)
    runtime.set_config(swapped, runtime.keys)
    assert await attempts(proxy) == "a=200"


async def test_concurrent_failures_count_once(fakes, make_proxy, clock: FakeClock) -> None:
    import asyncio

    a, b, c = fakes
    a.status(529)
    proxy = await make_proxy(three(a.url, b.url, c.url))
    await asyncio.gather(*(attempts(proxy) for _ in range(8)))
    assert proxy.runtime.health["a"].failures == 1
    assert proxy.runtime.health["a"].remaining(clock.now) == 30
