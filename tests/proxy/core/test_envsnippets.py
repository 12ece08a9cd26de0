"""Environment snippets per shell; the POSIX one is run through real shells."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from proxy.core.envsnippets import SHELLS, env_vars, snippet

URL = "http://127.0.0.1:8765"
TOKEN = "tok-3f9a'b c$HOME\\x"  # quotes, spaces, $ and a backslash must survive


def test_env_vars_without_token() -> None:
    assert env_vars(URL, None) == {"ANTHROPIC_BASE_URL": URL}
    assert env_vars(URL, "") == {"ANTHROPIC_BASE_URL": URL}


def test_env_vars_with_token_use_custom_header() -> None:
    assert env_vars(URL, "abc") == {
        "ANTHROPIC_BASE_URL": URL,
        "ANTHROPIC_CUSTOM_HEADERS": "x-ccf-token: abc",
    }


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        ("posix", "export ANTHROPIC_BASE_URL=http://127.0.0.1:8765\n"),
        ("fish", "set -gx ANTHROPIC_BASE_URL 'http://127.0.0.1:8765'\n"),
        ("powershell", "$env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:8765'\n"),
        ("cmd", 'set "ANTHROPIC_BASE_URL=http://127.0.0.1:8765"\n'),
    ],
)
def test_snippets_without_token(shell: str, expected: str) -> None:
    assert snippet(shell, URL, None) == expected  # type: ignore[arg-type]


def test_snippets_with_token() -> None:
    assert snippet("posix", URL, "abc") == (
        "export ANTHROPIC_BASE_URL=http://127.0.0.1:8765\n"
        "export ANTHROPIC_CUSTOM_HEADERS='x-ccf-token: abc'\n"
    )
    assert snippet("fish", URL, "it's") == (
        "set -gx ANTHROPIC_BASE_URL 'http://127.0.0.1:8765'\n"
        "set -gx ANTHROPIC_CUSTOM_HEADERS 'x-ccf-token: it\\'s'\n"
    )
    assert snippet("powershell", URL, "it's") == (
        "$env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:8765'\n"
        "$env:ANTHROPIC_CUSTOM_HEADERS = 'x-ccf-token: it''s'\n"
    )
    assert snippet("cmd", URL, "abc") == (
        'set "ANTHROPIC_BASE_URL=http://127.0.0.1:8765"\n'
        'set "ANTHROPIC_CUSTOM_HEADERS=x-ccf-token: abc"\n'
    )


def test_settings_json_env_block() -> None:
    assert json.loads(snippet("settings_json", URL, None)) == {"env": {"ANTHROPIC_BASE_URL": URL}}
    assert json.loads(snippet("settings_json", URL, TOKEN)) == {
        "env": {"ANTHROPIC_BASE_URL": URL, "ANTHROPIC_CUSTOM_HEADERS": f"x-ccf-token: {TOKEN}"}
    }


def test_every_menu_shell_has_a_snippet() -> None:
    for shell, label in SHELLS:
        assert label
        assert "ANTHROPIC_BASE_URL" in snippet(shell, URL, "t")


@pytest.mark.parametrize("shell", ["bash", "dash", "zsh"])
def test_posix_snippet_in_a_real_shell(shell: str) -> None:
    program = shutil.which(shell)
    if program is None:
        pytest.skip(f"{shell} is not installed")
    script = (
        snippet("posix", URL, TOKEN)
        + 'printf "%s\\n%s" "$ANTHROPIC_BASE_URL" "$ANTHROPIC_CUSTOM_HEADERS"'
    )
    out = subprocess.run([program, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == f"{URL}\nx-ccf-token: {TOKEN}"


def test_fish_snippet_in_real_fish() -> None:
    fish = shutil.which("fish")
    if fish is None:
        pytest.skip("fish is not installed")
    script = snippet("fish", URL, TOKEN) + "printf '%s' $ANTHROPIC_CUSTOM_HEADERS"
    out = subprocess.run([fish, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == f"x-ccf-token: {TOKEN}"
