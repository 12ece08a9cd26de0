"""End to end: the real `ccf` (tray + proxy) in a real X session against fake upstreams.

The icon is read from screenshots (green → amber → red → grey → green), the menu is used
with xdotool (Pin, Pause, Copy environment variables, Quit), the clipboard is read back
with xclip, and a second `ccf` must hand over to the running one and exit 0.
Screenshots: test-artifacts/tray/<test>/.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakesInThread, FakeUpstream
from tests.polling import TimedOut, wait_for
from tests.tray_app.desktop_session import Desktop
from tests.tray_app.tray_gui import TrayScreen, TrayUnderTest, toplevel_popups

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.gui]

BROWSER_SCRIPT = """#!/bin/sh
echo "$1" >> "{record}"
"""


def ccf_command() -> list[str]:
    """The venv's `ccf`; CCF_TEST_COMMAND runs these tests against another build of it
    (e.g. the frozen one: CCF_TEST_COMMAND=dist/ccf/ccf)."""
    if os.environ.get("CCF_TEST_COMMAND"):
        return shlex.split(os.environ["CCF_TEST_COMMAND"])
    script = Path(sys.executable).with_name("ccf")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tray_app"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class App:
    """A running `ccf` with its config, fakes and a way to send requests through it."""

    def __init__(self, desktop: Desktop, fakes: FakesInThread) -> None:
        self.desktop = desktop
        self.primary = fakes.start("primary")
        self.fallback = fakes.start("fallback")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = desktop.home / "ccf.yaml"
        self.config.write_text(
            f"""listen: {{host: 127.0.0.1, port: {self.port}}}
endpoints:
  - name: primary
    base_url: {self.primary.url}
    auth: client
  - name: fallback
    base_url: {self.fallback.url}
    auth: client
failover: {{cooldown_seconds: 120, max_cooldown_seconds: 600}}
"""
        )
        self.browser_record = desktop.home / "browser-opened.txt"
        browser = desktop.home / "browser.sh"
        browser.write_text(BROWSER_SCRIPT.format(record=self.browser_record))
        browser.chmod(0o755)
        desktop.env["BROWSER"] = str(browser)
        # The shared environment's `ccf` is installed from another work tree: test this one.
        desktop.env["PYTHONPATH"] = str(ROOT)
        self.tray: TrayUnderTest | None = None

    def start(self) -> TrayUnderTest:
        self.tray = TrayUnderTest(
            self.desktop, [*ccf_command(), "--config", str(self.config)], ROOT, json_events=False
        )
        return self.tray

    def request(self) -> tuple[int, str]:
        body = json.dumps(
            {
                "model": "claude-sonnet-4-5",
                "max_tokens": 16,
                "messages": [{"role": "user", "content": "hi"}],
            }
        ).encode()
        request = urllib.request.Request(
            self.url + "/v1/messages",
            data=body,
            method="POST",
            headers={
                "content-type": "application/json",
                "x-api-key": "sk-test-client-key",
                "anthropic-version": "2023-06-01",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers.get("x-ccf-endpoint", "")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers.get("x-ccf-endpoint", "")

    def listening(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def log_tail(self) -> str:
        logs = sorted((self.desktop.home / "state").glob("**/*.log"))
        tails = [f"{path}:\n{path.read_text()[-3000:]}" for path in logs]
        return "\n".join(tails) + f"\nstderr:\n{self.tray.log() if self.tray else ''}"

    def routing(self) -> dict[str, object]:
        import yaml

        data = yaml.safe_load(self.config.read_text()) or {}
        routing = data.get("routing") or {}
        return dict(routing)


@pytest.fixture
def fakes() -> Iterator[FakesInThread]:
    threaded = FakesInThread()
    yield threaded
    threaded.close()


@pytest.fixture
def app(desktop: Desktop, fakes: FakesInThread) -> Iterator[App]:
    running = App(desktop, fakes)
    try:
        yield running
    finally:
        if running.tray is not None:
            running.tray.close()


def colour_within(screen: TrayScreen, colour: str, seconds: float, shot: str) -> float:
    """Wait for `colour`; returns how long it took (must be under `seconds`)."""
    started = time.monotonic()
    screen.wait_colour(colour, timeout=seconds, shot=shot)
    return time.monotonic() - started


def set_status(fake: FakeUpstream, status: int) -> None:
    if status == 200:
        fake.ok()
    else:
        fake.status(status)


def notified(desktop: Desktop, text: str) -> bool:
    desktop.run(["dunstctl", "close-all"], check=False)
    return text in desktop.dunst_history()


@pytest.mark.timeout(180)
def test_ccf_tray_end_to_end(desktop: Desktop, app: App) -> None:
    tray = app.start()
    screen = TrayScreen(desktop)
    try:
        wait_for(app.listening, 20, f"ccf to listen on {app.url}")
    except TimedOut:
        pytest.fail(f"ccf did not start; its log:\n{app.log_tail()}")
    screen.wait_colour("green", timeout=10, shot="01-green")
    assert app.request() == (200, "primary")

    # Endpoint ▸ fallback pins it: blue (a choice, not an outage), requests go there, the
    # config file keeps it.
    screen.open_menu(shot="02-menu")
    screen.keys("Down", "Right", "Down", "Down")  # Automatic, primary, fallback
    desktop.screenshot("03-endpoint-submenu")
    screen.keys("Return")
    screen.wait_colour("blue", timeout=2, shot="04-blue-pinned")
    assert app.request() == (200, "fallback")
    assert app.routing().get("pinned") == "fallback"
    screen.open_menu()
    screen.keys("Down", "Right", "Return")  # Automatic
    screen.wait_colour("green", timeout=2)
    assert app.routing().get("pinned") is None

    # Copy environment variables ▸ bash / zsh.
    screen.open_menu()
    screen.keys("Down", "Down", "Down", "Right")
    desktop.screenshot("05-copy-submenu")
    screen.keys("Return")
    expected = f"export ANTHROPIC_BASE_URL=http://127.0.0.1:{app.port}\n"
    wait_for(lambda: desktop.clipboard() == expected, 5, "the snippet on the clipboard")

    # Start at login writes the autostart entry that launches this ccf; again removes it.
    entry = desktop.home / "config" / "autostart" / "claude-code-fallback.desktop"
    screen.open_menu()
    screen.keys(*["Down"] * 6, "Return")  # Endpoint, Pause, Copy, Settings…, Open logs, Start…
    wait_for(entry.is_file, 5, "the autostart entry")
    assert "Exec=" in entry.read_text()
    screen.open_menu(shot="05b-menu-start-at-login-on")
    screen.keys(*["Down"] * 6, "Return")
    wait_for(lambda: not entry.exists(), 5, "the autostart entry to be removed")

    # The primary answers 529: the request fails over, the icon turns amber within 1 s.
    set_status(app.primary, 529)
    assert app.request() == (200, "fallback")
    took = colour_within(screen, "amber", 1.0, "06-amber-failover")
    wait_for(lambda: notified(desktop, "Failed over to fallback"), 5, "the failover notice")

    # Everything fails: red within 1 s.
    set_status(app.fallback, 529)
    assert app.request()[0] == 529
    took = max(took, colour_within(screen, "red", 1.0, "07-red-all-fail"))

    # Pause failover from the menu while the primary fails: still red (requests fail), kept
    # in the config file.
    screen.open_menu(shot="08-menu-down")
    screen.keys("Down", "Down", "Return")
    wait_for(lambda: app.routing().get("paused") is True, 5, "paused in the config file")
    screen.wait_colour("red", timeout=2, shot="09-red-paused-while-failing")

    # The primary recovers; paused, requests go to it alone: grey. Resume: green.
    set_status(app.primary, 200)
    assert app.request() == (200, "primary")
    took = max(took, colour_within(screen, "grey", 1.0, "09b-grey-paused"))
    screen.open_menu(shot="10-menu-paused")
    screen.keys("Down", "Down", "Return")
    took = max(took, colour_within(screen, "green", 1.0, "11-green-recovered"))
    assert app.routing().get("paused") is False
    assert took < 10

    # A second `ccf` hands over to this one and exits 0.
    before = toplevel_popups(desktop)
    second = subprocess.run(
        [*ccf_command(), "--config", str(app.config)],
        env=desktop.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout

    def settings_shown() -> bool:
        opened = app.browser_record.exists() and str(app.port) in app.browser_record.read_text()
        return opened or (bool(toplevel_popups(desktop) - before) and page_drawn(desktop))

    wait_for(settings_shown, 20, "the running instance's settings")
    desktop.screenshot("12-settings-opened")

    # Quit: the proxy stops, the settings window closes, the process exits 0.
    started = tray.descendants()
    menu = screen.open_menu(shot="13-menu-before-quit")
    screen.click(menu.x + menu.width - 30, menu.y + menu.height - 14)  # Quit, by mouse
    try:
        assert tray.proc.wait(20) == 0
    except subprocess.TimeoutExpired:
        desktop.screenshot("FAILED-quit")
        pytest.fail(f"ccf did not quit; its log:\n{app.log_tail()}")
    assert not app.listening()
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in started), 10, "children")
    tray.close()


ACCENT = (184, 87, 47)  # the settings page's "Add endpoint" button


def page_drawn(desktop: Desktop) -> bool:
    """The settings window shows the signed-in page (a window still loading is blank, and
    WebKit may map helper windows meanwhile that look like a menu)."""
    colours = desktop.screenshot().getcolors(1 << 24) or []
    return any(n > 100 and all(abs(c[i] - ACCENT[i]) <= 8 for i in range(3)) for n, c in colours)


def rss_and_cpu(pid: int) -> tuple[int, float]:
    """Resident set size in bytes and CPU seconds used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return rss_pages * os.sysconf("SC_PAGE_SIZE"), cpu


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_idle_footprint(desktop: Desktop, app: App) -> None:
    """RSS of the tray process with the proxy idle, and its CPU over a quiet period: a figure, not a pass/fail."""
    seconds = float(os.environ.get("CCF_IDLE_SECONDS", "10"))
    tray = app.start()
    wait_for(app.listening, 20, "ccf to listen")
    TrayScreen(desktop).wait_colour("green", timeout=10)
    assert app.request() == (200, "primary")
    time.sleep(2)  # let start-up work settle before the quiet period (a measurement, not a sync)
    _, cpu_before = rss_and_cpu(tray.proc.pid)
    started = time.monotonic()
    time.sleep(seconds)
    rss, cpu_after = rss_and_cpu(tray.proc.pid)
    share = (cpu_after - cpu_before) / (time.monotonic() - started)
    report = ROOT / "test-artifacts" / "idle-footprint.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(
        json.dumps(
            {"rss_mb": round(rss / 2**20, 1), "cpu_share": round(share, 4), "seconds": seconds}
        )
    )
    print(f"idle: RSS {rss / 2**20:.1f} MB, CPU {share * 100:.2f}% of a core over {seconds:g} s")
    assert rss < 100 * 2**20
    tray.proc.terminate()
    assert tray.finish() == 0
