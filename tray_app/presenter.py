"""Keeps a pystray icon in step with state snapshots: image, tooltip, menu, notifications.

`TrayPresenter.show` turns each snapshot into a `TrayView` (tray_app.menu_model) and
touches the native icon only for what changed; on pystray's GTK back-ends every setter is
marshalled onto the GTK main loop, so `show` may be called from any thread.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from proxy.core.status import Snapshot
from tray_app import icons, menu_model
from tray_app.autostart import Autostart
from tray_app.logs import redact
from tray_app.menu_model import Command, Entry, IconColour, Item, TrayView
from tray_app.notify_policy import NotifyState, decide

log = logging.getLogger(__name__)

DEFAULT_SIZES = {"gtk": 48, "appindicator": 32, "win32": 32, "darwin": 22}


def to_pystray_menu(
    pystray: Any, entries: tuple[Entry, ...], run: Callable[[Command], None]
) -> Any:
    """A `pystray.Menu` for the menu model; activating an item calls `run(command)`."""

    def convert(entry: Entry) -> Any:
        if not isinstance(entry, Item):
            return pystray.Menu.SEPARATOR
        action: Any = None
        if entry.submenu:
            action = pystray.Menu(*(convert(child) for child in entry.submenu))
        elif entry.command is not None:
            command = entry.command
            action = lambda _icon, _item: run(command)  # noqa: E731
        checked = None if entry.checked is None else (lambda _item, v=entry.checked: v)
        return pystray.MenuItem(
            entry.text,
            action,
            checked=checked,
            radio=entry.radio,
            default=entry.default,
            enabled=entry.enabled and (action is not None),
        )

    return pystray.Menu(*(convert(entry) for entry in entries))


def mac_dark_menu_bar() -> bool:
    try:
        out = subprocess.run(
            ["defaults", "read", "-g", "AppleInterfaceStyle"],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return True
    return out.stdout.strip().lower() == "dark"


class TrayPresenter:
    """Keeps a pystray icon in step with snapshots; thread-safe."""

    def __init__(
        self,
        icon: Any,
        pystray: Any,
        run_command: Callable[[Command], None],
        *,
        autostart: Autostart | None,
        backend: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.icon = icon
        self._pystray = pystray
        self._run_command = run_command
        self._autostart = autostart
        self._backend = backend
        self._clock = clock
        self._lock = threading.RLock()
        self._view: TrayView | None = None
        self._notify_state = NotifyState()
        self._autostart_enabled = self._read_autostart()
        self._size = DEFAULT_SIZES.get(backend, 32)
        self._dark = backend == "darwin" and mac_dark_menu_bar()

    def _read_autostart(self) -> bool:
        try:
            return self._autostart is not None and self._autostart.is_enabled()
        except OSError:
            log.exception("cannot read the start-at-login state")
            return False

    def image(self, colour: IconColour) -> Image.Image:
        return icons.tray_image(colour, self._size, sys.platform, self._dark)

    def show(self, snap: Snapshot) -> None:
        with self._lock:
            view = menu_model.view(
                snap,
                autostart_enabled=self._autostart_enabled,
                autostart_available=self._autostart is not None,
                tz=datetime.now().astimezone().tzinfo or UTC,
            )
            old, self._view = self._view, view
            if old is None or old.colour != view.colour:
                self.icon.icon = self.image(view.colour)
            if old is None or old.tooltip != view.tooltip:
                self.icon.title = view.tooltip
                self._set_gtk_tooltip(view.tooltip)
            if old is None or old.menu != view.menu:
                self.icon.menu = to_pystray_menu(self._pystray, view.menu, self._run_command)
            self._notify_state, notice = decide(self._notify_state, snap, self._clock())
        if notice is not None:
            self.notify(notice.title, notice.message)

    def command_done(self) -> None:
        """Re-read local state a command may have changed (start at login)."""
        with self._lock:
            self._autostart_enabled = self._read_autostart()

    def resize(self, size: int) -> None:
        """The tray host now draws the icon at `size` px: switch to the best rendering."""
        with self._lock:
            if size <= 0 or icons.best_size(size) == icons.best_size(self._size):
                return
            self._size = size
            if self._view is not None:
                self.icon.icon = self.image(self._view.colour)

    def notify(self, title: str, message: str) -> None:
        """Show a notification (secrets masked); failures are logged, never raised."""
        try:
            self.icon.notify(redact(message), redact(title))
        except Exception:
            log.warning("could not show the notification %r", title, exc_info=True)

    def _set_gtk_tooltip(self, text: str) -> None:
        status_icon = getattr(self.icon, "_status_icon", None)  # pystray's gtk back-end
        if status_icon is None:
            return
        from gi.repository import GLib

        GLib.idle_add(lambda: status_icon.set_tooltip_text(text) and False)

    def watch_gtk_size(self) -> None:
        status_icon = getattr(self.icon, "_status_icon", None)
        if status_icon is None:
            return

        def on_size_changed(_icon: Any, size: int) -> bool:
            self.resize(size)
            return False

        status_icon.connect("size-changed", on_size_changed)
