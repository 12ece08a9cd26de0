"""Rate-limit headers: cool an endpoint down before its 429, and read the subscription's
5-hour and weekly utilisation for display.

API keys get `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-remaining`
with an RFC 3339 `-reset`; Claude subscriptions get `anthropic-ratelimit-unified-status`
(`allowed`, `allowed_warning`, `rejected`) with `-reset` in epoch seconds, and per window
(`5h`, `7d`, `7d_opus`, …) `-utilization` (a fraction), `-reset` and `-status`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from proxy.core.health import Failure

PREFIX = "anthropic-ratelimit-"
UNIFIED = PREFIX + "unified-"
# One of these is in every answer that carries rate-limit headers: looked up (case-blind, in
# the answer's header map) before the headers are read one by one.
MARKERS = (
    UNIFIED + "status",
    PREFIX + "requests-remaining",
    PREFIX + "tokens-remaining",
    PREFIX + "input-tokens-remaining",
    PREFIX + "output-tokens-remaining",
)
_COUNTED = re.compile(r"anthropic-ratelimit-(requests|tokens|input-tokens|output-tokens)-remaining")
_WINDOW = re.compile(r"anthropic-ratelimit-unified-([a-z0-9_]+)-(utilization|reset|status)")


@dataclass(frozen=True, slots=True)
class Window:
    """One subscription window: `5h`, `7d`, …"""

    name: str
    utilization: float | None = None  # 0..1
    reset: float | None = None  # wall-clock epoch seconds
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """What the last answer said about the subscription's limits."""

    status: str | None
    reset: float | None
    windows: tuple[Window, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "reset": self.reset,
            "windows": [
                {"name": w.name, "utilization": w.utilization, "reset": w.reset, "status": w.status}
                for w in self.windows
            ],
        }


def anthropic_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The `anthropic-*` headers of an answer, by lower-case name (read once per answer)."""
    return {
        name.lower(): value.strip() for name, value in headers if name[:10].lower() == "anthropic-"
    }


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _rfc3339(text: str | None) -> float | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return _float(text)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def unified_usage(headers: Iterable[tuple[str, str]] | dict[str, str]) -> Usage | None:
    """The subscription's utilisation from an answer's headers (None: it sent none)."""
    found = headers if isinstance(headers, dict) else anthropic_headers(headers)
    if not any(name.startswith(UNIFIED) for name in found):
        return None
    windows: dict[str, dict[str, str]] = {}
    for name, value in found.items():
        if match := _WINDOW.fullmatch(name):
            windows.setdefault(match.group(1), {})[match.group(2)] = value
    return Usage(
        status=found.get(UNIFIED + "status"),
        reset=_float(found.get(UNIFIED + "reset")),
        windows=tuple(
            Window(name, _float(f.get("utilization")), _float(f.get("reset")), f.get("status"))
            for name, f in sorted(windows.items())
        ),
    )


def exhausted_until(
    headers: Iterable[tuple[str, str]] | dict[str, str], wall_now: float
) -> float | None:
    """The wall-clock time until which the endpoint will refuse (None: it will not say so):
    a unified `rejected` status, or a counted limit with nothing remaining, until a reset
    in the future. `headers` as given, or as `anthropic_headers` found them."""
    found = headers if isinstance(headers, dict) else anthropic_headers(headers)
    if not found:
        return None
    resets: list[float] = []
    if found.get(UNIFIED + "status") == "rejected":
        resets.append(_float(found.get(UNIFIED + "reset")) or 0.0)
    for name, value in found.items():
        if _COUNTED.fullmatch(name) and value == "0":
            resets.append(_rfc3339(found.get(name.removesuffix("remaining") + "reset")) or 0.0)
    future = [reset for reset in resets if reset > wall_now]
    return max(future) if future else None


def failure_from_headers(
    headers: Iterable[tuple[str, str]] | dict[str, str], wall_now: float
) -> Failure | None:
    """A rate-limit failure announced by the headers of an answer that still served."""
    until = exhausted_until(headers, wall_now)
    if until is None:
        return None
    wait = until - wall_now
    return Failure(
        reason="rate_limit_headers",
        message=f"rate limit used up; resets in {wait:.0f} s",
        status=429,
        retry_after=wait,
    )
