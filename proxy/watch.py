"""The config file, watched while the proxy runs: a good edit is swapped in, a bad one is shown.

Every `interval` seconds the file's (inode, size, mtime) is compared with the last one seen.
On a change the file is read and validated, and its keys resolved, off the event loop; a good
config replaces the running one. A deleted, empty, unreadable or invalid file keeps the last
good config, and `Runtime.problem` (shown by `/health`, the tray and the settings page) says
why until the file is good again. Writes by the admin API are good configs like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from proxy.admin.context import Admin
from proxy.config_file import load_config
from proxy.core.config import Config
from proxy.core.errors import CcfError
from proxy.keys import KeyStore, resolve_keys
from proxy.runtime import Runtime
from proxy.tasks import spawn

log = logging.getLogger("ccf.config")
Signature = tuple[int, int, int] | None
T = TypeVar("T")
KEEPING = "still running with the last good settings"


def signature(path: Path) -> Signature:
    """What tells a changed file apart: inode, size and modification time; None if absent."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    except OSError:
        return (-1, -1, -1)
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


async def _off_loop(func: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)


class ConfigWatcher:
    """Polls one config file for the runtime; `start()` it on the loop, `stop()` at the end."""

    def __init__(
        self,
        path: Path,
        env: Mapping[str, str],
        store: KeyStore,
        runtime: Runtime,
        *,
        admin: Admin | None = None,
        interval: float = 1.0,
    ) -> None:
        self.path = path
        self.env = env
        self.store = store
        self.runtime = runtime
        self.admin = admin
        self.interval = interval
        self.seen: Signature = signature(path)
        self._task: asyncio.Task[Any] | None = None

    def start(self) -> None:
        self._task = spawn(self._run(), name="ccf-config-watcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:
                log.exception("checking %s failed", self.path)

    async def check(self) -> None:
        """One look at the file: reload it if it changed since the last look."""
        now = signature(self.path)
        if now == self.seen:
            return
        self.seen = now
        if self.admin is None:
            await self._reload(now)
            return
        async with self.admin.lock:  # an admin write finishes (or starts) whole
            await self._reload(now)

    async def _reload(self, now: Signature) -> None:
        if now is None:
            self._report(f"{self.path} was deleted; {KEEPING}. Saving in Settings writes it again.")
            return
        try:
            config = await _off_loop(load_config, self.path, self.env)
        except CcfError as exc:
            self._report(f"{exc} ({KEEPING})")
            return
        await self._apply(config)

    async def _apply(self, config: Config) -> None:
        running = self.runtime.config
        moved = await self._follow_listen(config)
        if not moved:
            config = replace(config, listen=running.listen)
        if config != running:
            keys = await _off_loop(resolve_keys, config, self.store, self.env)
            self.runtime.set_config(config, keys)
            log.info("reloaded %s", self.path)
        if moved:
            self._report("")

    async def _follow_listen(self, config: Config) -> bool:
        """Move to the file's listen address if it changed; False if that cannot be done."""
        old = self.runtime.config.listen
        new = config.listen
        if new == old:
            return True
        listener = self.admin.listener if self.admin is not None else None
        where = f"{new.host}:{new.port}"
        if listener is None:
            self._report(f"restart Claude Code Fallback to listen on {where} ({KEEPING})")
            return False
        try:
            site = await listener.add_site(new.host, new.port)
        except (CcfError, OSError) as exc:
            self._report(f"cannot listen on {where}: {exc} ({KEEPING})")
            return False
        await listener.switch_to(site)
        self.runtime.url = listener.url
        log.warning("Claude Code Fallback now listens on %s", self.runtime.url)
        if self.admin is not None and self.admin.announce is not None:
            self.admin.announce(self.runtime.url)
        return True

    def _report(self, problem: str) -> None:
        if problem == self.runtime.problem:
            return
        if problem:
            log.error("config file problem: %s", problem)
        else:
            log.info("%s is valid again", self.path)
        self.runtime.set_problem(problem)
