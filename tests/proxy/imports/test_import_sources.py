"""Reading other tools' provider stores, from sample files written in their formats."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from proxy.core.imports import Candidate
from proxy.imports.sources import ImportSourceError, known_sources, read_candidates

SAMPLES = Path(__file__).parent / "samples"


def by_name(candidates: list[Candidate]) -> dict[str, Candidate]:
    return {c.name: c for c in candidates}


def cc_switch_db(folder: Path) -> Path:
    path = folder / "cc-switch.db"
    with sqlite3.connect(path) as db:
        db.executescript((SAMPLES / "cc-switch-schema.sql").read_text())
    return path


def test_cc_switch_database(tmp_path: Path) -> None:
    found = read_candidates(cc_switch_db(tmp_path))
    assert [c.name for c in found] == ["Claude-Official", "Qwen-Coder", "PackyCode"]
    assert found[0].skipped == "no ANTHROPIC_BASE_URL: Claude's own login"
    qwen = found[1]
    assert qwen.fields == {
        "name": "Qwen-Coder",
        "base_url": "https://dashscope.aliyuncs.com/api/v2/apps/claude-code-proxy",
        "auth": "bearer",
        "models": {"*": "qwen3-coder-plus"},
        "key": "keyring",
    }
    assert qwen.key is not None
    assert qwen.key.value == "sk-qwen-sample-0010"
    assert "OpenAI" not in str([c.name for c in found])  # codex providers are not Claude's


def test_cc_switch_version_2_config() -> None:
    found = read_candidates(SAMPLES / "cc-switch-v2-config.json")
    assert [c.name for c in found] == ["Claude-Official", "Zhipu-GLM", "DeepSeek"]  # sortIndex
    glm = by_name(found)["Zhipu-GLM"]
    assert glm.fields["models"] == {
        "claude-haiku-*": "glm-4.5-air",
        "claude-sonnet-*": "glm-4.6",
        "claude-opus-*": "glm-4.6",
    }
    deepseek = by_name(found)["DeepSeek"]
    assert deepseek.fields["base_url"] == "https://api.deepseek.com/anthropic"
    assert deepseek.fields["models"] == {"claude-haiku-*": "deepseek-chat", "*": "deepseek-chat"}


def test_cc_switch_version_1_config() -> None:
    found = by_name(read_candidates(SAMPLES / "cc-switch-v1-config.json"))
    assert found["AnyRouter"].fields["auth"] == "bearer"
    assert found["Kimi-k2"].fields["auth"] == "x-api-key"  # ANTHROPIC_API_KEY
    assert found["Kimi-k2"].fields["models"] == {"*": "kimi-k2-turbo-preview"}


def test_claude_code_router_config() -> None:
    found = by_name(read_candidates(SAMPLES / "claude-code-router-config.json"))
    assert found["openrouter"].fields == {
        "name": "openrouter",
        "base_url": "https://openrouter.ai/api/v1",
        "format": "openai",
        "auth": "bearer",
        "models": {"*": "anthropic/claude-sonnet-4"},
        "key": "keyring",
    }
    deepseek = found["deepseek"]
    assert deepseek.fields["models"] == {"*": "deepseek-chat"}  # Router.default
    assert deepseek.fields["key"] == "env:DEEPSEEK_API_KEY"
    assert deepseek.key is None  # a variable's name stays a reference
    assert found["ollama"].fields["models"] == {"claude-haiku-*": "qwen2.5-coder:latest"}
    assert found["gemini"].skipped == "Gemini's own API is not supported"


def test_claude_code_settings() -> None:
    (found,) = read_candidates(SAMPLES / "claude-settings.json")
    assert found.name == "z"
    assert found.fields["base_url"] == "https://api.z.ai/api/anthropic"
    assert found.fields["models"] == {"claude-haiku-*": "glm-4.5-air"}
    assert found.key is not None


def test_settings_pointing_at_this_proxy_are_not_imported(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:8765"}}')
    (found,) = read_candidates(path, own_port=8765)
    assert found.skipped == "that is this proxy"


@pytest.mark.parametrize(
    ("sample", "problem"),
    [
        ("broken-not-json.json", "not valid JSON at line 3, column"),
        ("broken-ccr-no-url.json", "Providers[1] (broken) has no api_base_url"),
    ],
)
def test_malformed_files_name_the_file_and_the_problem(sample: str, problem: str) -> None:
    with pytest.raises(ImportSourceError) as caught:
        read_candidates(SAMPLES / sample)
    assert str(caught.value).startswith(f"{SAMPLES / sample}: ")
    assert problem in str(caught.value)


def test_other_broken_inputs(tmp_path: Path) -> None:
    cases = {
        "list.json": ("[1, 2]", "the file is not a JSON object"),
        "unknown.json": ('{"hello": 1}', "not a format this can import"),
        "bad-url.json": (
            '{"providers": {"x": {"name": "X", "settingsConfig": {"env": '
            '{"ANTHROPIC_BASE_URL": "ftp://x"}}}}, "current": "x"}',
            "the base URL 'ftp://x' is not an http:// or https:// URL",
        ),
        "no-env.json": ('{"claude": {"providers": {"x": {"name": "X"}}}}', 'has no "env" object'),
        "latin1.json": (b'{"env": "\xe9"}', "not UTF-8 text"),
    }
    for name, (content, problem) in cases.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(ImportSourceError, match=problem):
            read_candidates(path)
    broken_db = tmp_path / "cc-switch.db"
    with sqlite3.connect(broken_db) as db:
        db.execute("CREATE TABLE other (x)")
    with pytest.raises(ImportSourceError, match="not a cc-switch database"):
        read_candidates(broken_db)
    with pytest.raises(ImportSourceError, match="cannot read"):
        read_candidates(tmp_path / "missing.json")


def test_known_sources(tmp_path: Path) -> None:
    (tmp_path / ".claude-code-router").mkdir()
    (tmp_path / ".claude-code-router" / "config.json").write_text("{}")
    found = known_sources(tmp_path, tmp_path / ".claude")
    assert [(s.tool, s.path.name) for s in found] == [("claude-code-router", "config.json")]
