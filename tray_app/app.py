"""`ccf` with no command: the tray app, or the headless proxy where no tray can be shown."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from proxy import PRODUCT_NAME
from proxy.config_file import config_path, load_config, save_config
from proxy.core.config import Config
from proxy.core.errors import CcfError, TrayUnavailable
from proxy.foreground import announce_move, say, serve_until_stopped
from proxy.keys import SystemKeyring
from proxy.running import ProxySetup, RunningProxy
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
        if can_show_tray(wait=tray_host_wait(env)):
            service = ProxyService(
                path, env, SystemKeyring(), log_path=log_file, secret_sink=register_secret
            )
            try:
                login = autostart.for_platform(login_command(explicit_config))
                return run_in_tray(service, lock, login, open_at_start=is_first)
            except TrayUnavailable as exc:
                log.warning("no tray (%s); running headless", exc)
        return run_headless(path, env, lock)
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
    def open_settings() -> object:
        return open_settings_for_service(service)

    def open_settings_at_start() -> None:
        open_settings()

    return run_tray(
        service,
        open_settings=open_settings,
        autostart=login,
        instance=lock,
        on_started=open_settings_at_start if open_at_start else None,
    )


def run_headless(path: Path, env: Mapping[str, str], lock: InstanceLock) -> int:
    """The proxy alone, as `ccf serve` runs it, until SIGINT/SIGTERM; prints where it
    listens and its settings page, and tells a second launch where that is."""
    setup = ProxySetup(
        path, env, SystemKeyring(), secret_sink=register_secret, announce=announce_move
    )
    try:
        config = load_config(path, env)
        asyncio.run(serve_until_stopped(setup, config, lambda proxy: published(proxy, lock)))
    except CcfError as exc:
        print(f"ccf: {exc}", flush=True)
        return 2
    return 0


def published(proxy: RunningProxy, lock: InstanceLock) -> None:
    settings_url = f"{proxy.url}/_ccf/"
    lock.publish(InstanceInfo(pid=os.getpid(), url=proxy.url, settings_url=settings_url))
    say(f"{PRODUCT_NAME} is listening on {proxy.url} (no tray: running headless)")
    say(f"Settings: {settings_url} — open it signed in with `ccf settings`")
