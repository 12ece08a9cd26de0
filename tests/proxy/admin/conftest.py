"""The `admin_proxy` fixture: a config file on disk, keys in memory, the proxy on a socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from proxy.config_file import load_config
from proxy.running import ProxySetup, start_proxy
from tests.proxy.admin.admin_helpers import TOKEN, AdminFactory, AdminProxy, MemoryKeys


@pytest.fixture
async def admin_proxy(tmp_path: Path, clock) -> AsyncIterator[AdminFactory]:
    running: list[AdminProxy] = []

    async def make(
        yaml_text: str, keys: dict[str, str] | None = None, env: dict[str, str] | None = None
    ) -> AdminProxy:
        path = tmp_path / "config.yaml"
        if "listen:" not in yaml_text:
            yaml_text += "\nlisten: {port: 0}\n"
        path.write_text(yaml_text)
        env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), **(env or {})}
        store = MemoryKeys({"__admin__": TOKEN, **(keys or {})})
        setup = ProxySetup(path, env, store, clock, grace=0.5, watch_interval=3600)
        started = await start_proxy(setup, load_config(path, env))
        proxy = AdminProxy(started, store, path, aiohttp.ClientSession())
        running.append(proxy)
        return proxy

    yield make
    for proxy in running:
        await proxy.session.close()
        await proxy.running.stop()
