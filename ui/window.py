"""The settings window: the page in a pywebview window in a `spawn` child process.

pywebview needs the main thread of its process (the tray owns the main thread here) and
forked GUI processes misbehave, so the window runs in a fresh `spawn` child. The sign-in
link travels through a multiprocessing pipe, never on a command line. Where no webview
back-end can start, the same page opens in the default browser with a fresh link.

    process = open_settings_window(service.login_url)   # None: it opened in the browser
"""

from __future__ import annotations

import logging
import multiprocessing
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


def run_window(conn: Connection, gui: Any = None) -> None:
    """The child process: show the page and report "shown", or why it could not."""
    url = conn.recv()
    reported = False

    def report(message: str) -> None:
        nonlocal reported
        if not reported:
            reported = True
            conn.send(message)

    try:
        import webview

        window = webview.create_window(TITLE, url, width=1040, height=760, min_size=(800, 600))
        if window is None:
            raise RuntimeError("pywebview made no window")
        window.events.loaded += lambda: report(SHOWN)
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


def open_settings_window(
    new_link: LinkSource,
    *,
    open_browser: Callable[[str], None] = open_in_browser,
    gui: str | None = None,
    timeout: float = START_TIMEOUT,
) -> BaseProcess | None:
    """Open the page signed in; the child process showing it, or None for the browser.

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
    finally:
        parent.close()
    if outcome == SHOWN:
        return process
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
