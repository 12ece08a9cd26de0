"""The environment variables that point Claude Code at the proxy, as snippets per shell.

Pure: URL and token in, text out. `ANTHROPIC_CUSTOM_HEADERS` carries the access token as
`x-ccf-token` so `Authorization` stays free for the client's own subscription OAuth.
"""

from __future__ import annotations

import json
import shlex
from typing import Literal

Shell = Literal["posix", "fish", "powershell", "cmd", "settings_json"]

# (shell, menu label) in menu order.
SHELLS: tuple[tuple[Shell, str], ...] = (
    ("posix", "bash / zsh"),
    ("fish", "fish"),
    ("powershell", "PowerShell"),
    ("cmd", "cmd"),
    ("settings_json", "Claude Code settings.json"),
)


def env_vars(url: str, access_token: str | None) -> dict[str, str]:
    """The variables Claude Code needs, in a stable order."""
    variables = {"ANTHROPIC_BASE_URL": url}
    if access_token:
        variables["ANTHROPIC_CUSTOM_HEADERS"] = f"x-ccf-token: {access_token}"
    return variables


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def snippet(shell: Shell, url: str, access_token: str | None) -> str:
    """Text to paste into `shell` (or, for settings_json, into ~/.claude/settings.json)."""
    variables = env_vars(url, access_token)
    if shell == "settings_json":
        return json.dumps({"env": variables}, indent=2) + "\n"
    lines = []
    for name, value in variables.items():
        if shell == "posix":
            lines.append(f"export {name}={shlex.quote(value)}")
        elif shell == "fish":
            lines.append(f"set -gx {name} {_fish_quote(value)}")
        elif shell == "powershell":
            lines.append(f"$env:{name} = {_powershell_quote(value)}")
        else:  # cmd: the quoted form keeps spaces and `:` literal, with no quotes in the value
            lines.append(f'set "{name}={value}"')
    return "\n".join(lines) + "\n"
