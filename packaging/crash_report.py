"""Last-resort crash report for the frozen app: a log file and a native dialog.

Only `packaging/entry.py` uses this, for an exception that escaped `tray_app.cli.main`.
Nothing here may raise: a failing report must not hide the crash it reports.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from proxy import APP_SLUG, PRODUCT_NAME
from proxy.core.redact import Redactor

TITLE = f"{PRODUCT_NAME} stopped"
CRASH_LOG = "crash.log"
HEADLESS_ARGS = ("serve", "config", "key", "-h", "--help", "--version")

Dialog = Callable[[str, str], None]


def started_as_desktop_app(argv: list[str]) -> bool:
    """Whether there is no terminal to read a traceback: no headless subcommand given."""
    return not any(arg in HEADLESS_ARGS for arg in argv[1:])


def crash_log_path() -> Path:
    try:
        from tray_app.logs import log_dir

        return log_dir() / CRASH_LOG
    except Exception:  # the app's own modules may be what is broken
        return Path(tempfile.gettempdir()) / f"{APP_SLUG}-{CRASH_LOG}"


def write_crash_log(exc: BaseException, path: Path) -> Path | None:
    text = Redactor().redact("".join(traceback.format_exception(exc)))
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {stamp} ccf crashed\n{text}\n")
    except OSError:
        return None
    return path


def crash_message(exc: BaseException, log_path: Path | None) -> str:
    where = (
        f"The details are in {log_path}; please attach that file when you report the problem."
        if log_path
        else "The details could not be written to a file."
    )
    return Redactor().redact(
        f"{PRODUCT_NAME} stopped because of an unexpected error:\n\n"
        f"{type(exc).__name__}: {exc}\n\n{where}"
    )


def report_crash(
    exc: BaseException,
    *,
    show_dialog: bool,
    dialog: Dialog | None = None,
    log_path: Path | None = None,
) -> str:
    """Log `exc` with its traceback, print it, and show it in a dialog if asked to."""
    with contextlib.suppress(Exception):
        logging.getLogger("ccf").critical("ccf crashed", exc_info=exc)
    written = write_crash_log(exc, log_path or crash_log_path())
    message = crash_message(exc, written)
    if sys.stderr is not None:  # None in a windowed Windows build
        with contextlib.suppress(Exception):
            print(Redactor().redact("".join(traceback.format_exception(exc))), file=sys.stderr)
            print(message, file=sys.stderr)
    if show_dialog:
        with contextlib.suppress(Exception):
            (dialog or native_dialog)(TITLE, message)
    return message


def native_dialog(title: str, message: str) -> None:
    if sys.platform == "win32":
        import ctypes

        mb_iconerror_topmost = 0x10 | 0x40000
        ctypes.windll.user32.MessageBoxW(None, message, title, mb_iconerror_topmost)
    elif sys.platform == "darwin":
        script = [
            "on run argv",
            "display alert (item 1 of argv) message (item 2 of argv) as critical",
            "end run",
        ]
        args = [part for line in script for part in ("-e", line)]
        subprocess.run(["osascript", *args, title, message], check=False, timeout=600)
    elif not _gtk_dialog(title, message):
        _external_dialog(title, message)


def _gtk_dialog(title: str, message: str) -> bool:
    try:
        import gi

        gi.require_version("Gtk", "3.0")
        from gi.repository import Gtk

        if not Gtk.init_check()[0]:
            return False
        dialog = Gtk.MessageDialog(
            message_type=Gtk.MessageType.ERROR, buttons=Gtk.ButtonsType.CLOSE, text=title
        )
        dialog.set_title(title)
        dialog.format_secondary_text(message)
        dialog.set_keep_above(True)
        dialog.run()
        dialog.destroy()
        while Gtk.events_pending():
            Gtk.main_iteration()
    except Exception:
        return False
    return True


def _external_dialog(title: str, message: str) -> None:
    """zenity, kdialog or a notification, with the system's library path (not the bundle's)."""
    from tray_app.desktop import child_env

    for command in (
        ["zenity", "--error", f"--title={title}", f"--text={message}"],
        ["kdialog", "--title", title, "--error", message],
        ["notify-send", "--urgency=critical", title, message],
    ):
        with contextlib.suppress(OSError):
            subprocess.run(command, env=child_env(), check=False, timeout=600)
            return
