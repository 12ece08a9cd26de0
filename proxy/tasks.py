"""The one way to start a background task (named, referenced until it ends), and the one
way to run blocking work (files, the keyring) off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger("ccf.tasks")
_running: set[asyncio.Task[Any]] = set()
T = TypeVar("T")


def spawn(coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
    task = asyncio.get_running_loop().create_task(coro, name=name)
    _running.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s failed", task.get_name(), exc_info=task.exception())


async def off_loop(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` in the loop's thread pool, so the event loop never blocks on it."""
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)
