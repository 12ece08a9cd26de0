"""Is there a tray to show an icon in? Environment logic, then real X sessions."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from proxy.core.errors import TrayUnavailable
from tests.polling import wait_for
from tests.tray_app.desktop_session import Desktop
from tray_app import tray_host
from tray_app.tray import run_tray

ROOT = Path(__file__).resolve().parents[2]


def test_no_display_means_no_tray() -> None:
    assert tray_host.choose_backend({"PATH": "/usr/bin"}, platform="linux") is None


def test_macos_and_windows_always_have_one() -> None:
    assert tray_host.choose_backend({}, platform="darwin") == "darwin"
    assert tray_host.choose_backend({}, platform="win32") == "win32"


def test_forced_backend_is_respected() -> None:
    env = {"PYSTRAY_BACKEND": "gtk"}
    assert tray_host.choose_backend(env, platform="linux") == "gtk"


# python-xlib leaves the socket of a failed connection for the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_unreachable_display_means_no_tray() -> None:
    assert not tray_host.has_xembed_tray(":4242")
    assert tray_host.choose_backend({"DISPLAY": ":4242"}, platform="linux") is None


def test_no_session_bus_means_no_status_notifier() -> None:
    assert not tray_host.has_sni_watcher({"XDG_RUNTIME_DIR": "/nonexistent"})


def test_can_show_tray_without_display(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "PYSTRAY_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    if sys.platform.startswith("linux"):
        started = time.monotonic()
        assert tray_host.can_show_tray(wait=0.3, interval=0.1) is False
        assert time.monotonic() - started >= 0.3


def test_run_tray_without_display_raises_before_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux display logic")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "PYSTRAY_BACKEND"):
        monkeypatch.delenv(name, raising=False)

    class MustNotStart:
        def start(self) -> None:
            raise AssertionError("started without a tray")

    with pytest.raises(TrayUnavailable, match="no display"):
        run_tray(MustNotStart())  # type: ignore[arg-type]


PROBE = "from tray_app.tray_host import choose_backend; print(choose_backend())"


def probe(desktop: Desktop, code: str = PROBE) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        env=desktop.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.gui
@pytest.mark.timeout(60)
def test_xembed_tray_host_selects_gtk(desktop: Desktop) -> None:
    assert probe(desktop) == "gtk"


@pytest.mark.gui
@pytest.mark.timeout(60)
def test_display_without_tray_host_means_headless(bare_desktop: Desktop) -> None:
    assert probe(bare_desktop) == "None"


@pytest.mark.gui
@pytest.mark.timeout(60)
def test_can_show_tray_waits_for_a_late_panel(bare_desktop: Desktop) -> None:
    code = (
        "from tray_app.tray_host import can_show_tray; print(can_show_tray(wait=20, interval=0.1))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=bare_desktop.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)  # the panel starts after the app, as at login (not a synchronisation)
        bare_desktop.start_trayer()
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert out.strip() == "True"


@pytest.mark.gui
@pytest.mark.timeout(60)
def test_status_notifier_host_selects_appindicator(desktop: Desktop) -> None:
    watcher = textwrap.dedent(
        """
        import sys
        from gi.repository import Gio, GLib
        loop = GLib.MainLoop()
        def acquired(*_):
            print("owned", flush=True)
        Gio.bus_own_name(Gio.BusType.SESSION, "org.kde.StatusNotifierWatcher",
                         Gio.BusNameOwnerFlags.NONE, None, acquired, lambda *_: loop.quit())
        loop.run()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", watcher], env=desktop.env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert wait_for(proc.stdout.readline, 10, "the fake watcher") == "owned\n"
        assert probe(desktop) == "appindicator"
    finally:
        proc.kill()
        proc.communicate()
