"""`ccf import`: the list first, then the picked providers, keys to the keyring only."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from proxy.config_file import load_config
from tests.proxy.admin.admin_helpers import MemoryKeys
from tray_app import cli
from tray_app.import_cli import run_config_transfer, run_import_command

SAMPLES = Path(__file__).parents[1] / "proxy" / "imports" / "samples"
CCR = str(SAMPLES / "claude-code-router-config.json")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CCF_CONFIG": str(tmp_path / "config.yaml"),
        "HOME": str(tmp_path),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
    }


def run(env: dict[str, str], *argv: str, keys: MemoryKeys | None = None) -> tuple[int, str]:
    out = io.StringIO()
    args = cli.build_parser().parse_args(["import", *argv])
    return run_import_command(args, env, keys or MemoryKeys(), out), out.getvalue()


def test_listing_comes_first_and_changes_nothing(env: dict[str, str]) -> None:
    code, text = run(env, CCR)
    assert code == 0
    assert "holds 4 provider(s)" in text
    assert (
        "openrouter: https://openrouter.ai/api/v1 (openai, bearer, key …0005; * -> anthropic/claude-sonnet-4)"
        in text
    )
    assert (
        "deepseek: https://api.deepseek.com (openai, bearer, key env:DEEPSEEK_API_KEY; * -> deepseek-chat)"
        in text
    )
    assert "gemini: not importable (Gemini's own API is not supported)" in text
    assert f"Import with: ccf import {CCR} --pick openrouter deepseek ollama" in text
    assert "sk-or-v1-sample-0005" not in text
    assert not Path(env["CCF_CONFIG"]).exists()


def test_picked_providers_are_added_and_keys_go_to_the_keyring(env: dict[str, str]) -> None:
    keys = MemoryKeys()
    code, text = run(env, CCR, "--pick", "openrouter", "deepseek", keys=keys)
    assert code == 0, text
    assert "Imported openrouter, deepseek into" in text
    config = load_config(Path(env["CCF_CONFIG"]), {})
    assert [e.name for e in config.endpoints] == ["anthropic", "openrouter", "deepseek"]
    assert config.endpoint("openrouter").format == "openai"  # type: ignore[union-attr]
    assert keys.values == {"openrouter": "sk-or-v1-sample-0005"}
    file_text = Path(env["CCF_CONFIG"]).read_text()
    assert "sk-or" not in file_text
    assert "env:DEEPSEEK_API_KEY" in file_text


def test_a_name_already_in_use_gets_a_suffix(env: dict[str, str]) -> None:
    Path(env["CCF_CONFIG"]).write_text(
        "# mine\nendpoints:\n  - {name: deepseek, base_url: 'https://old.example'}\n"
    )
    code, _ = run(env, CCR, "--pick", "deepseek")
    assert code == 0
    text = Path(env["CCF_CONFIG"]).read_text()
    assert text.startswith("# mine\n")
    names = [e["name"] for e in yaml.safe_load(text)["endpoints"]]
    assert names == ["deepseek", "deepseek-2"]


def test_all_from_cc_switch(env: dict[str, str]) -> None:
    keys = MemoryKeys()
    code, _ = run(env, str(SAMPLES / "cc-switch-v2-config.json"), "--all", keys=keys)
    assert code == 0
    config = load_config(Path(env["CCF_CONFIG"]), {})
    assert [e.name for e in config.endpoints] == ["anthropic", "Zhipu-GLM", "DeepSeek"]
    assert set(keys.values) == {"Zhipu-GLM", "DeepSeek"}


def test_a_malformed_file_imports_nothing(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    keys = MemoryKeys()
    broken = SAMPLES / "broken-ccr-no-url.json"
    code, _ = run(env, str(broken), "--all", keys=keys)
    assert code == 1
    assert f"ccf: {broken}: Providers[1] (broken) has no api_base_url" in capsys.readouterr().err
    assert not Path(env["CCF_CONFIG"]).exists()
    assert keys.values == {}


def test_no_keyring_imports_nothing(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(env, CCR, "--pick", "openrouter", keys=MemoryKeys(broken=True))
    assert code == 1
    assert "No usable OS keyring" in capsys.readouterr().err
    assert not Path(env["CCF_CONFIG"]).exists()


def test_an_unknown_pick_is_named(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(env, CCR, "--pick", "nope")
    assert code == 1
    assert (
        "no importable provider named nope; choose from openrouter, deepseek, ollama"
        in capsys.readouterr().err
    )


def test_known_places_are_listed(env: dict[str, str]) -> None:
    folder = Path(env["HOME"]) / ".cc-switch"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    code, text = run(env)
    assert code == 0
    assert f"cc-switch (before its database): ccf import {folder / 'config.json'}" in text


def test_config_export_then_import_on_a_second_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = {"CCF_CONFIG": str(tmp_path / "one.yaml")}
    Path(first["CCF_CONFIG"]).write_text(
        "endpoints:\n  - {name: or, base_url: 'https://openrouter.ai/api', auth: bearer}\n"
        f"security: {{access_token: {'s' * 20}}}\n"
    )
    exported = tmp_path / "export.yaml"
    args = cli.build_parser().parse_args(["config", "export", str(exported)])
    assert run_config_transfer(args, first, io.StringIO()) == 0
    text = exported.read_text()
    assert "s" * 20 not in text
    second = {"CCF_CONFIG": str(tmp_path / "two.yaml")}
    Path(second["CCF_CONFIG"]).write_text(
        "endpoints:\n  - {name: old, base_url: 'https://x.example'}\n"
    )
    out = io.StringIO()
    args = cli.build_parser().parse_args(["config", "import", str(exported)])
    assert run_config_transfer(args, second, out) == 0
    assert "or needs its key on this machine: ccf key set or" in out.getvalue()
    assert [e.name for e in load_config(Path(second["CCF_CONFIG"]), {}).endpoints] == ["or"]
    assert (
        (tmp_path / "two.yaml.before-import").read_text().startswith("endpoints:\n  - {name: old")
    )


def test_config_import_of_a_broken_file_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"CCF_CONFIG": str(tmp_path / "c.yaml")}
    Path(env["CCF_CONFIG"]).write_text(
        "endpoints:\n  - {name: keep, base_url: 'https://x.example'}\n"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("endpoints:\n  - {name: x, base_url: 'ftp://nope'}\n")
    args = cli.build_parser().parse_args(["config", "import", str(broken)])
    assert run_config_transfer(args, env, io.StringIO()) == 1
    assert f"{broken}: endpoints[0].base_url" in capsys.readouterr().err
    assert "keep" in Path(env["CCF_CONFIG"]).read_text()
