"""Claude Code setup: snippets, and the confirmed merge into settings.json."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from proxy.core.claude_settings import merged_settings, points_at


@pytest.fixture
async def proxy(upstreams, admin_proxy):
    a = await upstreams("a")
    return await admin_proxy(f"endpoints: [{{name: a, base_url: '{a.url}'}}]")


def settings_file(proxy):
    return proxy.admin.claude_dir / "settings.json"


async def test_snippets_for_every_shell(proxy) -> None:
    data = await proxy.json("GET", "claude-code")
    shells = {s["shell"]: s["text"] for s in data["snippets"]}
    assert shells["posix"] == f"export ANTHROPIC_BASE_URL={proxy.url}\n"
    assert shells["fish"] == f"set -gx ANTHROPIC_BASE_URL '{proxy.url}'\n"
    assert shells["powershell"] == f"$env:ANTHROPIC_BASE_URL = '{proxy.url}'\n"
    assert shells["cmd"] == f'set "ANTHROPIC_BASE_URL={proxy.url}"\n'
    assert json.loads(shells["settings_json"]) == {"env": {"ANTHROPIC_BASE_URL": proxy.url}}
    assert data["current"] == {}


async def test_write_merges_env_keeps_the_rest_and_a_backup(proxy) -> None:
    path = settings_file(proxy)
    path.parent.mkdir(parents=True)
    original = {"model": "opus", "env": {"KEEP": "1", "ANTHROPIC_BASE_URL": "http://old"}}
    path.write_text(json.dumps(original))
    await proxy.json("POST", "claude-code/settings", {}, status=400)  # not confirmed
    assert json.loads(path.read_text()) == original
    written = await proxy.json("POST", "claude-code/settings", {"confirm": True})
    assert written["path"] == str(path)
    assert json.loads(path.read_text()) == {
        "model": "opus",
        "env": {"KEEP": "1", "ANTHROPIC_BASE_URL": proxy.url},
    }
    assert json.loads(Path(written["backup"]).read_text()) == original
    assert path.stat().st_mode & 0o777 == 0o600
    assert (await proxy.json("GET", "claude-code"))["current"] == {"ANTHROPIC_BASE_URL": proxy.url}


async def test_write_creates_the_file_when_there_is_none(proxy) -> None:
    written = await proxy.json("POST", "claude-code/settings", {"confirm": True})
    assert written["backup"] is None
    assert json.loads(settings_file(proxy).read_text()) == {
        "env": {"ANTHROPIC_BASE_URL": proxy.url}
    }


async def test_write_refuses_a_broken_settings_file(proxy) -> None:
    path = settings_file(proxy)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    data = await proxy.json("POST", "claude-code/settings", {"confirm": True}, status=409)
    assert "not valid settings JSON" in data["error"]["message"]
    assert path.read_text() == "{not json"


async def test_write_refuses_while_an_endpoint_points_at_the_proxy_itself(admin_proxy) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proxy = await admin_proxy(
        f"listen: {{port: {port}}}\nendpoints: [{{name: self, base_url: 'http://localhost:{port}'}}]"
    )
    data = await proxy.json("POST", "claude-code/settings", {"confirm": True}, status=409)
    assert "self points at this proxy itself" in data["error"]["message"]
    assert not settings_file(proxy).exists()


def test_merge_drops_a_stale_token_header_only() -> None:
    settings = {"env": {"ANTHROPIC_CUSTOM_HEADERS": "x-ccf-token: old"}}
    assert merged_settings(settings, {"ANTHROPIC_BASE_URL": "u"})["env"] == {
        "ANTHROPIC_BASE_URL": "u"
    }
    theirs = {"env": {"ANTHROPIC_CUSTOM_HEADERS": "x-team: 1"}}
    assert (
        merged_settings(theirs, {"ANTHROPIC_BASE_URL": "u"})["env"]["ANTHROPIC_CUSTOM_HEADERS"]
        == "x-team: 1"
    )
    with pytest.raises(ValueError, match="env"):
        merged_settings({"env": []}, {})


@pytest.mark.parametrize(
    ("url", "port", "expected"),
    [
        ("http://127.0.0.1:8765", 8765, True),
        ("http://localhost:8765/v1", 8765, True),
        ("http://[::1]:8765", 8765, True),
        ("http://127.0.0.1:8766", 8765, False),
        ("https://api.anthropic.com", 443, False),
        ("http://localhost", 80, True),
    ],
)
def test_points_at(url: str, port: int, expected: bool) -> None:
    assert points_at(url, port) is expected
