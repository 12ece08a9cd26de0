"""What the admin API needs besides the runtime: the file, the keys, the token, the writer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from proxy.admin.sessions import Sessions
from proxy.admin.token import AdminToken
from proxy.config_changes import ConfigChanges
from proxy.core.errors import ApiError
from proxy.keys import KeyStore


@dataclass(frozen=True)
class Admin:
    config_path: Path
    env: Mapping[str, str]
    store: KeyStore
    sessions: Sessions
    claude_dir: Path
    changes: ConfigChanges  # the one way the config changes (and the lock of every write)
    token: AdminToken


def claude_config_dir(env: Mapping[str, str]) -> Path:
    """Claude Code's settings folder: CLAUDE_CONFIG_DIR, else ~/.claude."""
    chosen = env.get("CLAUDE_CONFIG_DIR")
    return Path(chosen).expanduser() if chosen else Path.home() / ".claude"


ADMIN = web.AppKey("admin", Admin)


def error_response(error: ApiError) -> web.Response:
    body = {"error": {"field": error.field, "message": error.message}}
    return web.json_response(body, status=error.status)
