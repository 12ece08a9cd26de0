"""Single-use login codes and the browser sessions they start.

The opener (tray or `ccf settings`) holds the admin token and trades it for a code valid
for a minute; `/_ccf/login?code=…` trades the code for an HttpOnly session cookie. A code
that shows up in a process list or a log is therefore worthless by the time anyone reads it.
Only hashes are kept, so lookups do not compare secrets byte by byte.

Wrong codes and wrong admin tokens are counted (`proxy.core.lockout`): too many in a minute
lock sign-in out for a minute, and every attempt meanwhile is told how long to wait.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets

from proxy.clock import Clock
from proxy.core.lockout import Lockout

log = logging.getLogger("ccf.admin")

CODE_SECONDS = 60.0
SESSION_SECONDS = 12 * 3600.0


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LockedOut(Exception):
    """Sign-in is locked out after too many wrong attempts; `seconds` until it is not."""

    def __init__(self, seconds: float) -> None:
        self.seconds = max(1, math.ceil(seconds))
        super().__init__(f"Too many sign-in attempts; try again in {self.seconds} s.")


class Sessions:
    def __init__(
        self,
        clock: Clock,
        code_seconds: float = CODE_SECONDS,
        session_seconds: float = SESSION_SECONDS,
    ) -> None:
        self.clock = clock
        self.code_seconds = code_seconds
        self.session_seconds = session_seconds
        self._codes: dict[str, float] = {}
        self._sessions: dict[str, float] = {}
        self.lockout = Lockout()

    def _expire(self) -> None:
        now = self.clock.monotonic()
        self._codes = {k: t for k, t in self._codes.items() if t > now}
        self._sessions = {k: t for k, t in self._sessions.items() if t > now}

    def new_code(self) -> str:
        self._expire()
        code = secrets.token_urlsafe(24)
        self._codes[_digest(code)] = self.clock.monotonic() + self.code_seconds
        return code

    def check_lockout(self) -> None:
        """Raise `LockedOut` while too many wrong attempts are recent."""
        wait = self.lockout.wait(self.clock.monotonic())
        if wait > 0:
            raise LockedOut(wait)

    def attempt_failed(self, what: str) -> None:
        """Count a wrong code or token; the lock-out it may start is logged once."""
        if self.lockout.failed(self.clock.monotonic()):
            log.warning(
                "sign-in locked for %.0f s after %d wrong %s",
                self.lockout.lockout,
                self.lockout.max_failures,
                what,
            )

    def redeem(self, code: str) -> str | None:
        """A new session id for a valid, unused code; None otherwise. The code is used up.

        Raises `LockedOut` (without looking at the code) while sign-in is locked out.
        """
        self.check_lockout()
        self._expire()
        if self._codes.pop(_digest(code), None) is None:
            self.attempt_failed("sign-in codes")
            return None
        self.lockout.succeeded()
        session = secrets.token_urlsafe(32)
        self._sessions[_digest(session)] = self.clock.monotonic() + self.session_seconds
        return session

    def is_valid(self, session: str) -> bool:
        expires = self._sessions.get(_digest(session))
        return expires is not None and expires > self.clock.monotonic()
