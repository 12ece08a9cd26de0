"""The usage API, the tray snapshot's usage figures and the vendored chart library."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.proxy.admin.admin_helpers import REQUEST, AdminFactory, AdminProxy


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


async def served(admin_proxy: AdminFactory, upstreams, clock, n: int = 3) -> AdminProxy:
    clock.wall_now = time.time()  # rows of today, for the tray line
    a = await upstreams("a")
    b = await upstreams("b")
    proxy = await admin_proxy(
        f"endpoints: [{{name: a, base_url: '{a.url}'}}, {{name: b, base_url: '{b.url}'}}]"
    )
    a.status(529)
    for i in range(n):
        headers = {"x-claude-code-session-id": f"s{i % 2}"}
        async with await proxy.messages(REQUEST, headers=headers) as response:
            assert response.status == 200
    for _ in range(200):
        if (usage := proxy.runtime.snapshot().usage) and usage.requests == n:
            break
        await asyncio.sleep(0.05)
    return proxy


async def test_the_snapshot_carries_todays_figures(admin_proxy, upstreams, clock) -> None:
    proxy = await served(admin_proxy, upstreams, clock)
    usage = proxy.runtime.snapshot().usage
    assert usage is not None
    assert (usage.requests, usage.rescued, usage.warning) == (3, 3, "")
    assert usage.cost == pytest.approx(3 * (12 * 3 + 3 * 15) / 1e6)


async def test_summary_by_endpoint_model_and_day(admin_proxy, upstreams, clock) -> None:
    proxy = await served(admin_proxy, upstreams, clock)
    data = await proxy.json("GET", "usage/summary?days=7")
    assert data["totals"]["requests"] == 3
    assert data["totals"]["rescued"] == 3
    assert [row["key"] for row in data["by_endpoint"]] == ["b"]
    assert [row["key"] for row in data["by_model"]] == ["claude-sonnet-4-5"]
    assert len(data["by_day"]) == 1
    assert data["series"][0]["endpoint"] == "b"
    assert data["recording"] is True
    assert data["prices_as_of"]
    await proxy.json("GET", "usage/summary?days=5", status=400)


async def test_sessions_log_paging_and_csv(admin_proxy, upstreams, clock) -> None:
    proxy = await served(admin_proxy, upstreams, clock, n=5)
    sessions = await proxy.json("GET", "usage/sessions?days=1")
    assert {row["key"]: row["requests"] for row in sessions["items"]} == {"s0": 3, "s1": 2}
    only = await proxy.json("GET", "usage/requests?session=s0")
    assert [item["session"] for item in only["items"]] == ["s0"] * 3
    page = await proxy.json("GET", "usage/requests?limit=3")
    assert len(page["items"]) == 3
    assert page["next_before"] == page["items"][-1]["id"]
    rest = await proxy.json("GET", f"usage/requests?limit=3&before={page['next_before']}")
    assert len(rest["items"]) == 2
    await proxy.json("GET", "usage/requests?status=nope", status=400)
    async with proxy.call("GET", "usage/requests.csv?endpoint=b") as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in response.headers["Content-Disposition"]
        text = await response.text()
    assert len(text.strip().splitlines()) == 6


async def test_the_usage_api_needs_the_admin_token(admin_proxy, upstreams, clock) -> None:
    proxy = await served(admin_proxy, upstreams, clock, n=1)
    async with proxy.session.get(f"{proxy.url}/_ccf/api/usage/requests") as response:
        assert response.status == 401


async def test_the_chart_library_is_served_with_the_page_csp(admin_proxy) -> None:
    proxy = await admin_proxy("endpoints: [{name: a, base_url: 'http://127.0.0.1:9'}]")
    async with proxy.session.get(f"{proxy.url}/_ccf/vendor/uPlot.iife.min.js") as response:
        assert response.status == 200
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert b"uPlot" in await response.read()
    async with proxy.session.get(f"{proxy.url}/_ccf/vendor/README") as response:
        assert response.status == 404


async def test_the_tray_hears_when_todays_figures_change(admin_proxy, upstreams, clock) -> None:
    clock.wall_now = time.time()
    a = await upstreams("a")
    proxy = await admin_proxy(f"endpoints: [{{name: a, base_url: '{a.url}'}}]")
    heard: list[int] = []
    proxy.runtime.subscribe(lambda: heard.append((proxy.runtime.snapshot().usage).requests))
    async with await proxy.messages(REQUEST) as response:
        assert response.status == 200
    for _ in range(200):
        if 1 in heard:
            break
        await asyncio.sleep(0.05)
    assert 1 in heard
