"""The frozen Linux app on a real (Xvfb) desktop: double-click equivalent (`ccf` with no
subcommand) shows the tray icon, `ccf settings` from the same binary opens the settings
window (pywebview GTK in a `spawn` child of the frozen executable), and a crash is shown in
a dialog. Screenshots: test-artifacts/packaging/<test>/."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakesInThread
from tests.packaging.conftest import PACKAGING, FrozenBuild
from tests.polling import wait_for
from tests.tray_app.desktop_session import Desktop, Geometry
from tests.tray_app.tray_gui import TrayScreen, TrayUnderTest, toplevel_popups

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb desktop"),
]

SETTINGS_TITLE = "Claude Code Fallback — Settings"
RECORD_BROWSER = '#!/bin/sh\necho "$1" >> "{record}"\n'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fakes() -> Iterator[FakesInThread]:
    threaded = FakesInThread()
    yield threaded
    threaded.close()


def app_env(desktop: Desktop) -> dict[str, str]:
    """The desktop's env; a file instead of the keyring; a browser that only records (the
    webview must open the page, not the browser fallback)."""
    record = desktop.home / "browser-opened.txt"
    browser = desktop.home / "browser.sh"
    browser.write_text(RECORD_BROWSER.format(record=record))
    browser.chmod(0o755)
    return {
        **desktop.env,
        "BROWSER": str(browser),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


def window_geometry(desktop: Desktop, title: str) -> Geometry | None:
    ids = desktop.run(["xdotool", "search", "--name", title], check=False).stdout.split()
    for wid in ids:
        out = desktop.run(["xdotool", "getwindowgeometry", "--shell", wid], check=False).stdout
        values = dict(line.split("=", 1) for line in out.split() if "=" in line)
        if int(values.get("WIDTH", 0)) > 200:
            return Geometry(
                int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])
            )
    return None


def painted(desktop: Desktop, box: Geometry) -> bool:
    """The window shows a page (many colours), not an empty frame."""
    region = desktop.screenshot().crop((box.x, box.y, box.x + box.width, box.y + box.height))
    return len(region.getcolors(1 << 20) or []) > 50


def post(url: str) -> int:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8,
        "messages": [{"role": "user", "content": "hi"}],
    }
    request = urllib.request.Request(
        f"{url}/v1/messages",
        data=json.dumps(body).encode(),
        headers={
            "content-type": "application/json",
            "x-api-key": "sk-client",
            "anthropic-version": "2023-06-01",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def write_config(desktop: Desktop, upstream: str) -> tuple[Path, str]:
    port = free_port()
    config = desktop.home / "ccf.yaml"
    config.write_text(
        f"listen: {{host: 127.0.0.1, port: {port}}}\n"
        f"endpoints:\n  - name: primary\n    base_url: {upstream}\n    auth: client\n"
    )
    return config, f"http://127.0.0.1:{port}"


def show_settings(desktop: Desktop, ccf: str, config: Path, shot: str) -> None:
    """`ccf settings` from the frozen binary: the window opens and paints the page."""
    before = toplevel_popups(desktop)
    settings = subprocess.Popen(
        [ccf, "--config", str(config), "settings"],
        env=desktop.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # with its window process and WebKit's helpers: one group
    )
    try:
        box = wait_for(lambda: window_geometry(desktop, SETTINGS_TITLE), 60, "the settings window")
        wait_for(lambda: painted(desktop, box), 30, "the settings page to paint")
        desktop.screenshot(shot)
        assert toplevel_popups(desktop) - before
        record = desktop.home / "browser-opened.txt"
        assert not record.exists(), f"the browser fallback opened {record.read_text()}"
    finally:
        os.killpg(settings.pid, signal.SIGTERM)
        out, _ = settings.communicate(timeout=15)
    assert "Traceback" not in out, out


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_frozen_settings_window_opens_for_a_headless_instance(
    frozen_build: FrozenBuild, desktop: Desktop, fakes: FakesInThread
) -> None:
    config, url = write_config(desktop, fakes.start("primary").url)
    desktop.env = app_env(desktop)
    ccf = str(frozen_build.binary)
    log = (desktop.home / "serve.log").open("w")
    serve = subprocess.Popen(
        [ccf, "--config", str(config), "serve"], env=desktop.env, stdout=log, stderr=log
    )
    try:
        wait_for(lambda: listening(url), 30, f"ccf serve on {url}")
        assert post(url) == 200
        show_settings(desktop, ccf, config, "settings-window")
    finally:
        serve.terminate()
        serve.wait(15)
        log.close()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_frozen_app_shows_the_tray_icon_and_opens_settings(
    frozen_build: FrozenBuild, desktop: Desktop, fakes: FakesInThread
) -> None:
    config, url = write_config(desktop, fakes.start("primary").url)
    desktop.env = app_env(desktop)
    ccf = str(frozen_build.binary)
    tray = TrayUnderTest(desktop, [ccf, "--config", str(config)], desktop.home, json_events=False)
    try:
        TrayScreen(desktop).wait_colour("green", timeout=30, shot="1-tray-icon")
        assert post(url) == 200
        show_settings(desktop, ccf, config, "2-settings-window")
    finally:
        log = tray.log()
        tray.close()
    assert "Traceback" not in log, log


def listening(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.timeout(120)
def test_a_crash_is_shown_in_a_dialog(desktop: Desktop) -> None:
    """crash_report's GTK dialog, as the frozen entry point shows it, then closed by a key."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from crash_report import report_crash;"
        "report_crash(RuntimeError('the proxy thread died'), show_dialog=True)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(PACKAGING)],
        env={**desktop.env, "PYTHONPATH": str(Path(PACKAGING).parent)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        box = wait_for(
            lambda: window_geometry(desktop, "Claude Code Fallback stopped"), 30, "the dialog"
        )
        wait_for(lambda: painted(desktop, box), 10, "the dialog to paint")
        desktop.screenshot("crash-dialog")
        # No window manager gives it focus: click its Close button (the bottom row).
        desktop.xdotool("mousemove", str(box.centre[0]), str(box.y + box.height - 12), "click", "1")
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "RuntimeError: the proxy thread died" in stderr
    log = desktop.home / "state" / "claude-code-fallback" / "log" / "crash.log"
    assert "the proxy thread died" in log.read_text()
