"""The running tray: pystray's loop on the main thread, snapshots in, commands out.

The tray owns the main thread (`run_tray` blocks in pystray's loop). Snapshots arrive
from the proxy thread (`service.subscribe`) and from a poll every `poll_interval` seconds
(so cooldown timers and their expiry show) and go to `tray_app.presenter.TrayPresenter`;
menu commands go to `tray_app.actions.Actions`. Quit (or SIGTERM/SIGINT/SIGHUP) stops the
proxy with a grace period for streams in flight, closes settings windows and returns 0.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from proxy import APP_SLUG
from proxy.core.errors import TrayUnavailable
from proxy.core.status import Snapshot
from tray_app import desktop, icons
from tray_app.actions import Actions
from tray_app.autostart import Autostart
from tray_app.autostart import for_platform as autostart_for_platform
from tray_app.contract import ProxyServiceLike
from tray_app.menu_model import (
    APP_NAME,
    Command,
    OpenLogs,
    OpenSettings,
    RestartProxy,
)
from tray_app.presenter import DEFAULT_SIZES, TrayPresenter
from tray_app.single_instance import InstanceInfo, InstanceLock
from tray_app.tray_host import choose_backend

__all__ = ["run_tray"]

log = logging.getLogger(__name__)

ICON_NAME = APP_SLUG
SLOW_COMMANDS = (OpenSettings, OpenLogs, RestartProxy)


def import_pystray(backend: str) -> Any:
    """Import pystray with `backend` (pystray picks its back-end, and GTK opens the display,
    at import time).

    GTK is told not to probe OpenGL while it opens the display: the tray draws no GL, and
    the probe maps the GL driver (with Mesa, libLLVM: about 45 MB of the tray's RSS). Both
    variables are restored afterwards, so child processes (the settings window) are not
    affected.
    """
    overrides = {"PYSTRAY_BACKEND": backend, "GDK_GL": "disable"}
    saved = {name: os.environ.get(name) for name in overrides}
    for name, value in overrides.items():
        os.environ.setdefault(name, value)
    try:
        import pystray
    except Exception as exc:  # ImportError, or Xlib/Gtk errors raised while importing
        raise TrayUnavailable(f"pystray cannot show an icon here: {exc}") from exc
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
    return pystray


class TrayApp:
    """The running tray: presenter, poller, commands, graceful quit."""

    def __init__(
        self,
        service: ProxyServiceLike,
        pystray: Any,
        backend: str,
        *,
        open_settings: Callable[[str], object],
        autostart: Autostart | None,
        poll_interval: float,
        stop_grace: float,
        start_service: bool,
        on_started: Callable[[], None] | None,
        instance: InstanceLock | None = None,
        settings_at_start: str | None = None,
    ) -> None:
        self.service = service
        self._instance = instance
        self._poll_interval = poll_interval
        self._stop_grace = stop_grace
        self._start_service = start_service
        self._on_started = on_started
        self._settings_at_start = settings_at_start
        self._stopping = threading.Event()
        initial = icons.tray_image("grey", DEFAULT_SIZES.get(backend, 32))
        self.icon = pystray.Icon(ICON_NAME, icon=initial, title=APP_NAME)
        self.presenter = TrayPresenter(
            self.icon, pystray, self.run_command, autostart=autostart, backend=backend
        )
        use_gtk = backend in ("gtk", "appindicator")
        self.actions = Actions(
            service=service,
            open_settings=open_settings,
            quit=self.quit,
            notify=self.presenter.notify,
            autostart=autostart,
            copy_text=lambda text: desktop.copy_text(text, use_gtk=use_gtk),
        )

    def run_command(self, command: Command) -> None:
        """Run a menu command. Slow ones (a settings window can take seconds to appear, a
        restart waits for the proxy) run on a worker thread so the icon stays live;
        the rest run here, on the GTK main thread (the GTK clipboard needs it)."""
        if isinstance(command, SLOW_COMMANDS):
            threading.Thread(
                target=self._run_now, args=(command,), name="ccf-command", daemon=True
            ).start()
        else:
            self._run_now(command)

    def _run_now(self, command: Command) -> None:
        self.actions.run(command)
        self.presenter.command_done()
        self.refresh()

    def refresh(self, snap: Snapshot | None = None) -> None:
        if self._stopping.is_set():
            return
        try:
            self.presenter.show(snap if snap is not None else self.service.snapshot())
        except Exception:
            log.exception("could not update the tray icon")

    def _setup(self, icon: Any) -> None:
        """Runs in pystray's setup thread once the icon loop is ready."""
        self.refresh()
        icon.visible = True
        self.presenter.watch_gtk_size()
        self._install_signal_handlers()
        if self._start_service:
            self.service.start()
        self.service.subscribe(self.refresh)
        self.refresh()
        if self._instance is not None and self._instance.held:
            service = self.service
            self._instance.publish(InstanceInfo(os.getpid(), service.url, service.settings_url))
        if self._settings_at_start is not None:
            self.run_command(OpenSettings(self._settings_at_start))
        if self._on_started is not None:
            self._on_started()
        threading.Thread(target=self._poll, name="ccf-tray-poll", daemon=True).start()

    def _poll(self) -> None:
        while not self._stopping.wait(self._poll_interval):
            self.refresh()
            if self._instance is not None and self._instance.take_settings_request():
                log.info("another launch asked for the settings")
                self.run_command(OpenSettings())

    def _install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT/SIGHUP quit gracefully (GTK loop; pystray resets SIGINT itself)."""
        if not hasattr(self.icon, "_loop"):
            return
        import signal

        from gi.repository import GLib

        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> bool:
        log.info("signal %d: quitting", signum)
        self.quit()
        return False

    def quit(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        threading.Thread(target=self._shutdown, name="ccf-quit").start()

    def _shutdown(self) -> None:
        try:
            self.icon.visible = False
            self.service.stop(grace=self._stop_grace)
            self.actions.close_children()
        except Exception:
            log.exception("error while quitting")
        finally:
            self.icon.stop()

    def run(self) -> int:
        try:
            self.icon.run(setup=self._setup)
        except Exception:
            if not self._stopping.is_set():
                raise
            # pystray's GTK back-ends call the notification service while finishing;
            # without one that raises after the loop has already ended.
            log.warning("ignored an error while the tray loop finished", exc_info=True)
        if not self._stopping.is_set():  # the loop ended without Quit
            self._stopping.set()
            self.service.stop(grace=self._stop_grace)
            self.actions.close_children()
        return 0


def run_tray(
    service: ProxyServiceLike,
    *,
    open_settings: Callable[[str], object] | None = None,
    autostart: Autostart | None = None,
    start_service: bool = True,
    on_started: Callable[[], None] | None = None,
    instance: InstanceLock | None = None,
    poll_interval: float = 0.5,
    stop_grace: float = 5.0,
    settings_at_start: str | None = None,
) -> int:
    """Show the tray icon and run until Quit (or SIGTERM/SIGINT/SIGHUP); returns 0.

    Blocks the calling thread, which must be the main thread. With `start_service` the
    service is started once the icon is up. Then, if `instance` is a held lock, its note
    is published (pid, URL, settings URL) and later launches' requests to open the
    settings are served; then the settings open at `settings_at_start` (a section, "" for the
    page's own choice) if it is given, and `on_started` is called. Raises `TrayUnavailable` before
    starting anything if no tray can be shown, so the caller can run headless instead.

    `open_settings(section)` defaults to opening `service.settings_url` in the browser; `autostart`
    defaults to this platform's start-at-login back-end (`autostart.for_platform`).
    """
    backend = choose_backend()
    if backend is None:
        raise TrayUnavailable("no display or no system tray to show an icon in")
    pystray = import_pystray(backend)
    opener = open_settings or (lambda _section: desktop.open_url(service.settings_url))
    if autostart is None:
        autostart = autostart_for_platform(icon=str(icons.app_icon_path()))
    app = TrayApp(
        service,
        pystray,
        backend,
        open_settings=opener,
        autostart=autostart,
        poll_interval=poll_interval,
        stop_grace=stop_grace,
        start_service=start_service,
        on_started=on_started,
        instance=instance,
        settings_at_start=settings_at_start,
    )
    return app.run()
