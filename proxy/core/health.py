"""Per-endpoint cooldown (circuit) state, updated from attempt outcomes with `now` as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from proxy.core.config import Failover

State = Literal["ok", "cooling", "auth_error"]


@dataclass(frozen=True, slots=True)
class Failure:
    """Why an attempt failed over: `reason` is a metrics label, `message` is for people."""

    reason: str
    message: str
    status: int | None = None
    retry_after: float | None = None

    @property
    def is_auth(self) -> bool:
        return self.status in (401, 403)


@dataclass(frozen=True, slots=True)
class Health:
    failures: int = 0
    cooling_until: float = float("-inf")
    auth_error: bool = False
    last_error: str = ""
    last_status: int | None = None
    failed_at: float = float("-inf")

    def state(self, now: float) -> State:
        if now >= self.cooling_until:
            return "ok"
        return "auth_error" if self.auth_error else "cooling"

    def remaining(self, now: float) -> float:
        return max(0.0, self.cooling_until - now)


HEALTHY = Health()


def cooldown_for(failure: Failure, failures_before: int, policy: Failover) -> float:
    cap = policy.max_cooldown_seconds
    if failure.is_auth:
        return cap
    if failure.status == 429 and failure.retry_after is not None:
        return min(max(failure.retry_after, 0.0), cap)
    doubling = float(1 << min(failures_before, 32))
    return min(policy.cooldown_seconds * doubling, cap)


def after_failure(
    health: Health, failure: Failure, now: float, policy: Failover, started: float
) -> Health:
    """Health after an attempt that began at `started` failed at `now`.

    Attempts already in flight when the last failure was recorded carry no news, so a burst
    of concurrent failures counts once instead of multiplying the cooldown.
    """
    if started <= health.failed_at:
        return health
    return Health(
        failures=health.failures + 1,
        cooling_until=now + cooldown_for(failure, health.failures, policy),
        auth_error=failure.is_auth,
        last_error=failure.message,
        last_status=failure.status,
        failed_at=now,
    )


def after_success(health: Health, started: float) -> Health:
    """Health after a success of an attempt that began at `started`; stale news is ignored."""
    if started <= health.failed_at:
        return health
    return HEALTHY
