"""Every spelling of a path meets the same decision: refused, admin, local or proxied.

Requests go over raw sockets, because an HTTP client would tidy the paths up first.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
from aiohttp import web

from proxy.core.config import Listen, Secret, Security
from proxy.keys import ResolvedKeys
from proxy.runtime import Runtime
from proxy.server import start_server
from tests.conftest import config_from_yaml
from tests.fakes import FakeUpstream

KEY = "sk-ant-api03-stored-key-0123456789"
TOKEN = "t0ken-for-the-lan-0123456789"
REQUEST = json.dumps({"model": "m", "max_tokens": 1, "messages": []})
HOSTILE = {
    "Origin": "https://evil.example",
    "Sec-Fetch-Site": "cross-site",
    "Content-Type": "text/plain",
}
# (method, target): each from the issue, or a sibling of one
VARIANTS = [
    ("POST", "/_ccf%2F..%2Fv1%2Fmessages"),
    ("POST", "/%5fccf%2f..%2fv1%2fmessages"),
    ("POST", "/_ccf/../v1/messages"),
    ("POST", "/%2e%2e/v1/messages"),
    ("POST", "/v1%2Fmessages"),
    ("POST", "/v1%5Cmessages"),
    ("POST", "/v1\\messages"),
    ("POST", "/v1/messages%00"),
    ("POST", "/health"),
    ("POST", "/metrics"),
    ("POST", "/%68ealth"),
    ("PUT", "/%6detrics"),
    ("DELETE", "/health"),
    ("OPTIONS", "/health"),
    ("POST", "/_ccf/api/nothing-here"),
    ("POST", "/%5fccf/v1/messages"),
    ("GET", "/_ccf/v1/models"),
]


async def send_raw(
    port: int,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    address: str = "127.0.0.1",
) -> tuple[int, bytes]:
    """One request exactly as written; the status and the body of the answer."""
    body = REQUEST.encode()
    headers = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    reader, writer = await asyncio.open_connection(address, port)
    try:
        writer.write("\r\n".join(lines).encode() + body)
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest


def recording_raw_paths(upstream: FakeUpstream) -> list[str]:
    """The raw request targets `upstream` receives (its `received` has them decoded)."""
    seen: list[str] = []
    answer = upstream.behaviour

    async def record(request: web.Request) -> web.StreamResponse:
        seen.append(request.raw_path)
        return await answer(request)

    upstream.behaviour = record
    return seen


@pytest.fixture
async def setup(upstreams, make_proxy):
    a = await upstreams("a")
    config = f'endpoints: [{{name: a, base_url: "{a.url}", auth: x-api-key, key: "env:K"}}]'
    return a, await make_proxy(config_from_yaml(config, {"K": KEY}), {"a": KEY})


@pytest.mark.parametrize(("method", "target"), VARIANTS)
@pytest.mark.parametrize("hostile", [True, False])
async def test_no_variant_reaches_the_upstream(setup, method, target, hostile) -> None:
    a, proxy = setup
    status, body = await send_raw(proxy.server.port, method, target, HOSTILE if hostile else {})
    assert status in (400, 403, 404, 405), (status, body)
    assert a.received == []


async def test_ambiguous_paths_are_400_before_anything_else(setup) -> None:
    a, proxy = setup
    headers = {**HOSTILE, "Host": "evil.example"}  # would be a 403 if the guard ran first
    status, body = await send_raw(proxy.server.port, "POST", "/_ccf%2F..%2Fv1", headers)
    assert status == 400
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert "encoded '/'" in error["message"]
    assert a.received == []


@pytest.mark.parametrize("target", ["/health", "/%68ealth", "/metrics", "/%6Detrics"])
async def test_local_paths_answer_get_and_head_only(setup, target) -> None:
    a, proxy = setup
    for method in ("GET", "HEAD"):
        status, _ = await send_raw(proxy.server.port, method, target)
        assert status == 200, method
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        status, _ = await send_raw(proxy.server.port, method, target)
        assert status == 405, method
    assert a.received == []


@pytest.mark.parametrize("target", ["/_ccf", "/_ccf/", "/_ccf/v1/messages", "/%5Fccf/x"])
async def test_admin_paths_without_a_route_are_404(setup, target) -> None:
    a, proxy = setup
    for method in ("GET", "POST"):
        status, _ = await send_raw(proxy.server.port, method, target)
        assert status == 404, method
    assert a.received == []


async def test_the_upstream_gets_the_raw_path_and_query(setup) -> None:
    a, proxy = setup
    seen = recording_raw_paths(a)
    target = "/v1/%6dessages?beta=true&a=%26b"
    status, _ = await send_raw(proxy.server.port, "POST", target, {"Content-Type": "x/y"})
    assert (status, seen) == (200, [target])
    assert a.received[0].headers["x-api-key"] == KEY


# ---------------------------------------------------------------- LAN mode


@pytest.fixture
async def lan(upstreams, clock):
    """The proxy on 0.0.0.0 with an access token; tests talk to it on loopback only."""
    a = await upstreams("a")
    config = config_from_yaml(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    config = replace(
        config,
        listen=Listen(host="0.0.0.0", port=0),
        security=Security(access_token=Secret(TOKEN)),
    )
    runtime = Runtime(config, ResolvedKeys(keys={}, problems={}), clock)
    server = await start_server(runtime, grace=0.5)
    yield a, server.port
    await server.stop()


@pytest.mark.parametrize("address", ["127.0.0.2", "127.0.0.1"])
@pytest.mark.parametrize(("method", "target"), VARIANTS)
async def test_lan_variants_without_the_token_are_refused(lan, address, method, target) -> None:
    a, port = lan
    status, _ = await send_raw(port, method, target, HOSTILE, address=address)
    assert status in (400, 401, 403, 404), status
    assert a.received == []


@pytest.mark.parametrize("address", ["127.0.0.2", "127.0.0.1"])
async def test_lan_variants_with_the_token_still_never_reach_the_upstream(lan, address) -> None:
    a, port = lan
    for method, target in VARIANTS:
        headers = {"x-ccf-token": TOKEN}
        status, _ = await send_raw(port, method, target, headers, address=address)
        assert status in (400, 404, 405), (method, target, status)
    assert a.received == []
    status, _ = await send_raw(port, "POST", "/v1/messages", {"x-ccf-token": TOKEN}, address)
    assert status == 200
    assert "x-ccf-token" not in a.received[0].headers


class FakeTransport:
    def __init__(self, peer: tuple[str, int]) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": self.peer, "sockname": ("0.0.0.0", 8765)}.get(name, default)

    def is_closing(self) -> bool:
        return False


@pytest.mark.parametrize(
    ("peer", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("192.168.1.20", False),
        ("10.0.0.7", False),
        ("fe80::1%eth0", False),
        ("::ffff:192.168.1.20", False),
    ],
)
def test_the_settings_page_answers_loopback_peers_only(peer: str, allowed: bool) -> None:
    """The LAN can forge `Host: 127.0.0.1:PORT`, not the address it connects from."""
    from aiohttp.test_utils import make_mocked_request

    from proxy.core.paths import classify
    from proxy.dispatch import TARGET
    from proxy.security import check

    config = replace(
        config_from_yaml("endpoints: [{name: a, base_url: 'http://127.0.0.1:1'}]"),
        security=Security(access_token=Secret(TOKEN)),
    )
    request = make_mocked_request(
        "GET",
        "/_ccf/api/config",
        headers={"Host": "127.0.0.1:8765", "x-ccf-token": TOKEN},
        transport=FakeTransport((peer, 50000)),
    )
    request[TARGET] = classify("/_ccf/api/config")
    refusal = check(request, config)
    assert (refusal is None) is allowed
    if refusal is not None:
        assert refusal.status == 403
