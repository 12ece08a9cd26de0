"""The real Claude Code CLI writes a file through `ccf serve` while the primary answers 529."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.agent_fakes import CONTENT, anthropic_agent, openai_agent
from tests.fakes import FakesInThread, FakeUpstream
from tests.serve import ccf_serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]
ROOT = Path(__file__).resolve().parent.parent
INSTALL_DIR = ROOT / "test-artifacts" / "claude-code-cli"
PACKAGE = "@anthropic-ai/claude-code"
LAUNCHERS = ("cli.js", "cli-wrapper.cjs")


def installed_launcher() -> Path | None:
    package = INSTALL_DIR / "node_modules" / PACKAGE
    found = [package / name for name in LAUNCHERS if (package / name).is_file()]
    return found[0] if found else None


def npm_install() -> str:
    """Install the CLI into INSTALL_DIR; the reason it failed, or "" on success."""
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["npm", "install", "--prefix", str(INSTALL_DIR), "--no-audit", "--no-fund", PACKAGE],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return "" if done.returncode == 0 else (done.stderr or done.stdout).strip()[-500:]


@pytest.fixture(scope="session")
def claude_cli() -> Path:
    launcher = installed_launcher()
    if launcher is None:
        reason = npm_install()
        launcher = installed_launcher()
        if launcher is None:
            pytest.skip(f"npm could not install {PACKAGE}: {reason or 'no launcher found'}")
    return launcher


def cli_env(home: Path, proxy_url: str) -> dict[str, str]:
    keep = {name: os.environ[name] for name in ("PATH", "LANG", "TERM") if name in os.environ}
    return {
        **keep,
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": proxy_url,
        "ANTHROPIC_API_KEY": "sk-ant-test-cli",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "IS_SANDBOX": "1",
        "NO_PROXY": "*",
    }


def run_cli(
    launcher: Path, tmp_path: Path, proxy_url: str, target: Path
) -> subprocess.CompletedProcess[str]:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir(exist_ok=True)
    return subprocess.run(
        [
            "node",
            str(launcher),
            "-p",
            f"Create the file {target} containing hello",
            "--dangerously-skip-permissions",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=work,
        env=cli_env(home, proxy_url),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def serve_and_run(
    tmp_path: Path, launcher: Path, endpoint_yaml: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    target = tmp_path / "work" / "hello.txt"
    (tmp_path / "work").mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(endpoint_yaml)
    env = {**os.environ, "FALLBACK_KEY": "sk-fallback-test"}
    with ccf_serve(config, env=env) as url:
        done = run_cli(launcher, tmp_path, url, target)
    return done, target


def assert_agentic_run(
    done: subprocess.CompletedProcess[str], target: Path, primary: FakeUpstream
) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    assert target.read_text() == CONTENT
    assert "Done." in done.stdout
    asked = [r for r in primary.received if r.path == "/v1/messages"]
    assert asked, "the primary was never asked"
    assert asked[0].headers["user-agent"].startswith("claude-cli/")
    assert asked[0].headers.get("x-api-key") == "sk-ant-test-cli"


def test_cli_writes_a_file_through_an_anthropic_format_fallback(
    tmp_path: Path, threaded_fakes: FakesInThread, claude_cli: Path
) -> None:
    primary, fallback = threaded_fakes.start("primary"), threaded_fakes.start("fallback")
    primary.status(529)
    fallback.behaviour = anthropic_agent(tmp_path / "work" / "hello.txt")
    done, target = serve_and_run(
        tmp_path,
        claude_cli,
        "endpoints:\n"
        f"  - {{name: primary, base_url: '{primary.url}'}}\n"
        f"  - {{name: fallback, base_url: '{fallback.url}', auth: x-api-key, key: 'env:FALLBACK_KEY'}}\n",
    )
    assert_agentic_run(done, target, primary)
    turns = [r.json for r in fallback.received if r.path == "/v1/messages"]
    assert any(turn.get("messages") and answered(turn["messages"][-1]) for turn in turns)
    assert all(r.headers.get("x-api-key") == "sk-fallback-test" for r in fallback.received)


def answered(message: dict[str, object]) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("type") == "tool_result" for block in content
    )


def test_cli_writes_a_file_through_an_openai_format_fallback(
    tmp_path: Path, threaded_fakes: FakesInThread, claude_cli: Path
) -> None:
    primary, fallback = threaded_fakes.start("primary"), threaded_fakes.start("fallback")
    primary.status(529)
    fallback.behaviour = openai_agent(tmp_path / "work" / "hello.txt")
    done, target = serve_and_run(
        tmp_path,
        claude_cli,
        "endpoints:\n"
        f"  - {{name: primary, base_url: '{primary.url}'}}\n"
        f"  - name: fallback\n    base_url: '{fallback.url}/v1'\n    format: openai\n"
        "    auth: bearer\n    key: 'env:FALLBACK_KEY'\n    models: {'*': gpt-agent}\n",
    )
    assert_agentic_run(done, target, primary)
    turns = [r.json for r in fallback.received if r.path == "/v1/chat/completions"]
    assert any(any(m.get("role") == "tool" for m in turn["messages"]) for turn in turns)
