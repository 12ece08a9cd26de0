"""A fake proxy service with the `ProxyService` shape, and snapshots made by the real core."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from proxy.core.config import Config, Endpoint, Routing
from proxy.core.health import Health
from proxy.core.status import Snapshot, snapshot, stopped

URL = "http://127.0.0.1:8765"
NOW = 1000.0

PORT_IN_USE = (
    "Port 8765 on 127.0.0.1 is in use by another program. "
    "Choose another port in Settings → General."
)


def config(
    names: tuple[str, ...] = ("anthropic", "openrouter", "bedrock"),
    *,
    pinned: str | None = None,
    paused: bool = False,
    disabled: tuple[str, ...] = (),
) -> Config:
    endpoints = tuple(
        Endpoint(name=n, base_url=f"https://{n}.example", enabled=n not in disabled) for n in names
    )
    return Config(endpoints=endpoints, routing=Routing(pinned=pinned, paused=paused))


def cooling(seconds: float, status: int = 529, failures: int = 1) -> Health:
    return Health(
        failures=failures,
        cooling_until=NOW + seconds,
        last_error=f"HTTP {status}",
        last_status=status,
        failed_at=NOW,
    )


def auth_error() -> Health:
    return Health(
        failures=1,
        cooling_until=NOW + 1800,
        auth_error=True,
        last_error="HTTP 401",
        last_status=401,
        failed_at=NOW,
    )


def snap(
    health: Mapping[str, Health] | None = None,
    *,
    now: float = NOW,
    **config_args: object,
) -> Snapshot:
    return snapshot(config(**config_args), dict(health or {}), now, URL)  # type: ignore[arg-type]


OK = snap()
DEGRADED = snap({"anthropic": cooling(180, 429)})
DOWN = snap({n: cooling(30) for n in ("anthropic", "openrouter", "bedrock")})
PAUSED = snap(paused=True)
ERROR = stopped(URL, PORT_IN_USE)
STOPPED = stopped(URL)


@dataclass
class FakeService:
    """Records commands; a test sets the snapshot it reports."""

    current: Snapshot = OK
    url: str = URL
    settings_url: str = URL + "/_ccf/#admin=secret-admin-token"
    access_token: str | None = None
    log_path: Path | None = None
    calls: list[tuple[object, ...]] = field(default_factory=list)
    subscribers: list[Callable[[Snapshot], None]] = field(default_factory=list)
    stopped_event: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.calls.append(("start",))

    def stop(self, grace: float = 5.0) -> None:
        self.calls.append(("stop", grace))
        self.stopped_event.set()

    def restart(self) -> None:
        self.calls.append(("restart",))

    def snapshot(self) -> Snapshot:
        return self.current

    def pin(self, name: str | None) -> None:
        self.calls.append(("pin", name))

    def pause(self, paused: bool) -> None:
        self.calls.append(("pause", paused))

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        self.subscribers.append(callback)

    def publish(self, snap: Snapshot) -> None:
        self.current = snap
        for callback in self.subscribers:
            callback(snap)
