"""`ccf doctor` and `ccf stop-using` on real files, sockets and loopback providers."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.conftest import ProxyFactory
from tests.fakes import FakeUpstream, closed_port
from tests.proxy.admin.admin_helpers import MemoryKeys
from tray_app import cli
from tray_app.doctor_cli import check, entry_program, render, run_doctor_command

Home = dict[str, str]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    for name in (
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_MODEL",
    ):
        monkeypatch.delenv(name, raising=False)
    return {
        "CCF_CONFIG": str(tmp_path / "ccf" / "config.yaml"),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "HOME": str(tmp_path),
    }


def write_config(home: Home, text: str) -> None:
    path = Path(home["CCF_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def write_settings(home: Home, data: object, backup: object | None = None) -> Path:
    folder = Path(home["CLAUDE_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "settings.json"
    path.write_text(json.dumps(data))
    if backup is not None:
        (folder / "settings.json.ccf-backup").write_text(json.dumps(backup))
    return path


def doctor(home: Home, *flags: str, keys: MemoryKeys | None = None) -> tuple[int, str]:
    args = cli.build_parser().parse_args(["doctor", *flags])
    out = io.StringIO()
    code = run_doctor_command(args, home, keys or MemoryKeys(), out)
    return code, out.getvalue()


async def findings_text(home: Home, keys: MemoryKeys, network: bool = True) -> str:
    args = argparse.Namespace(config=None, no_network=not network)
    return render(await check(args, home, keys))


def test_a_fresh_home(home: Home) -> None:
    code, text = doctor(home, "--no-network")
    assert code == 0, text
    assert f"[info] config: No config file at {home['CCF_CONFIG']} yet" in text
    assert "[warn] claude-settings:" in text
    assert "does not set ANTHROPIC_BASE_URL" in text
    assert "[  ok] keyring: The OS keyring is usable." in text
    assert "[info] port: Port 127.0.0.1:8765 is free" in text or "port:" in text


def test_a_broken_config_fails_with_its_line(home: Home) -> None:
    write_config(home, "endpoints:\n  - name: a\n    base_url: ftp://nope\n")
    code, text = doctor(home, "--no-network")
    assert code == 1
    assert "[FAIL] config: The config file cannot be used:" in text
    assert "ftp://nope" in text


def test_a_base_url_where_nothing_listens(home: Home) -> None:
    port = closed_port()
    write_config(home, f"listen: {{port: {port}}}\n")
    write_settings(home, {"env": {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}"}})
    code, text = doctor(home, "--no-network")
    assert code == 1
    assert f"is http://127.0.0.1:{port}, where nothing listens" in text
    assert "(or run `ccf stop-using`)" in text


def test_conflicting_variables_in_the_shell(home: Home) -> None:
    env = {
        **home,
        "ANTHROPIC_API_KEY": "sk-a",
        "ANTHROPIC_AUTH_TOKEN": "tok",
        "ANTHROPIC_BASE_URL": "https://old.example",
    }
    _, text = doctor(env, "--no-network")
    assert "[warn] conflict: Both ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN are set" in text
    assert (
        "[warn] shell: Your shell's environment has an old ANTHROPIC_BASE_URL=https://old.example."
        in text
    )


def test_json_output(home: Home) -> None:
    _, text = doctor(home, "--no-network", "--json")
    data = json.loads(text)
    assert data["worst"] == "warn"
    assert {f["check"] for f in data["findings"]} >= {
        "config",
        "claude-settings",
        "keyring",
        "port",
    }


def test_no_keyring(home: Home) -> None:
    write_config(home, "endpoints:\n  - {name: a, base_url: 'http://127.0.0.1:9', auth: bearer}\n")
    code, text = doctor(home, "--no-network", keys=MemoryKeys(broken=True))
    assert code == 1
    assert "[FAIL] keyring: a need it: No usable OS keyring" in text


async def test_a_correct_set_up(
    home: Home, make_proxy: ProxyFactory, upstreams: Callable[[str], Awaitable[FakeUpstream]]
) -> None:
    provider = await upstreams("provider")
    yaml = (
        "endpoints:\n"
        f"  - {{name: provider, base_url: '{provider.url}', auth: x-api-key,"
        " models: {'*': provider-model}}\n"
    )
    proxy = await make_proxy(yaml, keys={"provider": "sk-provider"})
    write_config(home, yaml + f"listen: {{port: {proxy.server.url.rsplit(':', 1)[1]}}}\n")
    write_settings(home, {"env": {"ANTHROPIC_BASE_URL": proxy.url}}, backup={})
    text = await findings_text(home, MemoryKeys({"provider": "sk-provider"}))
    assert "[warn]" not in text, text
    assert "[FAIL]" not in text, text
    assert f"settings.json points at this proxy ({proxy.url})" in text
    assert "[  ok] endpoint: provider is reachable and answered 200 in" in text
    assert "[  ok] port: Claude Code Fallback is listening on" in text
    assert "[  ok] backup:" in text
    assert provider.received[-1].json["model"] == "provider-model"
    assert provider.received[-1].headers["x-api-key"] == "sk-provider"


@pytest.mark.parametrize(
    ("status", "words"),
    [(401, "provider: key refused (HTTP 401"), (404, "provider: model provider-model not found")],
)
async def test_endpoint_answers(
    home: Home, upstreams: Callable[[str], Awaitable[FakeUpstream]], status: int, words: str
) -> None:
    provider = await upstreams("provider")
    provider.status(status)
    write_config(
        home,
        f"endpoints:\n  - {{name: provider, base_url: '{provider.url}', auth: bearer,"
        " models: {'*': provider-model}}\n",
    )
    text = await findings_text(home, MemoryKeys({"provider": "sk-provider"}))
    assert f"[FAIL] endpoint: {words}" in text, text
    assert f"provider says {status}" in text


async def test_an_endpoint_without_its_key(
    home: Home, upstreams: Callable[[str], Awaitable[FakeUpstream]]
) -> None:
    provider = await upstreams("provider")
    write_config(
        home, f"endpoints:\n  - {{name: provider, base_url: '{provider.url}', auth: bearer}}\n"
    )
    text = await findings_text(home, MemoryKeys())
    assert "[FAIL] endpoint: provider: no key stored for provider" in text
    assert provider.received == []


async def test_the_port_taken_by_another_program(
    home: Home, upstreams: Callable[[str], Awaitable[FakeUpstream]]
) -> None:
    other = await upstreams("some-web-server")  # answers HTTP, but not as this proxy does
    write_config(home, f"listen: {{port: {other.port}}}\n")
    text = await findings_text(home, MemoryKeys(), network=False)
    assert f"[FAIL] port: Port {other.port} on 127.0.0.1 is in use by another program." in text


def test_stop_using_restores_from_the_backup(home: Home) -> None:
    path = write_settings(
        home,
        {"model": "opus", "env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:8765", "KEEP": "1"}},
        backup={"env": {"ANTHROPIC_BASE_URL": "https://old.example"}},
    )
    out = io.StringIO()
    args = cli.build_parser().parse_args(["stop-using"])
    assert run_doctor_command(args, home, MemoryKeys(), out) == 0
    assert json.loads(path.read_text()) == {
        "model": "opus",
        "env": {"ANTHROPIC_BASE_URL": "https://old.example", "KEEP": "1"},
    }
    assert "ANTHROPIC_BASE_URL restored from the backup" in out.getvalue()
    assert (path.parent / "settings.json.ccf-before-restore").exists()


def test_stop_using_a_broken_settings_file_changes_nothing(
    home: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = Path(home["CLAUDE_CONFIG_DIR"])
    folder.mkdir(parents=True)
    (folder / "settings.json").write_text("{broken")
    args = cli.build_parser().parse_args(["stop-using"])
    assert run_doctor_command(args, home, MemoryKeys(), io.StringIO()) == 1
    assert "settings.json is not valid settings JSON" in capsys.readouterr().err
    assert (folder / "settings.json").read_text() == "{broken"


def test_autostart_entry_program(tmp_path: Path) -> None:
    entry = tmp_path / "ccf.desktop"
    entry.write_text('[Desktop Entry]\nExec="/opt/my apps/ccf" --flag\n')
    assert entry_program(entry) == "/opt/my apps/ccf"
