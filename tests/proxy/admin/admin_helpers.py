"""Helpers for admin API tests: in-memory keys, the proxy with its admin API on a socket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from proxy.admin.context import Admin
from proxy.core.errors import KeyStoreError
from proxy.keys import NO_KEYRING_HELP
from proxy.running import RunningProxy
from proxy.runtime import Runtime
from proxy.server import RunningServer

TOKEN = "admin-token-for-tests-0123456789"


@dataclass
class MemoryKeys:
    """An in-memory KeyStore; `broken` makes it act like a machine without a keyring."""

    values: dict[str, str] = field(default_factory=dict)
    broken: bool = False

    def _check(self) -> None:
        if self.broken:
            raise KeyStoreError(NO_KEYRING_HELP)

    def get(self, name: str) -> str | None:
        self._check()
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self._check()
        self.values[name] = value

    def delete(self, name: str) -> None:
        self._check()
        self.values.pop(name, None)


@dataclass
class AdminProxy:
    running: RunningProxy
    keys: MemoryKeys
    path: Path
    session: aiohttp.ClientSession

    @property
    def runtime(self) -> Runtime:
        return self.running.runtime

    @property
    def server(self) -> RunningServer:
        return self.running.server

    @property
    def admin(self) -> Admin:
        return self.running.admin

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})}
        return self.session.request(
            method, f"{self.url}/_ccf/api/{path}", headers=headers, **kwargs
        )

    async def json(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        kwargs = {} if method == "GET" else {"json": body if body is not None else {}}
        async with self.call(method, path, **kwargs) as response:
            data = await response.json()
            assert response.status == status, data
            return data

    async def messages(self, body: dict[str, Any], **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.session.post(f"{self.url}/v1/messages", json=body, **kwargs)


AdminFactory = Callable[..., Awaitable[AdminProxy]]


REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "hi"}],
}
