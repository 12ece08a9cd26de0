"""The real tray in a real X session (Xvfb + trayer + dunst), over a scripted service.

The icon's pixels are read from screenshots; the menu is opened and used with xdotool;
the clipboard is read back with xclip. Screenshots go to test-artifacts/tray/<test>/.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy.core.envsnippets import snippet
from tests.polling import wait_for
from tests.tray_app.desktop_session import Desktop
from tests.tray_app.tray_gui import TrayScreen, TrayUnderTest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]


@pytest.fixture
def tray(desktop: Desktop) -> Iterator[TrayUnderTest]:
    proc = TrayUnderTest(
        desktop, [sys.executable, "-m", "tests.tray_app.tray_driver"], ROOT, json_events=True
    )
    try:
        proc.wait_event(lambda e: e["event"] == "started", timeout=20)
        yield proc
    finally:
        proc.close()


def notified(desktop: Desktop, text: str) -> bool:
    desktop.run(["dunstctl", "close-all"], check=False)  # shown notices move to the history
    return text in desktop.dunst_history()


def test_icon_colour_follows_state_and_menu_commands(desktop: Desktop, tray: TrayUnderTest) -> None:
    screen = TrayScreen(desktop)
    screen.wait_colour("green", shot="1-green")

    tray.send("degraded")
    screen.wait_colour("amber", timeout=1.5, shot="2-amber")
    wait_for(lambda: notified(desktop, "Failed over to openrouter"), 5, "the failover notice")

    tray.send("down")
    screen.wait_colour("red", timeout=1.5, shot="3-red")

    menu = screen.open_menu(shot="4-menu-down")
    screen.keys("Down", "Down", "Return")  # Endpoint, Pause failover
    tray.wait_call("pause", True)
    wait_for(lambda: screen.menu_closed(menu), 5, "the menu to close")
    # Paused while the one endpoint it tries fails: the failure stays visible.
    screen.wait_colour("red", timeout=1.5, shot="5-red-paused-while-failing")
    tray.send("ok")
    screen.wait_colour("grey", timeout=1.5, shot="5b-grey-paused")

    screen.open_menu(shot="6-menu-paused")
    screen.keys("Down", "Down", "Return")
    tray.wait_call("pause", False)
    screen.wait_colour("green", timeout=1.5, shot="7-green-resumed")


def test_a_broken_config_file_warns_and_offers_the_fix(
    desktop: Desktop, tray: TrayUnderTest
) -> None:
    screen = TrayScreen(desktop)
    screen.wait_colour("green")
    tray.send("config")
    screen.wait_colour("yellow", timeout=1.5, shot="1-yellow-config-error")
    wait_for(lambda: notified(desktop, "The config file has an error"), 5, "the notice")
    assert "line 7" in desktop.dunst_history()
    screen.open_menu(shot="2-menu-config-error")
    screen.keys("Down", "Return")  # the first sensitive line: Show the config problem…
    assert tray.wait_event(lambda e: e["event"] == "settings")["section"] == "problem"
    tray.send("ok")
    screen.wait_colour("green", timeout=1.5, shot="3-green-fixed")


def test_pin_copy_and_quit_through_the_menu(desktop: Desktop, tray: TrayUnderTest) -> None:
    screen = TrayScreen(desktop)
    screen.wait_colour("green")

    screen.open_menu()
    screen.keys("Down", "Right", "Down", "Down")  # Endpoint ▸ Automatic, anthropic, openrouter
    desktop.screenshot("1-endpoint-submenu")
    screen.keys("Return")
    tray.wait_call("pin", "openrouter")
    screen.wait_colour("blue", timeout=1.5, shot="2-blue-pinned-openrouter")

    screen.open_menu()
    screen.keys("Down", "Right", "Return")  # Endpoint ▸ Automatic
    tray.wait_call("pin", None)
    screen.wait_colour("green", timeout=1.5)

    screen.open_menu()
    screen.keys("Down", "Down", "Down", "Right")  # Copy environment variables ▸ bash / zsh
    desktop.screenshot("3-copy-submenu")
    screen.keys("Return")
    expected = snippet("posix", "http://127.0.0.1:8765", "tok-123")
    wait_for(lambda: desktop.clipboard() == expected, 5, "the bash snippet on the clipboard")
    wait_for(lambda: notified(desktop, "Copied for bash / zsh"), 5, "the copied notice")

    screen.open_menu()
    screen.keys("Down", "Down", "Down", "Right", "Down", "Down", "Down", "Down", "Return")
    wait_for(lambda: '"ANTHROPIC_BASE_URL"' in desktop.clipboard(), 5, "the settings.json block")

    menu = screen.open_menu(shot="4-menu-before-quit")
    screen.click(
        menu.x + menu.width - 30, menu.y + menu.height - 14
    )  # the last item, Quit, by mouse
    tray.wait_call("stop", 5.0)
    assert tray.finish() == 0
    assert '"exit", "code": 0' in "".join(tray.lines)


def test_proxy_error_menu_offers_restart(desktop: Desktop, tray: TrayUnderTest) -> None:
    screen = TrayScreen(desktop)
    screen.wait_colour("green")
    tray.send("error")
    screen.wait_colour("red", timeout=1.5, shot="1-red-error")
    wait_for(lambda: notified(desktop, "Claude Code Fallback is not running"), 5, "the notice")
    screen.open_menu(shot="2-menu-error")
    screen.keys("Down", "Return")  # the first sensitive line: Choose another port…
    assert tray.wait_event(lambda e: e["event"] == "settings")["section"] == "general"
    screen.open_menu()
    screen.keys("Down", "Down", "Return")  # Restart proxy
    tray.wait_call("restart")
    screen.wait_colour("green", timeout=1.5, shot="3-green-restarted")


def test_sigterm_quits_gracefully(desktop: Desktop, tray: TrayUnderTest) -> None:
    TrayScreen(desktop).wait_colour("green")
    tray.proc.terminate()
    tray.wait_call("stop", 5.0)
    assert tray.finish() == 0


def test_start_at_login_from_the_menu(desktop: Desktop, tray: TrayUnderTest) -> None:
    screen = TrayScreen(desktop)
    screen.wait_colour("green")
    entry = desktop.home / "config" / "autostart" / "claude-code-fallback.desktop"
    screen.open_menu()
    screen.keys(*["Down"] * 6, "Return")  # … Settings…, Open logs, Start at login
    wait_for(entry.is_file, 5, "the autostart entry")
    assert "Exec=ccf" in entry.read_text()
    screen.open_menu(shot="1-menu-start-at-login-on")
    screen.keys(*["Down"] * 6, "Return")
    wait_for(lambda: not entry.exists(), 5, "the autostart entry to go")


def test_settings_item(desktop: Desktop, tray: TrayUnderTest) -> None:
    screen = TrayScreen(desktop)
    screen.wait_colour("green")
    screen.open_menu()
    screen.keys("Down", "Down", "Down", "Down", "Return")
    tray.wait_event(lambda e: e["event"] == "settings")


def test_open_logs_says_where(desktop: Desktop, tray: TrayUnderTest) -> None:
    screen = TrayScreen(desktop)
    screen.wait_colour("green")
    screen.open_menu()
    screen.keys(*["Down"] * 5, "Return")  # Endpoint, Pause, Copy, Settings…, Open logs
    wait_for(lambda: notified(desktop, "Opened the log folder"), 5, "the log notice")
