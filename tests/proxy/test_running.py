"""The running proxy is put together in one place, and nothing is filled in afterwards."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import aiohttp
import pytest

from proxy.config_file import load_config
from proxy.running import ProxySetup, start_proxy
from tests.fakes import closed_port
from tests.proxy.admin.admin_helpers import TOKEN, MemoryKeys

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("proxy", "tray_app", "ui", "packaging", "assets")
# What only the composition root may make: each is one part of the running proxy.
PARTS = {"Admin", "AdminToken", "ConfigChanges", "ConfigWatcher", "Sessions"}


def constructed(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def test_only_the_composition_root_makes_the_parts() -> None:
    makers = {
        path.relative_to(ROOT).as_posix(): sorted(constructed(path) & PARTS)
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if constructed(path) & PARTS
    }
    assert makers == {"proxy/running.py": sorted(PARTS)}


@pytest.fixture
async def running(tmp_path: Path, clock):
    path = tmp_path / "config.yaml"
    path.write_text(
        "# mine\nlisten: {port: 0}\nendpoints: [{name: a, base_url: 'http://127.0.0.1:9'}]\n"
    )
    announced: list[str] = []
    setup = ProxySetup(
        path,
        {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")},
        MemoryKeys({"__admin__": TOKEN}),
        clock,
        announce=announced.append,
        grace=0.5,
        watch_interval=3600,
    )
    proxy = await start_proxy(setup, load_config(path, setup.env))
    yield proxy, announced
    await proxy.stop()


async def test_the_admin_context_is_complete_and_frozen(running) -> None:
    proxy, _ = running
    assert proxy.admin.changes is proxy.changes
    assert proxy.changes.listener is proxy.server
    assert proxy.watcher.changes is proxy.changes
    assert proxy.runtime.url == proxy.url
    with pytest.raises(dataclasses.FrozenInstanceError):
        proxy.admin.changes = proxy.changes  # type: ignore[misc]


async def test_a_port_change_moves_the_server_and_is_announced(running) -> None:
    proxy, announced = running
    port = closed_port()
    body = {"listen": {"host": "127.0.0.1", "port": port}}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.put(f"{proxy.url}/_ccf/api/general", json=body, headers=headers) as response,
    ):
        assert response.status == 200, await response.text()
    assert proxy.server.port == port
    assert proxy.runtime.url == f"http://127.0.0.1:{port}"
    assert announced == [proxy.runtime.url]
    assert proxy.changes.path.read_text().startswith("# mine\n")
