"""Every writer goes through one transaction: none loses another's change, comments survive."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from proxy.config_changes import ConfigChanges
from proxy.config_file import load_config
from proxy.core import config_edit
from proxy.core.errors import ConfigError, InvalidChangeError
from proxy.keys import resolve_keys
from proxy.runtime import Runtime
from proxy.service import ProxyService
from tests.proxy.admin.admin_helpers import TOKEN, MemoryKeys

ROUNDS = 40
COMMENTED = """\
# My providers. Keep this note.
listen: {port: 0}   # any free port
endpoints:
  # the primary
  - name: a   # Anthropic itself
    base_url: 'http://127.0.0.1:9'
  - {name: b, base_url: 'http://127.0.0.1:10'}  # the backup
timeouts:
  connect: 10   # seconds
  first_byte: 90
  idle: 180
routing:
  pinned: null  # the tray changes this
  paused: false
"""
COMMENTS = [
    "# My providers. Keep this note.",
    "# any free port",
    "# the primary",
    "# Anthropic itself",
    "# the backup",
    "# seconds",
    "# the tray changes this",
]


def assert_comments_kept(text: str) -> None:
    missing = [comment for comment in COMMENTS if comment not in text]
    assert not missing, text


def settings_save(url: str, idle: int) -> None:
    """What the settings page sends when General is saved."""
    body = {"timeouts": {"connect": 10, "first_byte": 90, "idle": idle}}
    request = urllib.request.Request(
        f"{url}/_ccf/api/general",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def in_file(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def run_all(*workers: Callable[[], None]) -> None:
    failures: list[BaseException] = []

    def guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if failures:
        raise failures[0]


@pytest.mark.slow
def test_tray_pin_and_settings_save_race_and_neither_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(COMMENTED)
    service = ProxyService(path, {}, MemoryKeys({"__admin__": TOKEN}))
    service.start()
    assert service.snapshot().overall == "ok"

    def tray() -> None:
        for i in range(ROUNDS):
            name = "ab"[i % 2]
            service.pin(name)
            assert in_file(path)["routing"]["pinned"] == name  # the settings save kept it

    def settings_page() -> None:
        for i in range(ROUNDS):
            settings_save(service.url, 200 + i)
            assert in_file(path)["timeouts"]["idle"] == 200 + i  # the tray's pin kept it

    try:
        run_all(tray, settings_page)
        config = service.config
        assert config is not None
        assert config.routing.pinned == "b"
        assert config.timeouts.idle == 200 + ROUNDS - 1
        assert in_file(path)["routing"] == {"pinned": "b", "paused": False}
        assert in_file(path)["timeouts"]["idle"] == 200 + ROUNDS - 1
        assert_comments_kept(path.read_text())
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        service.stop(grace=0.5)


@pytest.fixture
def changes(tmp_path: Path, clock) -> ConfigChanges:
    path = tmp_path / "config.yaml"
    path.write_text(COMMENTED)
    store = MemoryKeys()
    config = load_config(path, {})
    runtime = Runtime(config, resolve_keys(config, store, {}), clock)
    return ConfigChanges(path, {}, store, runtime, listener=None)


async def test_an_edit_keeps_comments_order_and_quotes(changes: ConfigChanges) -> None:
    await changes.edit(lambda raw: config_edit.reorder_endpoints(raw, ["b", "a"]))
    await changes.edit(lambda raw: config_edit.set_routing(raw, {"paused": True}))
    text = changes.path.read_text()
    assert_comments_kept(text)
    assert text.index("- {name: b,") < text.index("- name: a   # Anthropic itself")
    assert "base_url: 'http://127.0.0.1:9'" in text
    assert [line.split(":")[0] for line in text.splitlines() if line[:1].isalpha()] == [
        "listen",
        "endpoints",
        "timeouts",
        "routing",
    ]
    assert changes.runtime.config.routing.paused is True
    assert [e.name for e in changes.runtime.config.endpoints] == ["b", "a"]


async def test_a_renamed_endpoint_keeps_its_comments(changes: ConfigChanges) -> None:
    fields = {"name": "anthropic", "base_url": "http://127.0.0.1:9"}
    await changes.edit(lambda raw: config_edit.replace_endpoint(raw, "a", fields))
    text = changes.path.read_text()
    assert re.search(r"- name: anthropic +# Anthropic itself", text), text
    assert_comments_kept(text)


async def test_an_invalid_edit_changes_nothing(changes: ConfigChanges) -> None:
    before = changes.path.read_text()
    running = changes.runtime.config
    with pytest.raises(InvalidChangeError) as refused:
        await changes.edit(lambda raw: config_edit.set_routing(raw, {"paused": "maybe"}))
    assert refused.value.path == "routing.paused"
    assert changes.path.read_text() == before
    assert changes.runtime.config is running


async def test_a_broken_file_is_not_overwritten(changes: ConfigChanges) -> None:
    changes.path.write_text("endpoints: [\n")
    with pytest.raises(ConfigError):
        await changes.edit(lambda raw: config_edit.set_routing(raw, {"paused": True}))
    assert changes.path.read_text() == "endpoints: [\n"


async def test_a_missing_file_is_written_with_the_header(changes: ConfigChanges) -> None:
    os.unlink(changes.path)
    await changes.edit(lambda raw: config_edit.set_routing(raw, {"pinned": "anthropic"}))
    text = changes.path.read_text()
    assert text.startswith("# Claude Code Fallback configuration.")
    assert in_file(changes.path) == {"routing": {"pinned": "anthropic"}}


async def test_an_edit_the_document_cannot_carry_is_written_plainly(changes: ConfigChanges) -> None:
    changes.path.write_text(
        "# shared headers\n"
        "endpoints:\n"
        "  - {name: a, base_url: 'http://127.0.0.1:9', headers: &shared {x-team: red}}\n"
        "  - {name: b, base_url: 'http://127.0.0.1:10', headers: *shared}\n"
    )
    fields = {"name": "a", "base_url": "http://127.0.0.1:9", "headers": {"x-team": "blue"}}
    config = await changes.edit(lambda raw: config_edit.replace_endpoint(raw, "a", fields))
    assert [dict(e.headers) for e in config.endpoints] == [{"x-team": "blue"}, {"x-team": "red"}]
    assert load_config(changes.path, {}) == config
    assert changes.path.read_text().startswith("# shared headers\n")
