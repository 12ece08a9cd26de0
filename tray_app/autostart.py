"""Start at login, one small back-end per OS behind the `Autostart` interface.

- Linux: `$XDG_CONFIG_HOME/autostart/claude-code-fallback.desktop` (XDG autostart spec);
- macOS: `~/Library/LaunchAgents/<LAUNCH_AGENT_LABEL>.plist` with `RunAtLoad`;
- Windows: the value `Claude Code Fallback` under `HKCU\\…\\CurrentVersion\\Run`.

Turning it off removes exactly the one file or registry value that turning it on wrote.
The generators (`desktop_entry`, `launch_agent_plist`, `run_key_value`) are pure.
"""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import platformdirs

from proxy import APP_SLUG, PRODUCT_NAME

APP_NAME = PRODUCT_NAME
DESKTOP_FILE_NAME = f"{APP_SLUG}.desktop"
LAUNCH_AGENT_LABEL = f"com.{APP_SLUG}.ccf"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE_NAME = APP_NAME
MARKER = "X-Claude-Code-Fallback-Autostart=true"

_DESKTOP_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


class Autostart(Protocol):
    @property
    def location(self) -> str:
        """Where the entry lives, for messages and logs."""

    def is_enabled(self) -> bool: ...

    def enable(self) -> None: ...

    def disable(self) -> None: ...


def launch_command() -> list[str]:
    """How to start this app again: the frozen executable or the `ccf` script."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = "ccf.exe" if sys.platform == "win32" else "ccf"
    beside = Path(sys.executable).with_name(script)
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ccf")
    return [found] if found else [sys.executable, "-m", "tray_app.cli"]


# ------------------------------------------------------------------ pure generators


def _desktop_quote(arg: str) -> str:
    if arg and not _DESKTOP_RESERVED.intersection(arg):
        quoted = arg
    else:
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        quoted = f'"{escaped}"'
    # Field codes start with %; then the string-value escape doubles every backslash.
    return quoted.replace("%", "%%").replace("\\", "\\\\")


def desktop_entry(command: Sequence[str], icon: str | None = None) -> str:
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        f"Name={APP_NAME}",
        "Comment=Keeps Claude Code working when the Anthropic API fails",
        f"Exec={' '.join(_desktop_quote(arg) for arg in command)}",
        "Terminal=false",
        "X-GNOME-Autostart-enabled=true",
        MARKER,
    ]
    if icon:
        lines.insert(5, f"Icon={icon}")
    return "\n".join(lines) + "\n"


def launch_agent_plist(command: Sequence[str]) -> bytes:
    return plistlib.dumps(
        {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "KeepAlive": False,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        }
    )


def run_key_value(command: Sequence[str]) -> str:
    return subprocess.list2cmdline(list(command))


# ------------------------------------------------------------------ back-ends


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class FileAutostart:
    """One file whose presence means "start at login" (XDG .desktop or LaunchAgent plist)."""

    def __init__(self, path: Path, content: bytes) -> None:
        self.path = path
        self._content = content

    @property
    def location(self) -> str:
        return str(self.path)

    def is_enabled(self) -> bool:
        return self.path.is_file()

    def enable(self) -> None:
        _write_atomic(self.path, self._content)

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)


class RunKeyAutostart:
    """The HKCU Run value; `registry` is the `winreg` module (or a stand-in in tests)."""

    def __init__(self, command: Sequence[str], registry: Any) -> None:
        self._value = run_key_value(command)
        self._reg = registry

    @property
    def location(self) -> str:
        return f"HKEY_CURRENT_USER\\{RUN_KEY}\\{RUN_VALUE_NAME}"

    def is_enabled(self) -> bool:
        try:
            with self._reg.OpenKey(self._reg.HKEY_CURRENT_USER, RUN_KEY) as key:
                self._reg.QueryValueEx(key, RUN_VALUE_NAME)
        except FileNotFoundError:
            return False
        return True

    def enable(self) -> None:
        reg = self._reg
        with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
            reg.SetValueEx(key, RUN_VALUE_NAME, 0, reg.REG_SZ, self._value)

    def disable(self) -> None:
        reg = self._reg
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
                reg.DeleteValue(key, RUN_VALUE_NAME)
        except FileNotFoundError:
            pass


def linux_autostart_path() -> Path:
    """`$XDG_CONFIG_HOME/autostart/…` (platformdirs reads XDG_CONFIG_HOME, else ~/.config)."""
    return Path(platformdirs.user_config_dir()) / "autostart" / DESKTOP_FILE_NAME


def launch_agent_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def for_platform(
    command: Sequence[str] | None = None,
    *,
    platform: str = sys.platform,
    icon: str | None = None,
) -> Autostart | None:
    """The back-end for `platform`, or None where start at login is not supported."""
    cmd = list(command) if command is not None else launch_command()
    if platform == "win32":
        try:
            import winreg
        except ImportError:
            return None
        return RunKeyAutostart(cmd, winreg)
    if platform == "darwin":
        return FileAutostart(launch_agent_path(), launch_agent_plist(cmd))
    if platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return FileAutostart(linux_autostart_path(), desktop_entry(cmd, icon).encode())
    return None
