"""Is there somewhere to show a tray icon, and which pystray back-end should show it?

Linux has two kinds of tray host: StatusNotifierItem (KDE, GNOME with the AppIndicator
extension, most Wayland panels), served by pystray's `appindicator` back-end, and the
older XEmbed system tray (XFCE, MATE, trayer, …), served by its `gtk` back-end (which,
unlike appindicator, also shows a tooltip). pystray's `xorg` back-end has no menu and is
never used. Probing never imports pystray: that import fails without a display.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)

SNI_WATCHER = "org.kde.StatusNotifierWatcher"


def _gi_version_available(namespace: str, version: str) -> bool:
    try:
        import gi

        gi.require_version(namespace, version)
    except (ImportError, ValueError):
        return False
    return True


def _appindicator_available() -> bool:
    return _gi_version_available("AyatanaAppIndicator3", "0.1") or _gi_version_available(
        "AppIndicator3", "0.1"
    )


def has_xembed_tray(display_name: str) -> bool:
    """Whether an XEmbed system tray owns `_NET_SYSTEM_TRAY_S<screen>` on the X display."""
    try:
        from Xlib import X
        from Xlib import display as xdisplay

        display = xdisplay.Display(display_name)
    except Exception as exc:  # no python-xlib, bad display name, refused connection
        log.debug("no X display %r: %s", display_name, exc)
        return False
    try:
        atom = display.intern_atom(f"_NET_SYSTEM_TRAY_S{display.get_default_screen()}")
        return bool(display.get_selection_owner(atom) != X.NONE)
    finally:
        display.close()


def has_sni_watcher(env: Mapping[str, str]) -> bool:
    """Whether a StatusNotifierItem host runs on the session bus (never starts a bus)."""
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if not env.get("DBUS_SESSION_BUS_ADDRESS") and not (
        runtime and os.path.exists(os.path.join(runtime, "bus"))
    ):
        return False
    try:
        import gi

        gi.require_version("Gio", "2.0")
        from gi.repository import Gio, GLib

        bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
        reply = bus.call_sync(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "NameHasOwner",
            GLib.Variant("(s)", (SNI_WATCHER,)),
            GLib.VariantType("(b)"),
            Gio.DBusCallFlags.NONE,
            1000,
            None,
        )
    except Exception as exc:  # no PyGObject, no bus, timeout
        log.debug("no StatusNotifierWatcher: %s", exc)
        return False
    return bool(reply.unpack()[0])


def choose_backend(
    env: Mapping[str, str] | None = None, platform: str = sys.platform
) -> str | None:
    """The pystray back-end to use now, or None when no tray can be shown."""
    env = os.environ if env is None else env
    if platform in ("darwin", "win32"):
        return platform
    return env.get("PYSTRAY_BACKEND") or _linux_backend(env)


def _linux_backend(env: Mapping[str, str]) -> str | None:
    display = env.get("DISPLAY", "")
    if not (display or env.get("WAYLAND_DISPLAY")) or not _gi_version_available("Gtk", "3.0"):
        return None
    if _appindicator_available() and has_sni_watcher(env):
        return "appindicator"
    return "gtk" if display and has_xembed_tray(display) else None


def can_show_tray(wait: float = 0.0, interval: float = 0.5) -> bool:
    """Whether a tray icon can be shown, waiting up to `wait` seconds for a tray host
    (at login the panel may start after this app)."""
    deadline = time.monotonic() + wait
    while True:
        if choose_backend() is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
