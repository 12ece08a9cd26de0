"""What the admin API needs besides the runtime: the file, the keys, the token, the socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from proxy.admin.sessions import Sessions
from proxy.keys import KeyStore


class Listener(Protocol):
    """The running server's sockets (`proxy.server.RunningServer`), for a port change."""

    @property
    def url(self) -> str: ...

    async def add_site(self, host: str, port: int) -> Any: ...

    async def switch_to(self, site: Any) -> None: ...

    async def drop_site(self, site: Any) -> None: ...


@dataclass
class Admin:
    config_path: Path
    env: Mapping[str, str]
    store: KeyStore
    sessions: Sessions
    claude_dir: Path
    secret_sink: Callable[[str], None] | None = None  # the log redactor learns the token
    token: str | None = None  # read from the keyring (or file) on first use
    listener: Listener | None = None  # set once the server listens
    announce: Callable[[str], None] | None = None  # told the new URL after a port change
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def claude_config_dir(env: Mapping[str, str]) -> Path:
    """Claude Code's settings folder: CLAUDE_CONFIG_DIR, else ~/.claude."""
    chosen = env.get("CLAUDE_CONFIG_DIR")
    return Path(chosen).expanduser() if chosen else Path.home() / ".claude"


ADMIN = web.AppKey("admin", Admin)


class ApiError(Exception):
    """An admin call that cannot be done; `field` names the setting it concerns."""

    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def response(self) -> web.Response:
        body = {"error": {"field": self.field, "message": self.message}}
        return web.json_response(body, status=self.status)
