"""Attacks on the proxy and the admin API: rebinding, CSRF, framing, tokens, paths, injection,
bodies that are too big or too deep. Each must be refused cleanly and change nothing."""

from __future__ import annotations

import asyncio
import io
import statistics
import time

import pytest

from proxy.admin.guard import PAGE_HEADERS
from proxy.core.lockout import Lockout
from tests.proxy.admin.admin_helpers import TOKEN

CONFIG = "endpoints: [{name: a, base_url: '%s'}]\n"
REQUEST = {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def setup(upstreams, admin_proxy):
    a = await upstreams("a")
    return a, await admin_proxy(CONFIG % a.url)


async def raw(port: int, request: bytes) -> tuple[int, bytes]:
    """Send bytes exactly as given (no client-side path normalising); status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    async with asyncio.timeout(5):
        data = await reader.read(1 << 20)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


# ------------------------------------------------------------------ DNS rebinding


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1.nip.io:{port}", "[::2]:{port}"])
async def test_a_rebound_name_cannot_reach_the_admin_api_even_with_a_token(setup, host) -> None:
    a, proxy = setup
    headers = {"Host": host.format(port=proxy.server.port)}
    async with proxy.call("PUT", "routing", json={"paused": True}, headers=headers) as response:
        assert response.status == 403
    async with proxy.call("GET", "config", headers=headers) as response:
        assert response.status == 403
    assert proxy.runtime.config.routing.paused is False
    assert a.received == []


# ------------------------------------------------------------------ CSRF and no-cors pages


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"paused": true}'),
        ("text/plain;charset=UTF-8", '{"paused": true}'),
        ("application/x-www-form-urlencoded", "paused=true"),
        ("multipart/form-data; boundary=b", '--b\r\nContent-Disposition: form-data; name="p"\r\n'),
        ("", '{"paused": true}'),
    ],
)
async def test_csrf_with_a_valid_session_cookie_changes_nothing(setup, content_type, body) -> None:
    """What a form post or a no-cors fetch can send, with the victim's cookie attached."""
    _, proxy = setup
    async with proxy.call("POST", "login-codes", json={}) as response:
        code = (await response.json())["code"]
    async with proxy.session.get(
        f"{proxy.url}/_ccf/login?code={code}", allow_redirects=False
    ) as response:
        cookie = response.cookies["ccf_session"].value
    async with proxy.session.get(
        f"{proxy.url}/_ccf/api/config", headers={"Cookie": f"ccf_session={cookie}"}
    ) as response:
        assert response.status == 200  # the cookie is a real session
    headers = {"Cookie": f"ccf_session={cookie}", "Content-Type": content_type}
    for site in ("cross-site", "same-site", "none"):
        async with proxy.session.put(
            f"{proxy.url}/_ccf/api/routing",
            data=body.encode(),
            headers={**headers, "Sec-Fetch-Site": site},
        ) as response:
            assert response.status in (403, 415), (site, response.status)
    assert proxy.runtime.config.routing.paused is False


async def test_a_page_cannot_spend_keys_through_the_proxy(setup) -> None:
    a, proxy = setup
    for headers in (
        {"Origin": "https://evil.example", "Content-Type": "text/plain"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
        {"Origin": "null"},
    ):
        async with proxy.session.post(
            f"{proxy.url}/v1/messages", data=b'{"model":"m"}', headers=headers
        ) as response:
            assert response.status == 403
    assert a.received == []


# ------------------------------------------------------------------ clickjacking


@pytest.mark.parametrize(
    ("path", "auth"),
    [
        ("/_ccf/", False),
        ("/_ccf/app.js", False),
        ("/_ccf/nope.html", False),
        ("/_ccf/login?code=x", False),
        ("/_ccf/api/config", False),
        ("/_ccf/api/config", True),
        ("/_ccf/api/nothing", True),
    ],
)
async def test_every_admin_answer_forbids_framing(setup, path, auth) -> None:
    _, proxy = setup
    headers = {"Authorization": f"Bearer {TOKEN}"} if auth else {}
    async with proxy.session.get(proxy.url + path, headers=headers) as response:
        for name, value in PAGE_HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


# ------------------------------------------------------------------ the admin token


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"bearer{TOKEN}"],
)
async def test_a_wrong_or_missing_token_is_refused(setup, authorization) -> None:
    _, proxy = setup
    headers = {} if authorization is None else {"Authorization": authorization}
    async with proxy.session.put(
        f"{proxy.url}/_ccf/api/routing", json={"paused": True}, headers=headers
    ) as response:
        assert response.status == 401
    assert proxy.runtime.config.routing.paused is False


async def test_token_comparison_is_constant_time(setup, monkeypatch) -> None:
    """The guard compares with hmac.compare_digest (checked by a spy), and over the socket a
    token that is right but for its last character takes no longer to refuse than one that is
    wrong from the first (medians of interleaved samples). The lock-out after ten wrong
    tokens (tested in test_login_flood.py) is lifted here, to time 300 refusals."""
    _, proxy = setup
    from proxy.admin import guard

    proxy.admin.sessions.lockout = Lockout(max_failures=1000)

    seen: list[bytes] = []
    real = guard.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append(b)
        return real(a, b)

    monkeypatch.setattr(guard.hmac, "compare_digest", spy)
    near, far = "Bearer " + TOKEN[:-1] + "!", "Bearer " + "!" * len(TOKEN)
    samples: dict[str, list[float]] = {near: [], far: []}
    for _ in range(150):
        for token in (near, far):
            started = time.perf_counter()
            async with proxy.session.get(
                f"{proxy.url}/_ccf/api/config", headers={"Authorization": token}
            ) as response:
                assert response.status == 401
            samples[token].append(time.perf_counter() - started)
    assert seen
    assert all(b == TOKEN.encode() for b in seen)
    near_ms, far_ms = (statistics.median(samples[t]) * 1000 for t in (near, far))
    assert abs(near_ms - far_ms) < max(0.25, 0.25 * far_ms), (near_ms, far_ms)


# ------------------------------------------------------------------ path traversal


@pytest.mark.parametrize(
    "path",
    [
        "/_ccf/../../../../etc/passwd",
        "/_ccf/%2e%2e/%2e%2e/pyproject.toml",
        "/_ccf/..%2f..%2fpyproject.toml",
        "/_ccf/%2e%2e%2fproxy%2fkeys.py",
        "/_ccf/app.js/../../../proxy/keys.py",
        "/_ccf/static/../../pyproject.toml",
        "/_ccf/index.html%00.js",
        "/_ccf/..\\..\\pyproject.toml",
        "/_ccf//etc/passwd",
        "/_ccf/%252e%252e/pyproject.toml",
    ],
)
async def test_no_path_reads_a_file_outside_the_page(setup, path) -> None:
    a, proxy = setup
    port = proxy.server.port
    status, body = await raw(
        port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    )
    assert status in (400, 403, 404) or (status == 200 and b"<!doctype html>" in body.lower())
    for secret_looking in (b"root:", b"[build-system]", b"KeyStore", b"import "):
        assert secret_looking not in body
    assert all(r.path.startswith("/_ccf") is False for r in a.received)


# ------------------------------------------------------------------ injection through config


async def test_line_breaks_in_config_values_are_refused(setup) -> None:
    a, proxy = setup
    attempts = [
        ("POST", "endpoints", {"name": "b\r\nx", "base_url": a.url}),
        ("POST", "endpoints", {"name": "b", "base_url": a.url + "\r\nX-Evil: 1"}),
        ("POST", "endpoints", {"name": "b", "base_url": a.url, "headers": {"X-A\r\nB": "1"}}),
        ("POST", "endpoints", {"name": "b", "base_url": a.url, "headers": {"X-A": "1\r\nX-B: 2"}}),
        ("POST", "endpoints", {"name": "b", "base_url": a.url, "models": {"*": "m\r\nX: y"}}),
    ]
    for method, path, body in attempts:
        async with proxy.call(method, path, json=body) as response:
            assert response.status == 400, body
    assert [e.name for e in proxy.runtime.config.endpoints] == ["a"]


@pytest.mark.parametrize("bad", ["key\r\nX-Injected: 1", "key\nX-Injected: 1", "key\x00tail"])
async def test_a_key_with_line_breaks_never_becomes_a_header(upstreams, admin_proxy, bad) -> None:
    """Keys can reach the keyring or the environment without the admin API's checks."""
    a = await upstreams("a")
    config = (
        f"endpoints:\n  - {{name: k, base_url: '{a.url}', auth: bearer}}\n"
        f"  - {{name: e, base_url: '{a.url}', auth: x-api-key, key: 'env:EVIL_KEY'}}\n"
    )
    proxy = await admin_proxy(config, keys={"k": bad}, env={"EVIL_KEY": bad})
    async with await proxy.messages(REQUEST) as response:
        assert response.status in (502, 503)
        assert (await response.json())["type"] == "error"
    for received in a.received:
        assert "x-injected" not in received.headers
    assert "line break" in proxy.runtime.keys.problems["k"]
    assert "line break" in proxy.runtime.keys.problems["e"]


# ------------------------------------------------------------------ huge and deep bodies


async def test_a_huge_body_is_refused_before_it_goes_anywhere(setup) -> None:
    a, proxy = setup
    huge = b'{"model": "m", "pad": "' + b"x" * (33 * 1024 * 1024) + b'"}'
    json_type = {"Content-Type": "application/json"}
    async with proxy.session.post(
        f"{proxy.url}/v1/messages", data=io.BytesIO(huge), headers=json_type
    ) as response:
        assert response.status == 413
    async with proxy.call("PUT", "routing", data=io.BytesIO(huge), headers=json_type) as response:
        assert response.status == 413
    assert a.received == []


@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_deeply_nested_json_is_a_clean_error(setup, depth) -> None:
    _a, proxy = setup
    deep = ("[" * depth + "]" * depth).encode()
    nested = b'{"paused": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"
    for body in (deep, nested):
        async with proxy.call(
            "PUT", "routing", data=body, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 400, await response.text()
        async with proxy.session.post(
            f"{proxy.url}/v1/messages", data=body, headers={"Content-Type": "application/json"}
        ) as response:
            # not a JSON object to the proxy: forwarded as it is to one endpoint, whose
            # answer (the fake's own 500) comes back as it came
            assert response.headers["x-ccf-attempts"] == f"a={response.status}"
    assert proxy.runtime.config.routing.paused is False
