"""The state snapshot that `/health`, the tray and the settings page show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from proxy.core.config import Config
from proxy.core.health import HEALTHY, Health
from proxy.core.plan import ordered_endpoints
from proxy.core.ratelimit import Usage
from proxy.core.usage import UsageToday

Overall = Literal["ok", "degraded", "down", "paused", "stopped", "error"]
EndpointState = Literal["ok", "cooling", "auth_error", "disabled", "no_key"]


@dataclass(frozen=True, slots=True)
class EndpointStatus:
    name: str
    enabled: bool
    state: EndpointState
    retry_in: float
    failures: int
    last_error: str
    last_status: int | None
    primary: bool
    pinned: bool
    proven: bool = True  # False: its cooldown ended, but it has not served since
    usage: Usage | None = None  # the subscription's utilisation, when the endpoint says

    @property
    def serves(self) -> bool:
        return self.state == "ok" and self.proven


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a status view needs, computed once from config, health and `now`.

    `overall`: ok (the primary serves), degraded (a fallback serves), down (nothing can),
    paused, stopped (the proxy is not running) or error (it could not start / crashed).
    """

    overall: Overall
    serving: str | None
    reason: str
    endpoints: tuple[EndpointStatus, ...]
    pinned: str | None
    paused: bool
    url: str
    problem: str = ""
    usage: UsageToday | None = None  # today's figures from the usage ledger, when it runs

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.overall,
            "serving": self.serving,
            "reason": self.reason,
            "pinned": self.pinned,
            "paused": self.paused,
            "url": self.url,
            "problem": self.problem,
            "endpoints": [
                {
                    "name": e.name,
                    "enabled": e.enabled,
                    "state": e.state,
                    "retry_in": round(e.retry_in, 1),
                    "failures": e.failures,
                    "last_error": e.last_error,
                    "last_status": e.last_status,
                    "primary": e.primary,
                    "pinned": e.pinned,
                    "proven": e.proven,
                    "usage": e.usage.to_json() if e.usage else None,
                }
                for e in self.endpoints
            ],
        }


def describe_wait(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def endpoint_words(status: EndpointStatus) -> str:
    """An endpoint's state in a few words ("rate-limited, retry in 3 min")."""
    if status.state == "auth_error":
        return "key rejected"
    if status.state == "cooling":
        what = "rate-limited" if status.last_status == 429 else "failing"
        return f"{what}, retry in {describe_wait(status.retry_in)}"
    if status.state == "no_key":
        return "no key"
    if status.state == "ok" and not status.proven:
        return "retrying"
    return "disabled" if status.state == "disabled" else "ready"


def endpoint_statuses(
    config: Config,
    health: Mapping[str, Health],
    now: float,
    keyless: frozenset[str] = frozenset(),
    ratelimits: Mapping[str, Usage] | None = None,
) -> tuple[EndpointStatus, ...]:
    """Each endpoint's state; `keyless` names those that need a key and have none (they are
    skipped by every request, so they are not "ready")."""
    primary = next((e.name for e in config.endpoints if e.enabled), None)
    rows = []
    for endpoint in config.endpoints:
        h = health.get(endpoint.name, HEALTHY)
        state: EndpointState = h.state(now) if endpoint.enabled else "disabled"
        if state == "ok" and endpoint.name in keyless:
            state = "no_key"
        rows.append(
            EndpointStatus(
                name=endpoint.name,
                enabled=endpoint.enabled,
                state=state,
                retry_in=h.remaining(now) if state in ("cooling", "auth_error") else 0.0,
                failures=h.failures,
                last_error=h.last_error,
                last_status=h.last_status,
                primary=endpoint.name == primary,
                pinned=endpoint.name == config.routing.pinned,
                proven=h.failures == 0,  # a success removes the entry: back to HEALTHY
                usage=(ratelimits or {}).get(endpoint.name),
            )
        )
    return tuple(rows)


def _verdict(order: list[EndpointStatus], paused: bool) -> tuple[Overall, str | None, str]:
    if paused:
        first = order[0].name if order else None
        return "paused", first, f"failover paused; {first} only"
    # An endpoint whose cooldown ended is tried again, but serves only once it has served.
    serving = next((row for row in order if row.serves), None)
    if serving is None:
        serving = next((row for row in order if row.state == "ok"), None)
        if serving is not None:
            return "degraded", serving.name, f"retrying {serving.name}"
    if serving is None:
        why = "; ".join(f"{row.name} {endpoint_words(row)}" for row in order)
        return "down", None, f"no endpoint can serve: {why}"
    skipped = order[: order.index(serving)]
    pin = " (pinned)" if serving.pinned else ""
    if serving.primary or not skipped:
        overall: Overall = "ok" if serving.primary else "degraded"
        return overall, serving.name, f"via {serving.name}{pin}"
    why = "; ".join(f"{row.name} {endpoint_words(row)}" for row in skipped)
    return "degraded", serving.name, f"via {serving.name} — {why}"


def snapshot(
    config: Config,
    health: Mapping[str, Health],
    now: float,
    url: str,
    *,
    problem: str = "",
    keyless: frozenset[str] = frozenset(),
    usage: UsageToday | None = None,
    ratelimits: Mapping[str, Usage] | None = None,
) -> Snapshot:
    rows = endpoint_statuses(config, health, now, keyless, ratelimits)
    by_name = {row.name: row for row in rows}
    order = [by_name[e.name] for e in ordered_endpoints(config)]
    overall, serving, reason = _verdict(order, config.routing.paused)
    return Snapshot(
        overall=overall,
        serving=serving,
        reason=reason,
        endpoints=rows,
        pinned=config.routing.pinned,
        paused=config.routing.paused,
        url=url,
        problem=problem,
        usage=usage,
    )


def stopped(url: str, problem: str = "") -> Snapshot:
    """The snapshot of a proxy that is not running; `problem` says why and what to do."""
    return Snapshot(
        overall="error" if problem else "stopped",
        serving=None,
        reason=problem or "proxy stopped",
        endpoints=(),
        pinned=None,
        paused=False,
        url=url,
        problem=problem,
    )
