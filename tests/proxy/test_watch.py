"""The config file watched while running: good edits swap in, bad ones keep the last good config."""

from __future__ import annotations

import json
import logging
import os
import socket
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from proxy.config_changes import ConfigChanges
from proxy.config_file import load_config
from proxy.keys import resolve_keys
from proxy.running import ProxySetup, start_proxy
from proxy.runtime import Runtime
from proxy.service import ProxyService
from proxy.watch import ConfigWatcher
from tests.fakes import closed_port
from tests.polling import wait_for
from tests.proxy.admin.admin_helpers import MemoryKeys
from tests.proxy.core.test_config_yaml import ALIAS_BOMB
from tests.serve import ccf_serve

ONE = "listen: {port: 0}\nendpoints:\n  - {name: a, base_url: 'http://127.0.0.1:9'}\n"
TWO = ONE + "  - {name: b, base_url: 'http://127.0.0.1:10', auth: bearer, key: 'env:B_KEY'}\n"
ENV = {"B_KEY": "b-key-value-1234"}


def rewrite(path: Path, text: str) -> None:
    """Write in place (as an editor does), with a new mtime even within one clock tick."""
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


@pytest.fixture
def watched(tmp_path: Path, clock):
    path = tmp_path / "config.yaml"
    path.write_text(ONE)
    store = MemoryKeys()
    config = load_config(path, ENV)
    runtime = Runtime(config, resolve_keys(config, store, ENV), clock)
    changes = ConfigChanges(path, ENV, store, runtime, listener=None)
    return path, runtime, ConfigWatcher(changes)


def names(runtime: Runtime) -> list[str]:
    return [e.name for e in runtime.config.endpoints]


async def test_a_good_edit_is_swapped_in_with_its_keys(watched) -> None:
    path, runtime, watcher = watched
    rewrite(path, TWO)
    await watcher.check()
    assert names(runtime) == ["a", "b"]
    assert runtime.keys.keys["b"].value == ENV["B_KEY"]
    assert runtime.problem == ""


async def test_nothing_changed_means_nothing_read(watched, monkeypatch) -> None:
    _, runtime, watcher = watched
    monkeypatch.setattr("proxy.config_changes.load_config", lambda *_: pytest.fail("read again"))
    await watcher.check()
    assert runtime.problem == ""


def _delete(path: Path) -> None:
    path.unlink()


def _truncate(path: Path) -> None:
    rewrite(path, "")


def _invalid_yaml(path: Path) -> None:
    rewrite(path, "endpoints: [\n  {name: a\n")


def _invalid_value(path: Path) -> None:
    rewrite(path, "endpoints: [{name: a, base_url: 'http://x', auth: magic}]\n")


def _unreadable(path: Path) -> None:
    path.unlink()
    path.mkdir()  # reading raises IsADirectoryError, as an unreadable file raises EACCES


def _not_utf8(path: Path) -> None:
    path.write_bytes(b"endpoints: \xff\xfe\n")


def _alias_bomb(path: Path) -> None:
    rewrite(path, ALIAS_BOMB)


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)  # opening it to read would wait for a writer that never comes


BREAKAGES = {
    "deleted": (_delete, "was deleted"),
    "truncated": (_truncate, "is empty"),
    "invalid yaml": (_invalid_yaml, "not valid YAML"),
    "invalid value": (_invalid_value, "auth"),
    "unreadable": (_unreadable, "cannot read"),
    "not utf-8": (_not_utf8, "not UTF-8"),
    "alias bomb": (_alias_bomb, "line 5: aliases"),
    "fifo": (_fifo, "not a regular file"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
async def test_a_broken_file_keeps_the_last_good_config_and_says_so(
    watched, breakage: str, caplog
) -> None:
    path, runtime, watcher = watched
    rewrite(path, TWO)
    await watcher.check()
    good = runtime.config
    breaks, words = BREAKAGES[breakage]
    with caplog.at_level(logging.ERROR, logger="ccf.config"):
        breaks(path)
        await watcher.check()
        await watcher.check()
    assert runtime.config is good
    assert runtime.keys.keys["b"].value == ENV["B_KEY"]  # keys survive
    assert words in runtime.problem
    assert "last good settings" in runtime.problem
    assert runtime.snapshot().problem == runtime.problem
    assert len([r for r in caplog.records if r.name == "ccf.config"]) == 1
    if path.is_dir():
        path.rmdir()
    elif path.is_fifo():
        path.unlink()
    rewrite(path, ONE)
    await watcher.check()
    assert runtime.problem == ""
    assert names(runtime) == ["a"]


async def test_the_same_problem_is_logged_once(watched, caplog) -> None:
    path, runtime, watcher = watched
    with caplog.at_level(logging.ERROR, logger="ccf.config"):
        for _ in range(3):
            _invalid_yaml(path)
            await watcher.check()
    assert len(caplog.records) == 1
    assert runtime.problem


async def test_a_listen_change_without_a_listener_asks_for_a_restart(watched) -> None:
    path, runtime, watcher = watched
    rewrite(path, TWO.replace("port: 0", "port: 8799"))
    await watcher.check()
    assert "restart" in runtime.problem
    assert "127.0.0.1:8799" in runtime.problem
    assert runtime.config.listen.port == 0
    assert names(runtime) == ["a", "b"]  # the rest of the edit is applied


@pytest.fixture
async def served(tmp_path: Path, clock):
    path = tmp_path / "config.yaml"
    path.write_text(ONE)
    store = MemoryKeys({"__admin__": "t" * 32})
    setup = ProxySetup(path, ENV, store, clock, grace=0.5, watch_interval=3600)
    proxy = await start_proxy(setup, load_config(path, ENV))
    yield path, proxy.runtime, proxy.watcher, proxy.server
    await proxy.stop()


async def test_a_listen_change_moves_the_server(served) -> None:
    path, runtime, watcher, server = served
    port = closed_port()
    rewrite(path, ONE.replace("port: 0", f"port: {port}"))
    await watcher.check()
    assert server.port == port
    assert runtime.url.endswith(f":{port}")
    assert runtime.problem == ""


async def test_a_taken_port_keeps_the_old_address(served) -> None:
    path, runtime, watcher, server = served

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        old = server.port
        rewrite(path, TWO.replace("port: 0", f"port: {port}"))
        await watcher.check()
    assert server.port == old
    assert f"cannot listen on 127.0.0.1:{port}" in runtime.problem
    assert names(runtime) == ["a", "b"]


async def test_admin_writes_are_not_problems(served) -> None:
    _, runtime, watcher, server = served

    headers = {"Authorization": "Bearer " + "t" * 32}
    async with (
        aiohttp.ClientSession() as session,
        session.put(
            f"{server.url}/_ccf/api/routing", json={"paused": True}, headers=headers
        ) as response,
    ):
        assert response.status == 200
    before = runtime.config
    await watcher.check()
    assert runtime.problem == ""
    assert runtime.config is before  # the same settings: nothing swapped twice
    assert runtime.config.routing.paused is True


def health(url: str) -> dict:
    with urllib.request.urlopen(url + "/health", timeout=5) as response:
        return json.load(response)


@pytest.mark.slow
def test_ccf_serve_follows_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(ONE)
    env = {**os.environ, **ENV}
    with ccf_serve(path, env=env) as url:
        rewrite(path, "listen: {port: 0}\nendpoints: [{name: c, base_url: 'http://127.0.0.1:9'}]\n")
        wait_for(lambda: [e["name"] for e in health(url)["endpoints"]] == ["c"])
        _invalid_yaml(path)
        problem = wait_for(lambda: health(url)["problem"])
        assert "not valid YAML" in problem
        assert [e["name"] for e in health(url)["endpoints"]] == ["c"]
        rewrite(path, ONE)
        wait_for(lambda: health(url)["problem"] == "")


@pytest.mark.slow
def test_the_tray_service_follows_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(ONE)
    service = ProxyService(path, ENV, MemoryKeys())
    seen: list[str] = []
    service.subscribe(lambda snap: seen.append(snap.problem))
    service.start()
    try:
        _truncate(path)
        wait_for(lambda: service.snapshot().problem)
        assert "is empty" in service.snapshot().problem
        assert any("is empty" in problem for problem in seen)  # the tray was told
        rewrite(path, TWO)
        wait_for(lambda: len(service.snapshot().endpoints) == 2)
        assert service.snapshot().problem == ""
    finally:
        service.stop(grace=0.5)
