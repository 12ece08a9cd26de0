"""`ccf` with no command: the tray app, or the headless proxy where no tray can be shown."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from proxy import PRODUCT_NAME
from proxy.config_file import config_path, save_config
from proxy.core.config import Config
from proxy.core.errors import TrayUnavailable
from proxy.keys import SystemKeyring
from proxy.service import ProxyService
from tray_app import autostart
from tray_app.autostart import Autostart
from tray_app.logs import register_secret, setup_logging
from tray_app.settings_cli import open_settings_at, open_settings_for_service
from tray_app.single_instance import InstanceInfo, InstanceLock, hand_over
from tray_app.tray import run_tray
from tray_app.tray_host import can_show_tray

log = logging.getLogger("ccf.app")
TRAY_HOST_WAIT = 5.0  # at login the panel may start a moment after us


def tray_host_wait(env: Mapping[str, str]) -> float:
    """How long to wait for a tray host: only where there is a display to show one on."""
    on_x11_or_wayland = bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    return TRAY_HOST_WAIT if on_x11_or_wayland or sys.platform != "linux" else 0.0


def first_run(path: Path) -> bool:
    """No config yet: write the built-in default, so the settings page has a file to edit."""
    if path.exists():
        return False
    save_config(path, Config())
    log.info("first run: wrote the default config to %s", path)
    return True


def run_app(explicit_config: str | None, env: Mapping[str, str]) -> int:
    log_file = setup_logging()
    lock = InstanceLock()
    if not lock.acquire():
        return hand_over(lock, lambda url: open_settings_at(url, SystemKeyring()))
    try:
        path = config_path(explicit_config, env)
        is_first = first_run(path)
        service = ProxyService(
            path, env, SystemKeyring(), log_path=log_file, secret_sink=register_secret
        )
        if can_show_tray(wait=tray_host_wait(env)):
            try:
                login = autostart.for_platform(login_command(explicit_config))
                return run_in_tray(service, lock, login, open_at_start=is_first)
            except TrayUnavailable as exc:
                log.warning("no tray (%s); running headless", exc)
        return run_headless(service, lock, show_window=tray_host_wait(env) > 0)
    finally:
        lock.release()


def login_command(explicit_config: str | None) -> list[str]:
    """What "Start at login" runs: this app, with the config file it was started with."""
    extra = (
        ["--config", str(Path(explicit_config).expanduser().resolve())] if explicit_config else []
    )
    return [*autostart.launch_command(), *extra]


def run_in_tray(
    service: ProxyService, lock: InstanceLock, login: Autostart | None, open_at_start: bool
) -> int:
    def open_settings(section: str = "") -> object:
        return open_settings_for_service(service, section)

    return run_tray(
        service,
        open_settings=open_settings,
        autostart=login,
        instance=lock,
        settings_at_start="" if open_at_start else None,
    )


def run_headless(service: ProxyService, lock: InstanceLock, show_window: bool = False) -> int:
    """The proxy alone until SIGINT/SIGTERM; prints where it listens and its settings page.

    With `show_window` (a display, but no tray host to show the icon in) the settings
    window opens with a note on how to get the icon, so the user is not left with nothing.
    """
    service.start()
    snapshot = service.snapshot()
    if snapshot.overall == "error" and not show_window:
        print(f"ccf: {snapshot.problem}", flush=True)
        return 2
    lock.publish(InstanceInfo(pid=os.getpid(), url=service.url, settings_url=service.settings_url))
    print(f"{PRODUCT_NAME} is listening on {service.url} (no tray: running headless)")
    print(f"Settings: {service.settings_url} — open it signed in with `ccf settings`", flush=True)
    stop = stop_on_signal()
    window = open_window_without_tray(service) if show_window else None
    while not stop.wait(1.0):
        pass
    service.stop()
    terminate = getattr(window, "terminate", None)
    if callable(terminate):
        terminate()
    return 0


def open_window_without_tray(service: ProxyService) -> object:
    try:
        return open_settings_for_service(service, "notray")
    except Exception:
        log.exception("could not open the settings window")
        return None


def stop_on_signal() -> threading.Event:
    """An event that SIGINT or SIGTERM sets."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
