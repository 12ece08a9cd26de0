"""Changes meet the running proxy: streams in flight, a new port, the Test button."""

from __future__ import annotations

import socket

import pytest
import yaml

from tests.fakes import closed_port, stream_events
from tests.proxy.admin.admin_helpers import REQUEST

CONFIG = (
    "endpoints:\n"
    "  - {name: a, base_url: '%s'}\n"
    "  - {name: b, base_url: '%s', auth: bearer, models: {'claude-haiku-*': b-small}}\n"
)


@pytest.fixture
async def setup(upstreams, admin_proxy):
    a, b = await upstreams("a"), await upstreams("b")
    proxy = await admin_proxy(CONFIG % (a.url, b.url), keys={"b": "sk-b-key-5678"})
    return a, b, proxy


async def test_a_stream_in_flight_finishes_while_its_endpoint_is_deleted(setup) -> None:
    a, _b, proxy = setup
    parts = [f"part{i} " for i in range(10)]
    a.stream(stream_events(parts), delay=0.05)
    response = await proxy.messages({**REQUEST, "stream": True})
    assert response.headers["x-ccf-endpoint"] == "a"
    first = await response.content.readany()
    assert b"message_start" in first
    await proxy.json("DELETE", "endpoints/a")
    assert [e.name for e in proxy.runtime.config.endpoints] == ["b"]
    body = first + await response.content.read()
    response.release()
    assert body.count(b"event: content_block_delta") == len(parts)
    assert body.rstrip().endswith(b'data: {"type": "message_stop"}')
    async with await proxy.messages(REQUEST) as next_response:
        assert next_response.headers["x-ccf-endpoint"] == "b"
    assert len(a.received) == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refuses(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def test_a_port_change_rebinds_and_says_where(setup) -> None:
    _, _, proxy = setup
    old_port, new_port = proxy.server.port, free_port()
    general = {"listen": {"host": "127.0.0.1", "port": new_port}}
    data = await proxy.json("PUT", "general", general)
    assert data["url"] == f"http://127.0.0.1:{new_port}"
    assert proxy.runtime.url == data["url"]
    assert proxy.server.port == new_port
    assert yaml.safe_load(proxy.path.read_text())["listen"] == general["listen"]
    async with proxy.session.get(f"{data['url']}/health") as response:
        assert response.status == 200
    assert refuses(old_port)


async def test_a_port_in_use_is_refused_and_nothing_changes(setup) -> None:
    _, _, proxy = setup
    before = proxy.path.read_text()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        general = {"listen": {"host": "127.0.0.1", "port": port}}
        data = await proxy.json("PUT", "general", general, status=400)
    assert data["error"]["field"] == "listen.port"
    assert "in use" in data["error"]["message"]
    assert proxy.path.read_text() == before
    async with proxy.session.get(f"{proxy.url}/health") as response:
        assert response.status == 200


async def test_the_test_button_reports_without_touching_health(setup) -> None:
    _, b, proxy = setup
    b.status(
        401, {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}}
    )
    result = await proxy.json("POST", "endpoints/b/test")
    assert result["ok"] is False
    assert result["status"] == 401
    assert result["error"] == "bad key"
    assert result["latency_ms"] >= 0
    assert proxy.runtime.health == {}
    sent = b.received[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["authorization"] == "Bearer sk-b-key-5678"
    assert sent.json["max_tokens"] == 1
    assert sent.json["model"] == "b-small"
    b.ok()
    result = await proxy.json("POST", "endpoints/b/test")
    assert result["ok"] is True
    assert result["status"] == 200
    assert result["model"] == "b-small"


async def test_the_test_button_explains_unreachable_and_keyless_endpoints(
    upstreams, admin_proxy
) -> None:
    port = closed_port()
    proxy = await admin_proxy(
        "endpoints:\n"
        f"  - {{name: gone, base_url: 'http://127.0.0.1:{port}'}}\n"
        "  - {name: nokey, base_url: 'https://example.invalid', auth: bearer}\n"
    )
    result = await proxy.json("POST", "endpoints/gone/test")
    assert result["ok"] is False
    assert result["status"] is None
    assert "connect" in result["error"]
    result = await proxy.json("POST", "endpoints/nokey/test")
    assert "ccf key set nokey" in result["error"]
    await proxy.json("POST", "endpoints/missing/test", status=404)
    assert proxy.runtime.health == {}


async def test_the_test_button_speaks_openai_to_openai_endpoints(upstreams, admin_proxy) -> None:
    c = await upstreams("c")
    proxy = await admin_proxy(
        f"endpoints: [{{name: c, base_url: '{c.url}/v1', format: openai, auth: bearer, key: 'env:C_KEY'}}]",
        env={"C_KEY": "sk-c-env-0000"},
    )
    await proxy.json("POST", "endpoints/c/test")
    sent = c.received[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-c-env-0000"
    assert sent.json["messages"][-1]["role"] == "user"


async def test_keys_reload_picks_up_a_key_set_elsewhere(setup) -> None:
    _, _, proxy = setup
    proxy.keys.values["b"] = "sk-set-by-cli-1111"
    await proxy.json("POST", "keys/reload")
    assert proxy.runtime.keys.keys["b"].value == "sk-set-by-cli-1111"


async def test_activity_lists_requests_and_counts_per_endpoint(setup) -> None:
    a, _, proxy = setup
    a.status(529)
    async with await proxy.messages({**REQUEST, "model": "claude-haiku-4-5"}) as response:
        assert response.status == 200
    data = await proxy.json("GET", "activity")
    item = data["items"][0]
    assert item["endpoint"] == "b"
    assert item["model"] == "claude-haiku-4-5"
    assert item["mapped_model"] == "b-small"
    assert item["attempts"] == "a=529, b=200"
    assert data["counters"]["b"]["requests"] == 1
    assert (
        data["counters"]["a"]["failovers"] == {"overloaded": 1}
        or data["counters"]["a"]["failovers"]
    )
    states = {row["name"]: row for row in (await proxy.json("GET", "endpoints"))["endpoints"]}
    assert states["a"]["state"] == "cooling"
    assert states["a"]["retry_in"] > 0
    assert states["b"]["key"]["last4"] == "5678"
