"""What the tray needs from the proxy service (`proxy.service.ProxyService` provides it).

A structural type, so the tray and its tests depend on the shape, not on the proxy package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from proxy.core.status import Snapshot


class ProxyServiceLike(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def settings_url(self) -> str: ...

    @property
    def access_token(self) -> str | None: ...

    @property
    def log_path(self) -> Path | None: ...

    def start(self) -> None: ...

    def stop(self, grace: float = 5.0) -> None: ...

    def restart(self) -> None: ...

    def snapshot(self) -> Snapshot: ...

    def pin(self, name: str | None) -> None: ...

    def pause(self, paused: bool) -> None: ...

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None: ...
