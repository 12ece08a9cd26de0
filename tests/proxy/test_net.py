"""Real networks: a private CA through `ca_file`, and a real forward proxy (tinyproxy)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from yarl import URL

from proxy.admin.probe import probe
from proxy.core.config import Secret, Timeouts
from proxy.net import ProxyRules
from proxy.upstream import new_session
from tests.conftest import ProxyFactory, config_from_yaml
from tests.fakes import FakeUpstream
from tests.net_fakes import HttpsUpstream, PrivateCa, TinyProxy, private_ca

BODY = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "hi"}],
}


def https_yaml(url: str, ca_file: Path | None) -> str:
    line = f"\n    ca_file: {ca_file}" if ca_file else ""
    return f"endpoints:\n  - name: corp\n    base_url: {url}\n    auth: x-api-key{line}\n"


@pytest.fixture
def ca(tmp_path: Path) -> PrivateCa:
    return private_ca(tmp_path)


@pytest.fixture
async def https_upstream(ca: PrivateCa) -> AsyncIterator[HttpsUpstream]:
    fake = await HttpsUpstream("corp", ca).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def tinyproxy(tmp_path: Path) -> AsyncIterator[TinyProxy]:
    if shutil.which("tinyproxy") is None:
        pytest.fail("tinyproxy is not installed: apt-get install -y tinyproxy")
    forward = await TinyProxy(tmp_path).start()
    yield forward
    forward.stop()


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def test_private_ca_is_trusted_through_the_endpoints_ca_file(
    make_proxy: ProxyFactory, https_upstream: HttpsUpstream, ca: PrivateCa
) -> None:
    proxy = await make_proxy(https_yaml(https_upstream.url, ca.ca_file), keys={"corp": "sk-corp"})
    async with await proxy.post(json=BODY) as response:
        assert response.status == 200
        assert response.headers["x-ccf-endpoint"] == "corp"
    assert https_upstream.received[0].headers["x-api-key"] == "sk-corp"


async def test_private_ca_is_refused_without_ca_file(
    make_proxy: ProxyFactory, https_upstream: HttpsUpstream
) -> None:
    proxy = await make_proxy(https_yaml(https_upstream.url, None), keys={"corp": "sk-corp"})
    async with await proxy.post(json=BODY) as response:
        assert response.status == 502
    assert https_upstream.received == []


async def test_the_test_button_names_the_certificate_problem(https_upstream: HttpsUpstream) -> None:
    config = config_from_yaml(https_yaml(https_upstream.url, None))
    session = new_session(lambda: config)
    try:
        result = await probe(session, config.endpoints[0], Secret("sk-corp"), Timeouts())
    finally:
        await session.close()
    assert not result.ok
    assert "TLS certificate of 127.0.0.1 was refused" in result.error
    assert "unable to get local issuer certificate" in result.error
    assert "ca_file" in result.error


async def test_a_missing_ca_file_is_named(https_upstream: HttpsUpstream, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    config = config_from_yaml(https_yaml(https_upstream.url, missing))
    session = new_session(lambda: config)
    try:
        result = await probe(session, config.endpoints[0], Secret("sk-corp"), Timeouts())
    finally:
        await session.close()
    assert f"cannot use ca_file {missing}: no such file" in result.error


async def test_a_new_config_brings_its_ca_file_without_a_restart(
    make_proxy: ProxyFactory, https_upstream: HttpsUpstream, ca: PrivateCa
) -> None:
    proxy = await make_proxy(https_yaml(https_upstream.url, None), keys={"corp": "sk-corp"})
    async with await proxy.post(json=BODY) as response:
        assert response.status == 502
    fixed = config_from_yaml(https_yaml(https_upstream.url, ca.ca_file))
    proxy.runtime.set_config(fixed, proxy.runtime.keys)
    async with await proxy.post(json=BODY) as response:
        assert response.status == 200


async def test_http_traffic_goes_through_http_proxy(
    make_proxy: ProxyFactory,
    upstreams: Callable[[str], Awaitable[FakeUpstream]],
    tinyproxy: TinyProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = await upstreams("plain")
    monkeypatch.setenv("HTTP_PROXY", tinyproxy.url)
    monkeypatch.setenv("NO_PROXY", "")  # nothing bypassed, not even loopback
    proxy = await make_proxy(f"endpoints:\n  - name: plain\n    base_url: {plain.url}\n")
    async with await proxy.post(json=BODY) as response:
        assert response.status == 200
    assert "tinyproxy" in plain.received[0].headers.get("via", "")
    assert f"GET http://127.0.0.1:{plain.port}" not in tinyproxy.logged()  # it was a POST
    assert f"POST http://127.0.0.1:{plain.port}/v1/messages" in tinyproxy.logged()


async def test_no_proxy_keeps_traffic_direct(
    make_proxy: ProxyFactory,
    upstreams: Callable[[str], Awaitable[FakeUpstream]],
    tinyproxy: TinyProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = await upstreams("plain")
    monkeypatch.setenv("HTTP_PROXY", tinyproxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    proxy = await make_proxy(f"endpoints:\n  - name: plain\n    base_url: {plain.url}\n")
    async with await proxy.post(json=BODY) as response:
        assert response.status == 200
    assert "via" not in plain.received[0].headers
    assert f"127.0.0.1:{plain.port}" not in tinyproxy.logged()


async def test_https_traffic_tunnels_through_https_proxy_with_the_private_ca(
    make_proxy: ProxyFactory,
    https_upstream: HttpsUpstream,
    ca: PrivateCa,
    tinyproxy: TinyProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", tinyproxy.url)
    monkeypatch.setenv("NO_PROXY", "")
    proxy = await make_proxy(https_yaml(https_upstream.url, ca.ca_file), keys={"corp": "sk-corp"})
    async with await proxy.post(json=BODY) as response:
        assert response.status == 200
    assert f"CONNECT 127.0.0.1:{https_upstream.port}" in tinyproxy.logged()


def test_proxy_settings_are_read_again_after_the_refresh_interval() -> None:
    now = [0.0]
    settings = [{}, {"https": "http://127.0.0.1:3128"}]
    rules = ProxyRules(
        refresh=5.0, now=lambda: now[0], read=lambda: settings[0], bypass=lambda _: False
    )
    target = URL("https://api.example.test/v1/messages")
    assert rules.proxy_for(target) is None
    settings.pop(0)
    now[0] = 4.0
    assert rules.proxy_for(target) is None  # within the interval: the last reading
    now[0] = 5.0
    assert rules.proxy_for(target) == URL("http://127.0.0.1:3128")


def test_no_proxy_hosts_are_bypassed() -> None:
    rules = ProxyRules(
        read=lambda: {"https": "127.0.0.1:3128"}, bypass=lambda host: host.endswith(".corp")
    )
    assert rules.proxy_for(URL("https://llm.corp/v1")) is None
    assert rules.proxy_for(URL("https://api.example.test/v1")) == URL("http://127.0.0.1:3128")


def test_proxy_credentials_go_to_proxy_authorization() -> None:
    from proxy.net import split_credentials

    url, headers = split_credentials(URL("http://me:s3cret@127.0.0.1:3128"))
    assert url == URL("http://127.0.0.1:3128")
    assert headers == {"Proxy-Authorization": "Basic bWU6czNjcmV0"}
    assert split_credentials(URL("http://127.0.0.1:3128")) == (URL("http://127.0.0.1:3128"), None)


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_a_proxy_that_needs_credentials_gets_them(
    *,
    make_proxy: ProxyFactory,
    upstreams: Callable[[str], Awaitable[FakeUpstream]],
    https_upstream: HttpsUpstream,
    ca: PrivateCa,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scheme: str,
) -> None:
    forward = await TinyProxy(tmp_path, basic_auth=("me", "s3cret")).start()
    try:
        monkeypatch.setenv(f"{scheme.upper()}_PROXY", f"http://me:s3cret@127.0.0.1:{forward.port}")
        monkeypatch.setenv("NO_PROXY", "")
        if scheme == "http":
            target = await upstreams("plain")
            yaml = f"endpoints:\n  - name: plain\n    base_url: {target.url}\n"
        else:
            target = https_upstream
            yaml = https_yaml(target.url, ca.ca_file)
        proxy = await make_proxy(yaml, keys={"corp": "sk-corp"})
        async with await proxy.post(json=BODY) as response:
            assert response.status == 200  # 407 without the credentials
        assert "proxy-authorization" not in target.received[0].headers  # the proxy kept them
    finally:
        forward.stop()
