"""The suite's one way to wait for something that happens in another thread or process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class TimedOut(AssertionError):
    """What `wait_for` raises when the condition never held."""


def wait_for(
    condition: Callable[[], T | None],
    timeout: float = 15.0,
    what: str = "the condition",
    interval: float = 0.05,
) -> T:
    """Poll `condition` until it returns something truthy and return that; fail naming `what`.

    Timeouts are generous on purpose: they catch a hang on a slow, busy machine, not slowness.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimedOut(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
