"""Each menu command does what it says, against a fake service; failures never escape."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from pathlib import Path

import pytest

from proxy.core.errors import DesktopError
from tests.tray_app.tray_fakes import FakeService
from tray_app import menu_model as m
from tray_app.actions import Actions


class FakeAutostart:
    def __init__(self) -> None:
        self.enabled = False

    @property
    def location(self) -> str:
        return "/fake/autostart"

    def is_enabled(self) -> bool:
        return self.enabled

    def enable(self) -> None:
        self.enabled = True

    def disable(self) -> None:
        self.enabled = False


class FakeChild:
    def __init__(self) -> None:
        self.alive = True
        self.joined: float | None = None

    def is_alive(self) -> bool:
        return self.alive

    def terminate(self) -> None:
        self.alive = False

    def join(self, timeout: float) -> None:
        self.joined = timeout


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.service = FakeService(log_path=tmp_path / "logs" / "ccf.log")
        self.copied: list[str] = []
        self.opened: list[Path] = []
        self.notices: list[tuple[str, str]] = []
        self.quits = 0
        self.settings_opened = 0
        self.sections: list[str] = []
        self.autostart = FakeAutostart()
        self.actions = Actions(
            service=self.service,
            open_settings=self.open_settings,
            quit=self.quit,
            notify=lambda title, message: self.notices.append((title, message)),
            autostart=self.autostart,
            copy_text=self.copied.append,
            open_folder=self.opened.append,
        )

    def open_settings(self, section: str = "") -> FakeChild:
        self.settings_opened += 1
        self.sections.append(section)
        return FakeChild()

    def quit(self) -> None:
        self.quits += 1


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_pin_and_automatic(h: Harness) -> None:
    h.actions.run(m.Pin("openrouter"))
    h.actions.run(m.Pin(None))
    assert h.service.calls == [("pin", "openrouter"), ("pin", None)]


def test_pause_and_resume(h: Harness) -> None:
    h.actions.run(m.SetPaused(True))
    h.actions.run(m.SetPaused(False))
    assert h.service.calls == [("pause", True), ("pause", False)]


def test_restart(h: Harness) -> None:
    h.actions.run(m.RestartProxy())
    assert h.service.calls == [("restart",)]


def test_copy_env_uses_service_url_and_token(h: Harness) -> None:
    h.service.access_token = "s3cret"
    h.actions.run(m.CopyEnv("posix"))
    h.actions.run(m.CopyEnv("settings_json"))
    assert h.copied[0] == (
        "export ANTHROPIC_BASE_URL=http://127.0.0.1:8765\n"
        "export ANTHROPIC_CUSTOM_HEADERS='x-ccf-token: s3cret'\n"
    )
    assert '"ANTHROPIC_CUSTOM_HEADERS": "x-ccf-token: s3cret"' in h.copied[1]


def test_open_logs_opens_the_log_folder(h: Harness, tmp_path: Path) -> None:
    h.actions.run(m.OpenLogs())
    assert h.opened == [tmp_path / "logs"]


def test_open_logs_without_service_log_path_uses_platform_dir(
    h: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    h.service.log_path = None
    h.actions.run(m.OpenLogs())
    assert h.opened == [tmp_path / "state" / "claude-code-fallback" / "log"]


def test_autostart_toggle(h: Harness) -> None:
    h.actions.run(m.SetAutostart(True))
    assert h.autostart.enabled
    h.actions.run(m.SetAutostart(False))
    assert not h.autostart.enabled


def test_autostart_unsupported_is_reported(h: Harness) -> None:
    h.actions.autostart = None
    h.actions.run(m.SetAutostart(True))
    assert h.notices == [
        (
            "Claude Code Fallback",
            "Turning start at login on failed: start at login is not supported on this system",
        )
    ]


def test_settings_children_are_closed_at_quit(h: Harness) -> None:
    h.actions.run(m.OpenSettings())
    h.actions.run(m.OpenSettings())
    children = list(h.actions.children)
    assert h.settings_opened == 2
    assert len(children) == 2
    h.actions.close_children(timeout=1.5)
    assert all(not c.alive and c.joined == 1.5 for c in children)  # type: ignore[attr-defined]
    assert h.actions.children == []


def test_dead_settings_children_are_forgotten(h: Harness) -> None:
    h.actions.run(m.OpenSettings())
    h.actions.children[0].alive = False  # type: ignore[attr-defined]
    h.actions.run(m.OpenSettings())
    assert len(h.actions.children) == 1


def test_opener_returning_none_is_fine(h: Harness) -> None:
    h.actions.open_settings = lambda _section: None
    h.actions.run(m.OpenSettings())
    assert h.actions.children == []


def test_quit(h: Harness) -> None:
    h.actions.run(m.Quit())
    assert h.quits == 1


def test_failing_command_is_logged_and_reported_not_raised(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_text: str) -> None:
        raise DesktopError("Could not copy to the clipboard. On Linux install xclip or xsel.")

    h.actions.copy_text = broken
    with caplog.at_level(logging.ERROR):
        h.actions.run(m.CopyEnv("fish"))
    assert h.notices == [
        (
            "Claude Code Fallback",
            "Copying the fish environment variables failed: Could not copy to the clipboard. "
            "On Linux install xclip or xsel.",
        )
    ]
    assert "Traceback" in caplog.text


def test_unexpected_error_is_reported_too(h: Harness) -> None:
    def boom(_name: str | None) -> None:
        raise RuntimeError("config file is read-only")

    h.service.pin = boom  # type: ignore[method-assign,assignment]
    h.actions.run(m.Pin("bedrock"))
    assert h.notices == [
        ("Claude Code Fallback", "Pinning bedrock failed: config file is read-only")
    ]


@pytest.mark.timeout(30)
def test_a_settings_window_still_starting_is_closed_too(h: Harness) -> None:
    """A child the opener has not handed back yet (the window is still loading)."""
    child = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(60,))
    child.start()
    try:
        h.actions.close_children(timeout=5)
        assert not child.is_alive()
        assert child.exitcode == -signal.SIGTERM
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        child.close()


class FakeWindow(FakeChild):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def show(self, section: str = "") -> bool:
        self.shown.append(section)
        return self.alive


def test_settings_twice_brings_the_open_window_forward(h: Harness) -> None:
    window = FakeWindow()
    h.actions.open_settings = lambda section: window
    h.actions.run(m.OpenSettings())
    h.actions.run(m.OpenSettings())
    h.actions.run(m.OpenSettings("general"))
    assert h.actions.children == [window]
    assert window.shown == ["", "general"]
    window.alive = False  # closed: the next Settings… opens a new one
    h.actions.open_settings = h.open_settings
    h.actions.run(m.OpenSettings("problem"))
    assert h.sections == ["problem"]


def test_copying_and_opening_logs_say_what_happened(h: Harness) -> None:
    h.actions.run(m.CopyEnv("posix"))
    h.actions.run(m.CopyEnv("settings_json"))
    h.actions.run(m.OpenLogs())
    titles = [title for title, _ in h.notices]
    assert titles == [
        "Copied for bash / zsh",
        "Copied the settings.json block",
        "Opened the log folder",
    ]
    assert "~/.zshrc" in h.notices[0][1]
    assert "ccf.log" in h.notices[2][1]
    for title, message in h.notices:
        assert title.lower() not in message.lower()
