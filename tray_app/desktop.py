"""Small platform services for the tray: open a folder, copy text to the clipboard.

Each raises `DesktopError` with a message fit to show the user.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from proxy.core.errors import DesktopError


def child_env(
    environ: Mapping[str, str] | None = None, *, frozen: bool | None = None
) -> dict[str, str]:
    """The environment for launching system programs.

    A PyInstaller build points LD_LIBRARY_PATH at its own libraries; system programs such
    as xdg-open need the value from before (LD_LIBRARY_PATH_ORIG) or none at all.
    """
    env = dict(os.environ if environ is None else environ)
    if frozen is None:
        frozen = bool(getattr(sys, "frozen", False))
    if frozen:
        original = env.pop("LD_LIBRARY_PATH_ORIG", None)
        if original:
            env["LD_LIBRARY_PATH"] = original
        else:
            env.pop("LD_LIBRARY_PATH", None)
    return env


def launch(command: list[str]) -> None:
    """Start a system program detached from us; a thread reaps it when it exits."""
    process = subprocess.Popen(
        command,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    threading.Thread(target=process.wait, name="ccf-reaper", daemon=True).start()


def open_command(path: Path, platform: str = sys.platform) -> list[str] | None:
    """The command that opens `path` in the file manager (None on Windows: os.startfile)."""
    if platform == "win32":
        return None
    return ["open" if platform == "darwin" else "xdg-open", str(path)]


def open_folder(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    command = open_command(path)
    try:
        if command is None:
            if sys.platform == "win32":
                os.startfile(path)
            return
        launch(command)
    except OSError as exc:
        raise DesktopError(f"Could not open {path}: {exc}. Open the folder by hand.") from exc


def open_url(url: str) -> None:
    """Open `url` in the default browser (xdg-open with a clean environment when frozen)."""
    if getattr(sys, "frozen", False) and sys.platform.startswith("linux"):
        try:
            launch(["xdg-open", url])
            return
        except OSError:
            pass
    import webbrowser

    if not webbrowser.open(url):
        raise DesktopError(f"Could not open a browser. Open {url} by hand.")


def copy_text(text: str, *, use_gtk: bool = False) -> None:
    """Put `text` on the clipboard.

    Inside the GTK tray on Linux the process itself owns the clipboard (no xclip/xsel
    needed; call from the GTK main thread); elsewhere pyperclip does the work.
    """
    if use_gtk:
        _copy_gtk(text)
        return
    import pyperclip

    try:
        pyperclip.copy(text)
    except pyperclip.PyperclipException as exc:
        raise DesktopError(
            "Could not copy to the clipboard. On Linux install xclip or xsel "
            "(or wl-clipboard on Wayland)."
        ) from exc


def _copy_gtk(text: str) -> None:
    import gi

    gi.require_version("Gtk", "3.0")
    gi.require_version("Gdk", "3.0")
    from gi.repository import Gdk, Gtk

    clipboard = Gtk.Clipboard.get(Gdk.SELECTION_CLIPBOARD)
    if clipboard is None:
        raise DesktopError("Could not copy: no clipboard on this display.")
    clipboard.set_text(text, -1)
    clipboard.store()  # hand it to a clipboard manager, if one runs
