"""Opening folders and URLs, and the clipboard fallback, with real programs where possible."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from proxy.core.errors import DesktopError
from tests.polling import wait_for
from tray_app import desktop

FAKE_OPENER = """#!/bin/sh
printf '%s\\n%s\\n' "$1" "${LD_LIBRARY_PATH-unset}" > "$(dirname "$0")/opened.txt"
"""


def test_child_env_restores_the_library_path_of_a_frozen_app() -> None:
    env = {"LD_LIBRARY_PATH": "/app/_internal", "LD_LIBRARY_PATH_ORIG": "/usr/local/lib", "A": "1"}
    assert desktop.child_env(env, frozen=True) == {"LD_LIBRARY_PATH": "/usr/local/lib", "A": "1"}
    assert desktop.child_env({"LD_LIBRARY_PATH": "/app/_internal"}, frozen=True) == {}
    assert desktop.child_env(env, frozen=False) == env


def test_open_command_per_platform() -> None:
    assert desktop.open_command(Path("/logs"), "linux") == ["xdg-open", "/logs"]
    assert desktop.open_command(Path("/logs"), "darwin") == ["open", "/logs"]
    assert desktop.open_command(Path("/logs"), "win32") is None


@pytest.fixture
def fake_xdg_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if not sys.platform.startswith("linux"):
        pytest.skip("xdg-open is the Linux opener")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "xdg-open"
    script.write_text(FAKE_OPENER)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return bin_dir / "opened.txt"


def test_open_folder_runs_xdg_open_and_creates_the_folder(
    fake_xdg_open: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/frozen/_internal")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/usr/lib/custom")
    folder = tmp_path / "logs"
    desktop.open_folder(folder)
    assert folder.is_dir()
    wait_for(fake_xdg_open.exists, 10, "the fake xdg-open")
    wait_for(lambda: fake_xdg_open.read_text().count("\n") == 2, 10, "its output")
    assert fake_xdg_open.read_text() == f"{folder}\n/usr/lib/custom\n"


def test_open_url_in_a_frozen_linux_app_uses_xdg_open(
    fake_xdg_open: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/frozen/_internal")
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG", raising=False)
    desktop.open_url("http://127.0.0.1:8765/_ccf/")
    wait_for(
        lambda: fake_xdg_open.exists() and fake_xdg_open.read_text().count("\n") == 2,
        10,
        "xdg-open",
    )
    assert fake_xdg_open.read_text() == "http://127.0.0.1:8765/_ccf/\nunset\n"


def test_open_folder_failure_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("xdg-open is the Linux opener")
    monkeypatch.setenv("PATH", str(tmp_path))  # no xdg-open anywhere
    with pytest.raises(DesktopError, match="Open the folder by hand"):
        desktop.open_folder(tmp_path / "logs")


def test_copy_without_clipboard_tool_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyperclip

    def no_clipboard(_text: str) -> None:
        raise pyperclip.PyperclipException("could not find a copy/paste mechanism")

    monkeypatch.setattr(pyperclip, "copy", no_clipboard)
    with pytest.raises(DesktopError, match="install xclip or xsel"):
        desktop.copy_text("export ANTHROPIC_BASE_URL=http://127.0.0.1:8765\n")
