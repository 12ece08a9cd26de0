"""Start at login: the Linux file for real (temp HOME/XDG_CONFIG_HOME), the macOS and
Windows variants through their generated content and a stand-in registry."""

from __future__ import annotations

import configparser
import plistlib
import sys
from pathlib import Path
from typing import Any

import pytest

from tray_app import autostart as a


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    return tmp_path


def parse_desktop(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return dict(parser["Desktop Entry"])


def unquote_exec(value: str) -> list[str]:
    """Split an Exec value as the desktop-entry spec reads it: first the string escape
    (\\\\ is one backslash), then quoting (inside "…", a backslash escapes the next
    character), then field codes (%% is a literal %)."""
    text = value.replace("\\\\", "\\")
    args: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for char in text:
        if escaped:
            current = [*(current or []), char]
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
            current = current or []
        elif char == " " and not quoted:
            if current is not None:
                args.append("".join(current))
            current = None
        else:
            current = [*(current or []), char]
    if current is not None:
        args.append("".join(current))
    return [arg.replace("%%", "%") for arg in args]


def test_linux_file_written_and_removed(home: Path) -> None:
    autostart_dir = home / "xdg-config" / "autostart"
    autostart_dir.mkdir(parents=True)
    other = autostart_dir / "someone-else.desktop"
    other.write_text("[Desktop Entry]\nName=Other\n")
    entry = a.for_platform(["/opt/ccf/ccf"], platform="linux", icon="/opt/ccf/app-256.png")
    assert entry is not None
    assert not entry.is_enabled()

    entry.enable()
    path = autostart_dir / "claude-code-fallback.desktop"
    assert entry.location == str(path)
    assert entry.is_enabled()
    fields = parse_desktop(path.read_text())
    assert fields["Type"] == "Application"
    assert fields["Name"] == "Claude Code Fallback"
    assert fields["Exec"] == "/opt/ccf/ccf"
    assert fields["Icon"] == "/opt/ccf/app-256.png"
    assert fields["X-GNOME-Autostart-enabled"] == "true"

    entry.disable()
    assert not entry.is_enabled()
    assert sorted(p.name for p in autostart_dir.iterdir()) == ["someone-else.desktop"]
    assert other.read_text() == "[Desktop Entry]\nName=Other\n"
    entry.disable()  # twice is fine


def test_linux_uses_dot_config_without_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert a.linux_autostart_path() == tmp_path / ".config" / "autostart" / a.DESKTOP_FILE_NAME


def test_desktop_exec_quotes_awkward_paths() -> None:
    command = ["/home/me/My Apps/ccf", "--config", '/tmp/a "b" $x `y` 100%\\z']
    exec_line = parse_desktop(a.desktop_entry(command))["Exec"]
    assert exec_line == (
        '"/home/me/My Apps/ccf" --config "/tmp/a \\\\"b\\\\" \\\\$x \\\\`y\\\\` 100%%\\\\\\\\z"'
    )
    assert unquote_exec(exec_line) == command


def test_launch_command_in_a_venv_is_the_ccf_script() -> None:
    command = a.launch_command()
    assert len(command) == 1 or command[1:] == ["-m", "tray_app.cli"]
    if len(command) == 1:
        assert Path(command[0]).name == "ccf"


def test_launch_command_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(
        sys, "executable", "/Applications/Claude Code Fallback.app/Contents/MacOS/ccf"
    )
    assert a.launch_command() == ["/Applications/Claude Code Fallback.app/Contents/MacOS/ccf"]


def test_macos_launch_agent(home: Path) -> None:
    command = ["/Applications/Claude Code Fallback.app/Contents/MacOS/ccf"]
    entry = a.for_platform(command, platform="darwin")
    assert entry is not None
    path = home / "Library" / "LaunchAgents" / "com.claude-code-fallback.ccf.plist"
    assert entry.location == str(path)
    entry.enable()
    plist = plistlib.loads(path.read_bytes())
    assert plist == {
        "Label": "com.claude-code-fallback.ccf",
        "ProgramArguments": command,
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }
    assert entry.is_enabled()
    entry.disable()
    assert not path.exists()
    assert list((home / "Library" / "LaunchAgents").iterdir()) == []


class FakeKey:
    def __init__(self, store: dict[str, dict[str, tuple[int, str]]], path: str) -> None:
        self.values = store.setdefault(path, {})

    def __enter__(self) -> FakeKey:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class FakeWinreg:
    """The slice of `winreg` the Run-key back-end uses, over a dict."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_SET_VALUE = 2
    REG_SZ = 1

    def __init__(self) -> None:
        self.store: dict[str, dict[str, tuple[int, str]]] = {}

    def OpenKey(self, root: str, sub: str, reserved: int = 0, access: int = 1) -> FakeKey:
        path = f"{root}\\{sub}"
        if path not in self.store:
            raise FileNotFoundError(path)
        return FakeKey(self.store, path)

    def CreateKeyEx(self, root: str, sub: str, reserved: int, access: int) -> FakeKey:
        return FakeKey(self.store, f"{root}\\{sub}")

    def QueryValueEx(self, key: FakeKey, name: str) -> tuple[str, int]:
        if name not in key.values:
            raise FileNotFoundError(name)
        kind, value = key.values[name]
        return value, kind

    def SetValueEx(self, key: FakeKey, name: str, reserved: int, kind: int, value: str) -> None:
        key.values[name] = (kind, value)

    def DeleteValue(self, key: FakeKey, name: str) -> None:
        if name not in key.values:
            raise FileNotFoundError(name)
        del key.values[name]


def test_windows_run_key_value_quotes_the_path() -> None:
    assert a.run_key_value([r"C:\Program Files\Claude Code Fallback\ccf.exe"]) == (
        r'"C:\Program Files\Claude Code Fallback\ccf.exe"'
    )
    assert a.run_key_value([r"C:\ccf\ccf.exe", "--config", r"C:\my cfg.yaml"]) == (
        r'C:\ccf\ccf.exe --config "C:\my cfg.yaml"'
    )


def test_windows_run_key_written_and_removed() -> None:
    reg: Any = FakeWinreg()
    run_key = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
    reg.store[run_key] = {"OneDrive": (1, r'"C:\OneDrive.exe" /background')}
    entry = a.RunKeyAutostart([r"C:\Program Files\CCF\ccf.exe"], reg)
    assert not entry.is_enabled()
    entry.enable()
    assert entry.is_enabled()
    assert reg.store[run_key]["Claude Code Fallback"] == (1, r'"C:\Program Files\CCF\ccf.exe"')
    entry.disable()
    assert not entry.is_enabled()
    assert reg.store[run_key] == {"OneDrive": (1, r'"C:\OneDrive.exe" /background')}
    entry.disable()  # twice is fine
    assert entry.location.endswith(r"CurrentVersion\Run\Claude Code Fallback")


def test_windows_without_winreg_is_unsupported() -> None:
    if sys.platform != "win32":
        assert a.for_platform(["ccf"], platform="win32") is None


def test_unknown_platform_is_unsupported() -> None:
    assert a.for_platform(["ccf"], platform="haiku1") is None
