"""Runs the commands of the tray menu (`tray_app.menu_model.Command`).

Every dependency is passed in, so each command is unit-tested with fakes. A failing
command never takes the tray down: it is logged with its traceback and reported to the
user through `notify`.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from proxy.core.envsnippets import SHELLS, snippet
from proxy.core.errors import DesktopError
from tray_app import desktop, logs
from tray_app.autostart import Autostart
from tray_app.contract import ProxyServiceLike
from tray_app.menu_model import (
    APP_NAME,
    Command,
    CopyEnv,
    OpenLogs,
    OpenSettings,
    Pin,
    Quit,
    RestartProxy,
    SetAutostart,
    SetPaused,
)

log = logging.getLogger(__name__)

_SHELL_LABELS = dict(SHELLS)


@dataclass
class Actions:
    service: ProxyServiceLike
    open_settings: Callable[[], object]  # may return a child process handle to close at quit
    quit: Callable[[], None]
    notify: Callable[[str, str], None]  # (title, message)
    autostart: Autostart | None = None
    copy_text: Callable[[str], None] = desktop.copy_text
    open_folder: Callable[[Path], None] = desktop.open_folder
    children: list[object] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _opening: threading.Event = field(default_factory=threading.Event, repr=False)

    def run(self, command: Command) -> None:
        log.info("menu: %s", command)
        try:
            self._run(command)
        except Exception as exc:
            log.exception("menu command %s failed", command)
            message = str(exc) or type(exc).__name__
            self.notify(APP_NAME, f"{_describe(command)} failed: {message}")

    def _run(self, command: Command) -> None:
        match command:
            case Pin(name):
                self.service.pin(name)
            case SetPaused(paused):
                self.service.pause(paused)
            case CopyEnv(shell):
                self.copy_text(snippet(shell, self.service.url, self.service.access_token))
            case OpenSettings():
                self._open_settings()
            case OpenLogs():
                self.open_folder(self.logs_folder())
            case SetAutostart(enabled):
                self._set_autostart(enabled)
            case RestartProxy():
                self.service.restart()
            case Quit():
                self.quit()

    def logs_folder(self) -> Path:
        path = self.service.log_path
        return path.parent if path is not None else logs.log_dir()

    def _open_settings(self) -> None:
        if self._opening.is_set():
            log.info("the settings window is already opening")
            return
        self._opening.set()
        try:
            handle = self.open_settings()
        finally:
            self._opening.clear()
        with self._lock:
            self.children = [c for c in self.children if _alive(c)]
            if handle is not None:
                self.children.append(handle)

    def _set_autostart(self, enabled: bool) -> None:
        if self.autostart is None:
            raise DesktopError("start at login is not supported on this system")
        if enabled:
            self.autostart.enable()
        else:
            self.autostart.disable()
        log.info("start at login %s (%s)", "on" if enabled else "off", self.autostart.location)

    def close_children(self, timeout: float = 3.0) -> None:
        """Close the settings windows this tray opened (child processes), also one that
        is still starting up (not handed back by `open_settings` yet)."""
        with self._lock:
            children, self.children = self.children, []
        children += [c for c in multiprocessing.active_children() if c not in children]
        for child in children:
            if not _alive(child):
                continue
            for method in ("terminate", "close"):
                stop = getattr(child, method, None)
                if callable(stop):
                    stop()
                    break
            join = getattr(child, "join", None)
            if callable(join):
                join(timeout)
            kill = getattr(child, "kill", None)
            if _alive(child) and callable(kill) and callable(join):
                kill()
                join(timeout)


def _alive(child: object) -> bool:
    is_alive = getattr(child, "is_alive", None)
    return bool(is_alive()) if callable(is_alive) else True


_FIXED_DESCRIPTIONS: dict[type, str] = {
    OpenSettings: "Opening settings",
    OpenLogs: "Opening the log folder",
    RestartProxy: "Restarting the proxy",
    Quit: "Quitting",
}


def _describe(command: Command) -> str:
    match command:
        case CopyEnv(shell):
            return f"Copying the {_SHELL_LABELS[shell]} environment variables"
        case Pin(name):
            return f"Pinning {name}" if name else "Switching to automatic"
        case SetPaused(paused):
            return "Pausing failover" if paused else "Resuming failover"
        case SetAutostart(enabled):
            return "Turning start at login " + ("on" if enabled else "off")
    return _FIXED_DESCRIPTIONS.get(type(command), type(command).__name__)
