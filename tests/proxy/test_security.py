"""Loopback Host guard, refusal of browser requests, the access token, no CORS."""

from __future__ import annotations

from dataclasses import replace

import pytest

from proxy.core.config import Secret, Security
from tests.conftest import config_from_yaml

REQUEST = {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def setup(upstreams, make_proxy):
    a = await upstreams("a")
    return a, await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "127.0.0.1:1", "localhost", "attacker.localhost:{port}"]
)
async def test_foreign_host_is_refused(setup, host: str) -> None:
    a, proxy = setup
    headers = {"Host": host.format(port=proxy.server.port)}
    for path in ("/v1/messages", "/health", "/metrics"):
        async with proxy.session.post(proxy.url + path, json=REQUEST, headers=headers) as response:
            assert response.status == 403
            assert (await response.json())["error"]["type"] == "permission_error"
    assert a.received == []


@pytest.mark.parametrize(
    "host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LOCALHOST:{port}"]
)
async def test_loopback_hosts_are_allowed(setup, host: str) -> None:
    _, proxy = setup
    headers = {"Host": host.format(port=proxy.server.port)}
    async with proxy.session.post(
        proxy.url + "/v1/messages", json=REQUEST, headers=headers
    ) as response:
        assert response.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a page on another port of 127.0.0.1
        {"Sec-Fetch-Site": "same-origin"},
    ],
)
async def test_browser_requests_are_refused(setup, headers: dict[str, str]) -> None:
    a, proxy = setup
    async with await proxy.post(json=REQUEST, headers=headers) as response:
        assert response.status == 403
        assert "access-control-allow-origin" not in response.headers
    assert a.received == []


async def test_a_typed_address_is_not_a_web_page(setup) -> None:
    _, proxy = setup
    async with await proxy.post(json=REQUEST, headers={"Sec-Fetch-Site": "none"}) as response:
        assert response.status == 200


async def test_no_cors_headers_anywhere(setup) -> None:
    _, proxy = setup
    async with proxy.session.options(
        proxy.url + "/v1/messages", headers={"Origin": "https://x"}
    ) as response:
        assert not any(name.lower().startswith("access-control-") for name in response.headers)
    async with await proxy.post(json=REQUEST) as response:
        assert not any(name.lower().startswith("access-control-") for name in response.headers)


async def test_access_token_is_required_and_not_forwarded(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    config = config_from_yaml(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    config = replace(config, security=Security(access_token=Secret("t" * 24)))
    proxy = await make_proxy(config)
    async with await proxy.post(json=REQUEST) as response:
        assert response.status == 401
    async with await proxy.post(json=REQUEST, headers={"x-ccf-token": "wrong"}) as response:
        assert response.status == 401
    headers = {"x-ccf-token": "t" * 24, "Host": f"192.0.2.1:{proxy.server.port}"}
    async with await proxy.post(json=REQUEST, headers=headers) as response:
        assert response.status == 200
    assert len(a.received) == 1
    assert "x-ccf-token" not in a.received[0].headers
