"""Transactional settings changes over the admin API: file, running config and keys together."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest
import yaml

from proxy.ledger import writer
from proxy.ledger.install import LEDGER
from tests.proxy.admin.admin_helpers import REQUEST

TWO = (
    "# my providers, kept at the top\n"
    "endpoints:\n"
    "  - {name: a, base_url: '%s'}\n"
    "  - {name: b, base_url: '${B_URL}', auth: bearer}\n"
)


@pytest.fixture
async def setup(upstreams, admin_proxy):
    a, b, c = await upstreams("a"), await upstreams("b"), await upstreams("c")
    proxy = await admin_proxy(TWO % a.url, keys={"b": "sk-b-secret-0001"}, env={"B_URL": b.url})
    return a, b, c, proxy


def on_disk(proxy) -> dict:
    return yaml.safe_load(proxy.path.read_text())


def names(proxy) -> list[str]:
    return [e.name for e in proxy.runtime.config.endpoints]


async def test_add_endpoint_with_key_persists_applies_and_takes_failover(setup) -> None:
    a, _, c, proxy = setup
    body = {
        "name": "c",
        "base_url": c.url,
        "auth": "x-api-key",
        "key": "keyring",
        "models": {"claude-sonnet-*": "c-large"},
        "secret": "sk-c-new-key-7890",
    }
    data = await proxy.json("POST", "endpoints", body)
    assert data["keys"]["c"] == {
        "needed": True,
        "source": "keyring",
        "set": True,
        "last4": "7890",
        "problem": "",
    }
    assert proxy.keys.values["c"] == "sk-c-new-key-7890"
    text = proxy.path.read_text()
    assert "sk-c-new-key" not in text
    assert text.startswith("# my providers, kept at the top\n")
    assert "${B_URL}" in text  # the reference stays as written
    assert on_disk(proxy)["endpoints"][2] == {
        "name": "c",
        "base_url": c.url,
        "auth": "x-api-key",
        "key": "keyring",
        "models": {"claude-sonnet-*": "c-large"},
    }
    assert names(proxy) == ["a", "b", "c"]
    await proxy.json("PUT", "order", {"names": ["a", "c", "b"]})
    a.status(529)
    async with await proxy.messages(REQUEST) as response:
        assert response.status == 200
        assert response.headers["x-ccf-endpoint"] == "c"
    assert c.received[-1].headers["x-api-key"] == "sk-c-new-key-7890"
    assert c.received[-1].json["model"] == "c-large"


async def test_a_bad_update_changes_nothing(setup) -> None:
    _, _, c, proxy = setup
    before_text = proxy.path.read_text()
    before_config = proxy.runtime.config
    before_keys = dict(proxy.keys.values)
    body = {"name": "c", "base_url": "ftp://nope", "auth": "bearer", "secret": "sk-never-stored"}
    data = await proxy.json("POST", "endpoints", body, status=400)
    assert data["error"]["field"] == "endpoints[2].base_url"
    assert "http://" in data["error"]["message"]
    edit = {"name": "a", "base_url": c.url, "models": {"x": ""}}
    data = await proxy.json("PUT", "endpoints/a", edit, status=400)
    assert data["error"]["field"].startswith("endpoints[0].models")
    data = await proxy.json("PUT", "general", {"timeouts": {"connect": -1}}, status=400)
    assert data["error"]["field"] == "timeouts.connect"
    data = await proxy.json("PUT", "order", {"names": ["a"]}, status=400)
    assert data["error"]["field"] == "order"
    data = await proxy.json("PUT", "endpoints/a/enabled", {"enabled": "yes"}, status=400)
    assert data["error"]["field"] == "endpoints[0].enabled"
    data = await proxy.json("POST", "endpoints", {"name": "a", "base_url": c.url}, status=400)
    assert data["error"]["field"] == "endpoints[2].name"
    assert proxy.path.read_text() == before_text
    assert proxy.runtime.config is before_config
    assert proxy.keys.values == before_keys


async def test_keyring_failure_leaves_file_and_config_alone(setup) -> None:
    _, _, c, proxy = setup
    before_text = proxy.path.read_text()
    await proxy.json("GET", "config")  # the admin token is read once, then kept
    proxy.keys.broken = True
    body = {"name": "c", "base_url": c.url, "auth": "bearer", "secret": "sk-c-1234567"}
    data = await proxy.json("POST", "endpoints", body, status=503)
    assert data["error"]["field"] == "secret"
    assert "env:VAR_NAME" in data["error"]["message"]
    data = await proxy.json("PUT", "keys/b", {"key": "sk-other-99999"}, status=503)
    assert "env:VAR_NAME" in data["error"]["message"]
    assert proxy.path.read_text() == before_text
    assert names(proxy) == ["a", "b"]


async def test_keys_are_write_only(setup) -> None:
    _, _, _, proxy = setup
    await proxy.json("PUT", "keys/b", {"key": "sk-brand-new-key-4242"})
    assert proxy.keys.values["b"] == "sk-brand-new-key-4242"
    seen = []
    for path in ("config", "endpoints", "activity", "claude-code"):
        seen.append(json.dumps(await proxy.json("GET", path)))
    assert not any("sk-brand-new" in text or "sk-b-secret" in text for text in seen)
    assert (await proxy.json("GET", "config"))["keys"]["b"]["last4"] == "4242"
    rows = (await proxy.json("GET", "endpoints"))["endpoints"]
    assert rows[1]["key"]["set"] is True
    assert proxy.runtime.keys.keys["b"].value == "sk-brand-new-key-4242"  # used at once
    await proxy.json("DELETE", "keys/b")
    assert "b" not in proxy.keys.values
    assert (await proxy.json("GET", "config"))["keys"]["b"]["set"] is False
    data = await proxy.json("PUT", "keys/a", {"key": "sk-nope-12345"}, status=400)
    assert "auth: client" in data["error"]["message"]


async def test_renaming_moves_the_key_and_the_pin(setup) -> None:
    _, b, _, proxy = setup
    await proxy.json("PUT", "routing", {"pinned": "b"})
    view = (await proxy.json("GET", "config"))["config"]["endpoints"][1]
    assert view["base_url"] == "${B_URL}"
    await proxy.json("PUT", "endpoints/b", {**view, "name": "backup"})
    assert proxy.keys.values.get("backup") == "sk-b-secret-0001"
    assert "b" not in proxy.keys.values
    disk = on_disk(proxy)
    assert disk["routing"]["pinned"] == "backup"
    assert disk["endpoints"][1]["base_url"] == "${B_URL}"
    assert proxy.runtime.config.routing.pinned == "backup"
    async with await proxy.messages(REQUEST) as response:
        assert response.headers["x-ccf-endpoint"] == "backup"
    assert b.received[-1].headers["authorization"] == "Bearer sk-b-secret-0001"


async def test_delete_removes_the_endpoint_its_key_and_its_pin(setup) -> None:
    _, _, _, proxy = setup
    await proxy.json("PUT", "routing", {"pinned": "b"})
    await proxy.json("DELETE", "endpoints/b")
    assert names(proxy) == ["a"]
    assert "b" not in proxy.keys.values
    assert on_disk(proxy)["routing"]["pinned"] is None
    data = await proxy.json("DELETE", "endpoints/a", status=400)
    assert "last endpoint" in data["error"]["message"]


async def test_enable_disable_routing_and_general_apply_at_once(setup) -> None:
    a, _, _, proxy = setup
    await proxy.json("PUT", "endpoints/a/enabled", {"enabled": False})
    assert on_disk(proxy)["endpoints"][0]["enabled"] is False
    async with await proxy.messages(REQUEST) as response:
        assert response.headers["x-ccf-endpoint"] == "b"
    await proxy.json("PUT", "endpoints/a/enabled", {"enabled": True})
    assert "enabled" not in on_disk(proxy)["endpoints"][0]  # the default is not spelled out
    await proxy.json("PUT", "routing", {"paused": True})
    assert proxy.runtime.config.routing.paused is True
    general = {
        "failover": {"on_status": [429, "5xx"], "cooldown_seconds": 5, "max_cooldown_seconds": 60},
        "timeouts": {"connect": 3, "first_byte": 30, "idle": 60},
        "security": {"access_token": None},
    }
    await proxy.json("PUT", "general", general)
    assert proxy.runtime.config.failover.on_status == (429, "5xx")
    assert proxy.runtime.config.timeouts.connect == 3
    assert on_disk(proxy)["failover"]["cooldown_seconds"] == 5
    data = await proxy.json("PUT", "general", {"routing": {}}, status=400)
    assert data["error"]["field"] == "routing"
    assert a.received == []


async def test_an_endpoint_pointing_at_the_proxy_itself_is_refused(setup) -> None:
    _, _, _, proxy = setup
    body = {"name": "loop", "base_url": f"http://localhost:{proxy.server.port}"}
    data = await proxy.json("POST", "endpoints", body, status=400)
    assert data["error"]["field"] == "endpoints[2].base_url"
    assert "circle" in data["error"]["message"]


async def test_config_view_shows_the_file_with_env_references(setup) -> None:
    _, _, _, proxy = setup
    data = await proxy.json("GET", "config")
    assert data["file"] == str(proxy.path)
    assert data["config"]["endpoints"][1]["base_url"] == "${B_URL}"
    assert data["config"]["listen"] == {"host": "127.0.0.1", "port": 0}
    assert data["url"] == proxy.url
    assert data["problem"] == ""


COMMENTED_USAGE = (
    "# my providers, kept at the top\n"
    "endpoints:\n"
    "  - {name: a, base_url: '%s'}\n"
    "usage:\n"
    "  retention_days: 90  # a quarter of history\n"
    "# the end of my file\n"
)
DAY_MS = 86_400_000


def rows_older_than(path: Path, days: int) -> int:
    cutoff = int(time.time() * 1000) - days * DAY_MS
    with closing(sqlite3.connect(path)) as conn:
        return int(
            conn.execute("SELECT COUNT(*) FROM requests WHERE ts < ?", (cutoff,)).fetchone()[0]
        )


async def eventually(check, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def test_retention_saved_from_general_keeps_comments_and_reaches_the_ledger(
    upstreams, admin_proxy, monkeypatch
) -> None:
    a = await upstreams("a")
    proxy = await admin_proxy(COMMENTED_USAGE % a.url)
    monkeypatch.setattr(writer, "PRUNE_EVERY", 0.0)  # the writer prunes at every batch here
    ledger = proxy.server.runner.app[LEDGER]
    headers = [("x-claude-code-session-id", "retention-test")]
    old = (time.time() - 10 * 86400, headers, "m", None, "a", 200, ["a=200"], 1.0, 1.0, b"", "a")
    ledger.record(old)
    await eventually(lambda: ledger.path.exists() and rows_older_than(ledger.path, 9) == 1)
    await asyncio.sleep(1.0)  # two more batches and prunes at 90 days: the row stays
    assert rows_older_than(ledger.path, 9) == 1

    await proxy.json("PUT", "general", {"usage": {"retention_days": 7}})
    text = proxy.path.read_text()
    assert on_disk(proxy)["usage"] == {"retention_days": 7}
    for comment in ("# my providers, kept at the top", "# a quarter of history", "# the end"):
        assert comment in text, text
    assert list(on_disk(proxy)) == ["endpoints", "usage", "listen"]  # the file's key order
    assert proxy.runtime.config.usage.retention_days == 7
    await eventually(lambda: rows_older_than(ledger.path, 9) == 0)  # the next prune used 7

    data = await proxy.json("PUT", "general", {"usage": {"retention_days": 3651}}, status=400)
    assert data["error"]["field"] == "usage.retention_days"
    assert "1 to 3650" in data["error"]["message"]
    assert on_disk(proxy)["usage"] == {"retention_days": 7}
