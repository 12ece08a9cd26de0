"""The failover plan: which endpoints a request tries, in which order."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from proxy.core.config import Config, Endpoint
from proxy.core.health import HEALTHY, Health


def ordered_endpoints(config: Config) -> tuple[Endpoint, ...]:
    """Configured order with the pinned endpoint first and disabled endpoints dropped."""
    enabled = [e for e in config.endpoints if e.enabled]
    pinned = config.routing.pinned
    enabled.sort(key=lambda e: e.name != pinned)
    return tuple(enabled)


def plan_attempts(
    config: Config,
    health: Mapping[str, Health],
    now: float,
    accepts: Callable[[Endpoint], bool] | None = None,
    ordered: tuple[Endpoint, ...] | None = None,
) -> tuple[Endpoint, ...]:
    """Endpoints to try for one request.

    Paused: the first endpoint only. Otherwise those not cooling down; if all are cooling,
    the one whose cooldown ends soonest, once. Never empty while an endpoint `accepts` it.
    `ordered` is `ordered_endpoints(config)` (or the part of it that accepts the request),
    when the caller keeps it.
    """
    if ordered is None:
        ordered = ordered_endpoints(config)
    order = ordered if accepts is None else tuple(e for e in ordered if accepts(e))
    if not order:
        return ()
    if config.routing.paused:
        return order[:1]
    if not health:  # nothing has failed: the common case, worth its shortcut
        return order
    ready = tuple(e for e in order if health.get(e.name, HEALTHY).state(now) == "ok")
    if ready:
        return ready
    return (min(order, key=lambda e: health.get(e.name, HEALTHY).cooling_until),)


def fails_over(path: str) -> bool:
    """Whether a request to `path` may go on to the next endpoint: API calls do; anything
    else (`HEAD /`, a favicon, a health probe of the client's) gets the first endpoint's
    answer, without a cascade of attempts."""
    return path.startswith("/v1/")
