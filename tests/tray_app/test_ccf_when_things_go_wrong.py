"""The real `ccf` when something goes wrong, in a real X session: the port taken at start
is fixed from the settings window (no YAML edited by hand), a second Settings… brings the
window forward, and a desktop without a tray host gets the settings window, not silence.
Screenshots: test-artifacts/tray/<test>/.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import yaml

from tests.fakes import FakesInThread
from tests.polling import TimedOut, wait_for
from tests.tray_app.desktop_session import Desktop
from tests.tray_app.test_ccf_gui import App, free_port, notified
from tests.tray_app.tray_gui import TrayScreen

pytestmark = [pytest.mark.gui, pytest.mark.slow]
WINDOW = "Fallback .* Settings"  # the settings window's title, as an xdotool pattern


@pytest.fixture
def fakes() -> Iterator[FakesInThread]:
    threaded = FakesInThread()
    yield threaded
    threaded.close()


def settings_windows(desktop: Desktop) -> list[str]:
    out = desktop.run(["xdotool", "search", "--onlyvisible", "--name", WINDOW], check=False)
    return out.stdout.split()


ACCENT = (184, 87, 47)  # the "Add endpoint" button: the page is signed in and drawn
INFO_BANNER = (234, 241, 251)  # the no-tray banner's background (blue at 10 % on white)
PORT_BANNER = (249, 235, 234)  # the port banner's background (red at 10 % on white)


def shows(desktop: Desktop, rgb: tuple[int, int, int], tolerance: int = 6) -> bool:
    colours = desktop.screenshot().getcolors(1 << 24) or []
    return any(
        n > 200 and all(abs(c[i] - rgb[i]) <= tolerance for i in range(3)) for n, c in colours
    )


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def type_port(desktop: Desktop, window: str, port: int) -> None:
    """The page opens at General with the port focused: select it, type, press Enter."""
    desktop.xdotool("windowfocus", "--sync", window)
    desktop.xdotool("key", "--delay", "40", "ctrl+a")
    desktop.xdotool("type", "--delay", "40", str(port))
    desktop.xdotool("key", "Return")


@pytest.mark.timeout(180)
def test_port_in_use_is_fixed_from_the_settings_window(desktop: Desktop, fakes) -> None:
    app = App(desktop, fakes)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", app.port))
        taken.listen()
        tray = app.start()
        try:
            screen = TrayScreen(desktop)
            screen.wait_colour("red", timeout=20, shot="01-red-port-in-use")
            wait_for(lambda: notified(desktop, "is not running"), 5, "the port notice")
            screen.open_menu(shot="02-menu-port-in-use")
            screen.keys("Down", "Return")  # the first sensitive line: Choose another port…
            window = wait_for(lambda: settings_windows(desktop), 40, "the settings window")[0]
            wait_for(lambda: shows(desktop, PORT_BANNER), 20, "the port banner", interval=0.3)
            desktop.screenshot("03-settings-at-general")
            new_port = free_port()
            for _ in range(3):  # focus may still be moving to the port field when keys arrive
                type_port(desktop, window, new_port)
                try:
                    wait_for(lambda: listening(new_port), 8, f"ccf on port {new_port}")
                    break
                except TimedOut:
                    desktop.screenshot("04-retry-typing")
            screen.wait_colour("green", timeout=10, shot="05-green-fixed")
            desktop.screenshot("06-settings-after-fix")
            data = yaml.safe_load(app.config.read_text())
            assert data["listen"]["port"] == new_port
            assert data["endpoints"][0]["name"] == "primary"
            app.url = f"http://127.0.0.1:{new_port}"
            assert app.request() == (200, "primary")

            # Settings… again: the open window comes forward, no second one.
            screen.open_menu()
            screen.keys(*["Down"] * 4, "Return")  # Endpoint, Pause, Copy, Settings…
            desktop.screenshot("07-settings-again")
            assert len(settings_windows(desktop)) == 1
        finally:
            tray.close()


@pytest.mark.timeout(120)
def test_without_a_tray_host_the_settings_window_opens(bare_desktop: Desktop, fakes) -> None:
    app = App(bare_desktop, fakes)
    tray = app.start()
    try:
        wait_for(app.listening, 30, "ccf to listen")
        wait_for(lambda: settings_windows(bare_desktop), 40, "the settings window")
        wait_for(lambda: shows(bare_desktop, ACCENT), 20, "the page drawn", interval=0.3)
        assert shows(bare_desktop, INFO_BANNER)  # "No tray icon on this desktop" and how
        bare_desktop.screenshot("01-no-tray-settings-window")
        assert app.request() == (200, "primary")
        tray.proc.terminate()
        assert tray.finish() == 0
        assert not settings_windows(bare_desktop)
    finally:
        tray.close()
