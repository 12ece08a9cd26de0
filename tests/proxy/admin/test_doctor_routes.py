"""The "Check set-up" page's API: the doctor's findings, and Stop using the proxy."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
async def proxy(upstreams, admin_proxy):
    a = await upstreams("a")
    return await admin_proxy(
        f"endpoints: [{{name: a, base_url: '{a.url}', auth: bearer}}]", keys={"a": "sk-a"}
    )


def findings(data):
    return {f["check"]: f for f in data["findings"]}


async def test_the_page_runs_the_same_checks(proxy) -> None:
    data = findings(await proxy.json("GET", "doctor"))
    assert data["port"]["level"] == "ok"
    assert data["endpoint:a"]["level"] == "ok"
    assert "answered 200" in data["endpoint:a"]["finding"]
    assert data["claude-settings"]["action"] == "write-settings"


async def test_without_network_no_endpoint_is_asked(proxy, upstreams) -> None:
    data = findings(await proxy.json("GET", "doctor?network=0"))
    assert "endpoint:a" not in data


async def test_write_then_stop_using_gives_the_old_values_back(proxy) -> None:
    path = proxy.admin.claude_dir / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://old.example", "X": "1"}}))
    await proxy.json("POST", "claude-code/settings", {"confirm": True})
    data = findings(await proxy.json("GET", "doctor?network=0"))
    assert data["claude-settings"]["level"] == "ok"
    assert data["backup"]["level"] == "ok"
    await proxy.json("POST", "claude-code/restore", {}, status=400)  # not confirmed
    answer = await proxy.json("POST", "claude-code/restore", {"confirm": True})
    assert answer["changed"] == ["ANTHROPIC_BASE_URL"]
    assert json.loads(path.read_text()) == {
        "env": {"ANTHROPIC_BASE_URL": "https://old.example", "X": "1"}
    }


async def test_stop_using_a_broken_file_is_refused(proxy) -> None:
    path = proxy.admin.claude_dir / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text("{nope")
    answer = await proxy.json("POST", "claude-code/restore", {"confirm": True}, status=409)
    assert "is not valid settings JSON" in answer["error"]["message"]
    assert path.read_text() == "{nope"
