"""Runs the real tray (`run_tray`) over a scripted service, for GUI tests.

    python -m tests.tray_app.tray_driver

stdin, one per line: a health state for the fake endpoints (`ok`, `degraded`, `down`,
`error`, `config`: serving, but the config file has an error). stdout, one JSON object per line: `{"event": "started"}`, `{"event": "call",
"call": [...]}` for every service command, `{"event": "settings"}`, `{"event": "exit",
"code": N}`. Pin and pause change the snapshot the way the real service would.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from proxy.core.health import Health
from proxy.core.status import Snapshot, snapshot, stopped
from tests.tray_app.tray_fakes import PORT_IN_USE, URL, config
from tray_app import autostart, logs
from tray_app.tray import run_tray

_print_lock = threading.Lock()
BAD_FILE = (
    "/home/me/.config/claude-code-fallback/config.yaml line 7: endpoints[1].auth: 'token' is "
    "not allowed; use one of client, x-api-key, bearer (still running with the last good settings)"
)


def emit(event: str, **fields: object) -> None:
    with _print_lock:
        print(json.dumps({"event": event, **fields}), flush=True)


def health_for(state: str, now: float) -> dict[str, Health]:
    def cool(error: str) -> Health:
        return Health(
            failures=1, cooling_until=now + 180, last_error=error, last_status=529, failed_at=now
        )

    if state == "degraded":
        return {"anthropic": cool("HTTP 529 overloaded")}
    if state == "down":
        return {n: cool("HTTP 529 overloaded") for n in ("anthropic", "openrouter", "bedrock")}
    return {}


class ScriptedService:
    url = URL
    settings_url = URL + "/_ccf/"
    access_token: str | None = "tok-123"

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._lock = threading.Lock()
        self._config = config()
        self._state = "stopped"
        self._subscribers: list[Callable[[Snapshot], None]] = []

    def _call(self, *call: object) -> None:
        emit("call", call=list(call))

    def start(self) -> None:
        self._call("start")
        self.set_state("ok")

    def stop(self, grace: float = 5.0) -> None:
        self._call("stop", grace)

    def restart(self) -> None:
        self._call("restart")
        self.set_state("ok")

    def snapshot(self) -> Snapshot:
        with self._lock:
            if self._state == "error":
                return stopped(URL, PORT_IN_USE)
            if self._state == "stopped":
                return stopped(URL)
            now = time.monotonic()
            problem = BAD_FILE if self._state == "config" else ""
            health = health_for(self._state, now)
            # bedrock has no key: its Endpoint row reads "no key", not "ready"
            keyless = frozenset({"bedrock"})
            return snapshot(self._config, health, now, URL, problem=problem, keyless=keyless)

    def _routing(self, **changes: object) -> None:
        with self._lock:
            routing = replace(self._config.routing, **changes)  # type: ignore[arg-type]
            self._config = replace(self._config, routing=routing)
        self._publish()

    def pin(self, name: str | None) -> None:
        self._call("pin", name)
        self._routing(pinned=name)

    def pause(self, paused: bool) -> None:
        self._call("pause", paused)
        self._routing(paused=paused)

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        self._subscribers.append(callback)

    def set_state(self, state: str) -> None:
        with self._lock:
            self._state = state
        self._publish()

    def _publish(self) -> None:
        snap = self.snapshot()
        for callback in self._subscribers:
            callback(snap)


def read_commands(service: ScriptedService) -> None:
    for line in sys.stdin:
        if line.strip():
            service.set_state(line.strip())


def main() -> int:
    log_dir = Path(os.environ["XDG_STATE_HOME"]) / "ccf-logs"
    log_path = logs.setup_logging(log_dir, console=True)
    service = ScriptedService(log_path)
    threading.Thread(target=read_commands, args=(service,), daemon=True).start()

    def open_settings(section: str = "") -> None:
        emit("settings", section=section)

    code = run_tray(
        service,
        open_settings=open_settings,
        autostart=autostart.for_platform(["ccf"]),
        on_started=lambda: emit("started"),
        poll_interval=0.5,
    )
    emit("exit", code=code)
    return code


if __name__ == "__main__":
    sys.exit(main())
