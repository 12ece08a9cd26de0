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

from proxy.core.envsnippets import SHELLS, Shell, snippet
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
# Where each snippet goes: the body of the "Copied for …" notice.
_PASTE_HINTS: dict[Shell, str] = {
    "posix": "Paste it into ~/.bashrc or ~/.zshrc (or a terminal), then start Claude Code there.",
    "fish": "Paste it into ~/.config/fish/config.fish, then start Claude Code from fish.",
    "powershell": "Paste it into your $PROFILE (or a PowerShell window), then start Claude Code.",
    "cmd": "Run it in the Command Prompt, then start Claude Code from that window.",
    "settings_json": "Paste it into ~/.claude/settings.json, or let Settings → Claude Code "
    "write it for you.",
}


@dataclass
class Actions:
    service: ProxyServiceLike
    # Opens the settings at a section ("" for the page's own choice); may return a handle on
    # the window (a child process to close at quit; with `show(section)`, to focus it again).
    open_settings: Callable[[str], object]
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
                self.notify(_copied_title(shell), _PASTE_HINTS[shell])
            case OpenSettings(section):
                self._open_settings(section)
            case OpenLogs():
                self._open_logs()
            case SetAutostart(enabled):
                self._set_autostart(enabled)
            case RestartProxy():
                self.service.restart()
            case Quit():
                self.quit()

    def logs_folder(self) -> Path:
        path = self.service.log_path
        return path.parent if path is not None else logs.log_dir()

    def _open_logs(self) -> None:
        folder = self.logs_folder()
        self.open_folder(folder)
        current = self.service.log_path
        where = f"The current log is {current.name} in {folder}." if current else str(folder)
        self.notify("Opened the log folder", where)

    def _show_open_window(self, section: str) -> bool:
        """Bring an open settings window forward instead of stacking another."""
        with self._lock:
            windows = [c for c in self.children if _alive(c) and callable(getattr(c, "show", None))]
        return any(window.show(section) for window in windows)  # type: ignore[attr-defined]

    def _open_settings(self, section: str) -> None:
        if self._show_open_window(section):
            log.info("brought the open settings window forward")
            return
        if self._opening.is_set():
            log.info("the settings window is already opening")
            return
        self._opening.set()
        try:
            handle = self.open_settings(section)
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


def _copied_title(shell: Shell) -> str:
    if shell == "settings_json":
        return "Copied the settings.json block"
    return f"Copied for {_SHELL_LABELS[shell]}"


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
