"""Failed sign-in attempts, counted: too many in a window lock sign-in out for a while.

Login codes and the admin token are far too long to guess, so this is not what keeps them
safe; it keeps a flood of guesses from costing the proxy its time and the log its history,
and makes the flood visible ("too many attempts, try again in 42 s").
"""

from __future__ import annotations

from collections import deque

MAX_FAILURES = 10
WINDOW_SECONDS = 60.0
LOCKOUT_SECONDS = 60.0


class Lockout:
    """Counts failures at times `now` (monotonic seconds, given by the caller)."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW_SECONDS,
        lockout: float = LOCKOUT_SECONDS,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._failures: deque[float] = deque(maxlen=max_failures)
        self.locked_until = float("-inf")

    def wait(self, now: float) -> float:
        """Seconds until attempts are taken again; 0 when they are now."""
        return max(0.0, self.locked_until - now)

    def failed(self, now: float) -> bool:
        """Count a failure; True when it starts a lock-out."""
        self._failures.append(now)
        full = len(self._failures) == self.max_failures
        if full and now - self._failures[0] <= self.window and self.wait(now) == 0:
            self.locked_until = now + self.lockout
            self._failures.clear()
            return True
        return False

    def succeeded(self) -> None:
        self._failures.clear()
