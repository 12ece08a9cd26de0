"""What a process holds: descriptors, memory, tasks; and waiting until it lets go."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def settled_rss_mib() -> float:
    """RSS after a full collection and after giving freed heap back to the OS (glibc's
    malloc_trim): memory still in use, not the allocator's high-water mark."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mib()


def python_blocks() -> int:
    gc.collect()
    return sys.getallocatedblocks()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def other_tasks() -> set[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return {task for task in asyncio.all_tasks() if task is not current and not task.done()}


def live_objects(*types: type) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, types))


async def settle(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Wait (on the loop) until `predicate` holds; False if it never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


def describe(tasks: set[asyncio.Task[Any]]) -> list[str]:
    return sorted(f"{task.get_name()}: {task.get_coro()!r}" for task in tasks)


@dataclass
class Usage:
    fds: int
    rss: float
    tasks: int

    @classmethod
    def now(cls) -> Usage:
        gc.collect()
        return cls(open_fds(), rss_mib(), len(other_tasks()))


class Sampler:
    """Samples RSS and descriptors every `interval` s while the load runs; keeps the peaks."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_rss = 0.0
        self.peak_fds = 0
        self._task: asyncio.Task[Any] | None = None

    async def _run(self) -> None:
        while True:
            self.peak_rss = max(self.peak_rss, rss_mib())
            self.peak_fds = max(self.peak_fds, open_fds())
            await asyncio.sleep(self.interval)

    def __enter__(self) -> Sampler:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sampler")
        return self

    def __exit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
