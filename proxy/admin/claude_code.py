"""Claude Code setup: env snippets, and merging them into `~/.claude/settings.json`.

The write is explicit (the page confirms first), merges only the proxy's `env` keys, keeps
a backup of the previous file, writes atomically, and refuses while an endpoint of this
proxy points at the proxy itself (Claude Code's requests would go round in a circle).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxy.config_file import write_atomically
from proxy.core.claude_settings import (
    looping_endpoints,
    merged_settings,
    parse_settings,
    settings_text,
)
from proxy.core.config import Config
from proxy.core.envsnippets import all_snippets, env_vars
from proxy.core.errors import ApiError

BACKUP_SUFFIX = ".ccf-backup"


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    backup: Path | None
    env: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "backup": str(self.backup) if self.backup else None,
            "env": self.env,
        }


def access_token(config: Config) -> str | None:
    token = config.security.access_token
    return token.value if token else None


def setup_view(config: Config, url: str, claude_dir: Path) -> dict[str, Any]:
    path = claude_dir / "settings.json"
    return {
        "url": url,
        "snippets": all_snippets(url, access_token(config)),
        "settings_path": str(path),
        "current": current_env(path),
    }


def current_env(path: Path) -> dict[str, str]:
    """What settings.json says now about the proxy's keys ({} if unreadable or absent)."""
    try:
        env = parse_settings(path.read_text(encoding="utf-8")).get("env")
    except (OSError, ValueError):
        return {}
    keys = ("ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS")
    return {k: str(v) for k, v in env.items() if k in keys} if isinstance(env, dict) else {}


def write_settings(config: Config, url: str, port: int, claude_dir: Path) -> Written:
    """Blocking: merge the proxy's env into settings.json. Raises `ApiError` saying why not."""
    loops = looping_endpoints(config, port)
    if loops:
        raise ApiError(
            409,
            f"{', '.join(loops)} points at this proxy itself; Claude Code's requests would "
            "go round in a circle. Fix its base URL first.",
        )
    path = claude_dir / "settings.json"
    original = _read(path)
    try:
        settings = parse_settings(original or "")
        variables = env_vars(url, access_token(config))
        merged = merged_settings(settings, variables)
    except ValueError as exc:
        raise ApiError(409, f"{path} is not valid settings JSON ({exc}); fix it by hand.") from None
    backup = None
    if original is not None:
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        shutil.copy2(path, backup)
    write_atomically(path, settings_text(merged))
    return Written(path, backup, variables)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ApiError(409, f"cannot read {path}: {exc}") from None
