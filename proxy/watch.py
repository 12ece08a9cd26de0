"""The config file, watched while the proxy runs: a good edit is swapped in, a bad one is shown.

Every `interval` seconds the file's (inode, size, mtime) is compared with the last one seen.
On a change the file goes through `ConfigChanges.reload` (the same lock and swap as every
other writer). A deleted, empty, unreadable or invalid file keeps the last good config, and
`Runtime.problem` (shown by `/health`, the tray and the settings page) says why until the
file is good again. Writes by the settings page or the tray are good configs like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from proxy.config_changes import KEEPING, ConfigChanges
from proxy.tasks import spawn

log = logging.getLogger("ccf.config")
Signature = tuple[int, int, int] | None


def signature(path: Path) -> Signature:
    """What tells a changed file apart: inode, size and modification time; None if absent."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    except OSError:
        return (-1, -1, -1)
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class ConfigWatcher:
    """Polls the config file of `changes`; `start()` it on the loop, `stop()` at the end."""

    def __init__(self, changes: ConfigChanges, *, interval: float = 1.0) -> None:
        self.changes = changes
        self.path = changes.path
        self.interval = interval
        self.seen: Signature = signature(self.path)
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
        if now is None:
            self._report(f"{self.path} was deleted; {KEEPING}. Saving in Settings writes it again.")
            return
        self._report(await self.changes.reload())

    def _report(self, problem: str) -> None:
        runtime = self.changes.runtime
        if problem == runtime.problem:
            return
        if problem:
            log.error("config file problem: %s", problem)
        else:
            log.info("%s is valid again", self.path)
        runtime.set_problem(problem)
