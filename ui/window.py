"""The settings window: the page in a pywebview window in a `spawn` child process.

pywebview needs the main thread of its process (the tray owns the main thread here) and
forked GUI processes misbehave, so the window runs in a fresh `spawn` child. The sign-in
link travels through a multiprocessing pipe, never on a command line. Where no webview
back-end can start, the same page opens in the default browser with a fresh link.

The pipe stays open while the window lives: `SettingsWindow.show(section)` brings the
window forward (and to a section of the page) instead of opening a second one.

    window = open_settings_window(service.login_url)   # None: it opened in the browser
    window.show("general")                              # later: focus it, at General

`with_section(link, "general")` makes a sign-in link that lands at a section.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
import webbrowser
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from proxy import PRODUCT_NAME

log = logging.getLogger("ccf.ui")
TITLE = f"{PRODUCT_NAME} — Settings"
START_TIMEOUT = 20.0
SHOWN = "shown"
LinkSource = Callable[[], str]


def section_script(section: str) -> str:
    """JavaScript that shows `section` of the page ("" keeps the page as it is)."""
    return f"location.hash = {json.dumps('#' + section)};" if section else ""


def serve_requests(conn: Connection, window: Any) -> None:
    """In the child: bring the window forward whenever the tray asks (until the pipe ends)."""
    while True:
        try:
            section = str(conn.recv())
        except (EOFError, OSError):
            return
        window.restore()  # de-iconify and present: on top, with the focus
        script = section_script(section)
        if script:
            window.evaluate_js(script)


def run_window(conn: Connection, gui: Any = None) -> None:
    """The child process: show the page and report "shown", or why it could not."""
    url = conn.recv()
    reported = False

    def report(message: str) -> None:
        nonlocal reported
        if not reported:
            reported = True
            conn.send(message)

    def on_loaded() -> None:
        if not reported:
            report(SHOWN)
            threading.Thread(target=serve_requests, args=(conn, window), daemon=True).start()

    try:
        import webview

        window = webview.create_window(TITLE, url, width=1040, height=760, min_size=(400, 480))
        if window is None:
            raise RuntimeError("pywebview made no window")
        window.events.loaded += on_loaded
        webview.start(gui=gui, private_mode=True)
    except Exception as exc:
        report(f"no webview: {type(exc).__name__}: {exc}")
    finally:
        report("closed before showing the page")
        conn.close()


def wait_for_start(conn: Connection, process: BaseProcess, timeout: float) -> str:
    """The child's first report, or why there was none."""
    if conn.poll(timeout):
        try:
            return str(conn.recv())
        except EOFError:
            pass
    return "the window process exited" if not process.is_alive() else "no window in time"


def open_in_browser(url: str) -> None:
    if not webbrowser.open(url):
        raise RuntimeError(f"Could not open a browser. Open {url} by hand.")


class SettingsWindow:
    """The tray's handle on an open settings window (a child process and its pipe)."""

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self._conn = conn

    def is_alive(self) -> bool:
        return self.process.is_alive()

    def show(self, section: str = "") -> bool:
        """Bring the window forward at `section`; False if it is gone."""
        if not self.process.is_alive():
            return False
        try:
            self._conn.send(section)
        except (OSError, ValueError):
            return False
        return True

    def terminate(self) -> None:
        self._conn.close()
        self.process.terminate()

    def join(self, timeout: float | None = None) -> None:
        self.process.join(timeout)

    def kill(self) -> None:
        self.process.kill()


def with_section(link: str, section: str) -> str:
    """The sign-in link, landing at `section` (the redirect keeps the #fragment)."""
    return f"{link}#{section}" if section else link


def open_settings_window(
    new_link: LinkSource,
    *,
    open_browser: Callable[[str], None] = open_in_browser,
    gui: str | None = None,
    timeout: float = START_TIMEOUT,
) -> SettingsWindow | None:
    """Open the page signed in; the window's handle, or None for the browser.

    `new_link` makes a single-use sign-in URL; it is called again for the browser if the
    webview cannot start, since the first link may have been spent.
    """
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=run_window, args=(child, gui), name="ccf-settings")
    process.start()
    child.close()
    try:
        parent.send(new_link())
        outcome = wait_for_start(parent, process, timeout)
    except BaseException:
        parent.close()
        raise
    if outcome == SHOWN:
        return SettingsWindow(process, parent)
    parent.close()
    log.info("settings window: %s; opening the browser instead", outcome)
    stop(process)
    open_browser(new_link())
    return None


def stop(process: BaseProcess, grace: float = 3.0) -> None:
    if process.is_alive():
        process.terminate()
        process.join(grace)
    if process.is_alive():
        process.kill()
        process.join(grace)
