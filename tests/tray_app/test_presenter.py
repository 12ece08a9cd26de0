"""The pystray glue without a display: pystray's dummy back-end and a recording icon."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.polling import wait_for
from tests.tray_app.tray_fakes import DEGRADED, DOWN, OK, PAUSED, FakeService, cooling, snap
from tray_app import icons
from tray_app import menu_model as m
from tray_app.presenter import TrayPresenter, to_pystray_menu
from tray_app.single_instance import InstanceInfo, InstanceLock
from tray_app.tray import TrayApp, import_pystray


@pytest.fixture(scope="module")
def pystray() -> Iterator[Any]:
    previous = os.environ.get("PYSTRAY_BACKEND")
    os.environ["PYSTRAY_BACKEND"] = "dummy"  # never run() it; items are called directly
    import pystray

    yield pystray
    if previous is None:
        del os.environ["PYSTRAY_BACKEND"]
    else:
        os.environ["PYSTRAY_BACKEND"] = previous


class RecordingIcon:
    """Stands in for a pystray.Icon: records what the presenter pushes."""

    def __init__(
        self, name: str = "t", icon: Any = None, title: str = "", menu: Any = None
    ) -> None:
        self.name = name
        self.images: list[Any] = [icon] if icon is not None else []
        self.titles: list[str] = []
        self.menus: list[Any] = []
        self.notices: list[tuple[str, str | None]] = []
        self.visible = False
        self.fail_notify = False
        self.stopped = threading.Event()

    @property
    def icon(self) -> Any:
        return self.images[-1]

    @icon.setter
    def icon(self, value: Any) -> None:
        self.images.append(value)

    @property
    def title(self) -> str:
        return self.titles[-1]

    @title.setter
    def title(self, value: str) -> None:
        self.titles.append(value)

    @property
    def menu(self) -> Any:
        return self.menus[-1]

    @menu.setter
    def menu(self, value: Any) -> None:
        self.menus.append(value)

    def notify(self, message: str, title: str | None = None) -> None:
        if self.fail_notify:
            raise RuntimeError("org.freedesktop.Notifications: ServiceUnknown")
        self.notices.append((message, title))

    def run(self, setup: Callable[[Any], None]) -> None:
        threading.Thread(target=setup, args=(self,), name="setup").start()
        assert self.stopped.wait(10), "the tray never stopped"

    def stop(self) -> None:
        self.stopped.set()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_presenter(
    pystray: Any, commands: list[m.Command], clock: Clock | None = None
) -> TrayPresenter:
    return TrayPresenter(
        RecordingIcon(),
        pystray,
        commands.append,
        autostart=None,
        backend="gtk",
        clock=clock or Clock(),
    )


def menu_texts(menu: Any) -> list[str]:
    return [item.text for item in menu.items]


def test_first_show_pushes_icon_title_menu(pystray: Any) -> None:
    p = make_presenter(pystray, [])
    p.show(OK)
    icon = p.icon
    assert icon.images == [icons.tray_image("green", 48)]
    assert icon.titles == ["Claude Code Fallback — Serving via anthropic"]
    assert len(icon.menus) == 1
    assert menu_texts(icon.menu)[0] == "Serving via anthropic"


def test_unchanged_view_touches_nothing(pystray: Any) -> None:
    p = make_presenter(pystray, [])
    p.show(snap({"anthropic": cooling(600)}, now=1000.0))
    p.show(snap({"anthropic": cooling(600)}, now=1001.0))
    assert (len(p.icon.images), len(p.icon.titles), len(p.icon.menus)) == (1, 1, 1)


def test_each_change_pushes_only_what_changed(pystray: Any) -> None:
    p = make_presenter(pystray, [])
    p.show(OK)
    p.show(DEGRADED)
    p.show(DOWN)
    p.show(PAUSED)
    assert p.icon.images == [icons.tray_image(c, 48) for c in ("green", "amber", "red", "grey")]
    assert len(p.icon.titles) == 4
    slow = snap({"anthropic": cooling(600)}, now=1000.0)
    p.show(slow)
    p.show(snap({"anthropic": cooling(600)}, now=1400.0))  # only the timer text changed
    assert len(p.icon.images) == 5


def test_menu_items_send_their_commands(pystray: Any) -> None:
    commands: list[m.Command] = []
    p = make_presenter(pystray, commands)
    p.show(OK)
    menu = {item.text: item for item in p.icon.menu.items}
    menu["Pause failover"](p.icon)
    menu["Settings…"](p.icon)
    menu["Quit"](p.icon)
    endpoint = {item.text: item for item in menu["Endpoint"].submenu.items}
    endpoint["openrouter — ready"](p.icon)
    endpoint["Automatic"](p.icon)
    env = {item.text: item for item in menu["Copy environment variables"].submenu.items}
    env["fish"](p.icon)
    assert commands == [
        m.SetPaused(True),
        m.OpenSettings(),
        m.Quit(),
        m.Pin("openrouter"),
        m.Pin(None),
        m.CopyEnv("fish"),
    ]


def test_pystray_items_carry_check_radio_enabled_default(pystray: Any) -> None:
    p = make_presenter(pystray, [])
    p.show(snap(pinned="bedrock", disabled=("openrouter",)))
    menu = {item.text: item for item in p.icon.menu.items}
    status = p.icon.menu.items[0]
    assert (status.enabled, status.checked) == (False, None)
    assert menu["Pause failover"].checked is False
    assert menu["Settings…"].default
    assert menu["Start at login"].enabled is False  # no autostart back-end given
    sub = menu["Endpoint"].submenu.items
    rows = {item.text: item for item in sub if item is not pystray.Menu.SEPARATOR}
    assert rows["Automatic"].checked is False
    assert rows["Automatic"].radio
    assert rows["bedrock (serving) — ready"].checked is True
    assert rows["openrouter — disabled"].enabled is False


def test_to_pystray_menu_separators(pystray: Any) -> None:
    menu = to_pystray_menu(pystray, (m.Item("a", m.Quit()), m.SEPARATOR, m.Item("b")), print)
    assert menu.items[1] is pystray.Menu.SEPARATOR
    assert menu.items[2].enabled is False


def test_failover_notification_and_rate_limit(pystray: Any) -> None:
    clock = Clock()
    p = make_presenter(pystray, [], clock)
    p.show(OK)
    clock.now = 1
    p.show(DEGRADED)
    clock.now = 2
    p.show(OK)
    clock.now = 3
    p.show(DEGRADED)  # openrouter was announced 2 s ago: held back
    assert p.icon.notices == [
        ("Anthropic rate-limited, retry in 3 min.", "Failed over to openrouter"),
        ("The primary endpoint answers again.", "Back on anthropic"),
    ]


def test_notifications_never_show_a_key(pystray: Any) -> None:
    p = make_presenter(pystray, [], Clock())
    p.notify("Key sk-or-v1-0123456789abcdefABCDEF", "x-api-key: whatever-it-is was refused")
    assert p.icon.notices == [("x-api-key: *** was refused", "Key ***")]


def test_notification_failure_never_escapes(pystray: Any, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    p = make_presenter(pystray, [], clock)
    p.icon.fail_notify = True
    p.show(OK)
    clock.now = 1
    with caplog.at_level(logging.WARNING):
        p.show(DEGRADED)
    assert "could not show the notification 'Failed over to openrouter'" in caplog.text
    assert p.icon.images[-1] == icons.tray_image("amber", 48)


def test_resize_picks_the_best_rendering(pystray: Any) -> None:
    p = make_presenter(pystray, [])
    p.show(OK)
    p.resize(22)
    assert p.icon.images[-1] == icons.tray_image("green", 22)
    p.resize(21)  # same rendering (22): nothing to do
    assert len(p.icon.images) == 2
    p.resize(0)
    assert len(p.icon.images) == 2


class FakeAutostart:
    def __init__(self) -> None:
        self.enabled = False

    location = "/fake"

    def is_enabled(self) -> bool:
        return self.enabled

    def enable(self) -> None:
        self.enabled = True

    def disable(self) -> None:
        self.enabled = False


def make_app(pystray: Any, service: FakeService, **kwargs: Any) -> TrayApp:
    fake_pystray = SimpleNamespace(Icon=RecordingIcon, Menu=pystray.Menu, MenuItem=pystray.MenuItem)
    options: dict[str, Any] = {
        "open_settings": lambda _section: None,
        "autostart": FakeAutostart(),
        "poll_interval": 0.02,
        "stop_grace": 2.0,
        "start_service": True,
        "on_started": None,
    }
    options.update(kwargs)
    return TrayApp(service, fake_pystray, "gtk", **options)


@pytest.mark.timeout(20)
def test_app_lifecycle_start_poll_quit(pystray: Any) -> None:
    service = FakeService()
    started: list[bool] = []
    app = make_app(pystray, service, on_started=lambda: started.append(True))
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(app.run()))
    runner.start()
    wait_for(lambda: bool(started), 10)
    icon = app.icon
    assert icon.visible
    assert service.calls[0] == ("start",)
    assert len(service.subscribers) == 1

    service.current = DEGRADED  # picked up by the poll
    wait_for(lambda: icon.images[-1] == icons.tray_image("amber", 48), 10)
    service.publish(DOWN)  # pushed by the service
    wait_for(lambda: icon.images[-1] == icons.tray_image("red", 48), 10)

    quit_item = next(item for item in icon.menu.items if item.text == "Quit")
    quit_item(icon)
    runner.join(10)
    assert result == [0]
    assert ("stop", 2.0) in service.calls
    assert not icon.visible


@pytest.mark.timeout(20)
def test_app_autostart_toggle_updates_the_menu(pystray: Any) -> None:
    service = FakeService()
    autostart = FakeAutostart()
    app = make_app(pystray, service, autostart=autostart, start_service=False)
    app.refresh()
    item = next(i for i in app.icon.menu.items if i.text == "Start at login")
    assert item.checked is False
    item(app.icon)
    assert autostart.enabled
    item = next(i for i in app.icon.menu.items if i.text == "Start at login")
    assert item.checked is True


@pytest.mark.timeout(20)
def test_app_without_start_does_not_start_the_service(pystray: Any) -> None:
    service = FakeService()
    app = make_app(pystray, service, start_service=False)
    runner = threading.Thread(target=app.run)
    runner.start()
    wait_for(lambda: bool(service.subscribers), 10)
    app.quit()
    runner.join(10)
    assert ("start",) not in service.calls
    assert service.stopped_event.is_set()


@pytest.mark.timeout(20)
def test_app_publishes_its_note_and_serves_settings_requests(pystray: Any, tmp_path: Path) -> None:
    service = FakeService()
    lock = InstanceLock(tmp_path)
    assert lock.acquire()
    opened: list[bool] = []
    started: list[bool] = []
    app = make_app(
        pystray,
        service,
        instance=lock,
        open_settings=lambda _section: opened.append(True),
        on_started=lambda: started.append(True),
    )
    runner = threading.Thread(target=app.run)
    runner.start()
    try:
        wait_for(lambda: bool(started), 10)
        second = InstanceLock(tmp_path)
        assert not second.acquire()
        assert second.read_info() == InstanceInfo(os.getpid(), service.url, service.settings_url)
        second.request_settings()
        wait_for(lambda: bool(opened), 10)
        assert not second.request_path.exists()
    finally:
        app.quit()
        runner.join(10)
        lock.release()


def test_import_pystray_leaves_the_environment_as_it_was(
    pystray: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GDK_GL", raising=False)
    assert import_pystray("gtk") is pystray  # already imported (dummy): the module is cached
    assert "GDK_GL" not in os.environ
    assert os.environ["PYSTRAY_BACKEND"] == "dummy"
    monkeypatch.setenv("GDK_GL", "always")
    import_pystray("gtk")
    assert os.environ["GDK_GL"] == "always"


def test_slow_commands_do_not_block_the_caller(pystray: Any) -> None:
    release = threading.Event()
    opened: list[str] = []

    def slow_settings(_section: str = "") -> None:
        opened.append(threading.current_thread().name)
        assert release.wait(10)

    def workers() -> int:
        return sum(t.name == "ccf-command" for t in threading.enumerate())

    app = make_app(pystray, FakeService(), open_settings=slow_settings, start_service=False)
    started = time.monotonic()
    app.run_command(m.OpenSettings())
    wait_for(lambda: bool(opened), 10)
    app.run_command(m.OpenSettings())  # while the first is still opening: ignored
    assert time.monotonic() - started < 10  # the second click did not wait for the first
    wait_for(lambda: workers() == 1, 10)
    release.set()
    wait_for(lambda: workers() == 0, 10)
    assert opened == ["ccf-command"]
    app.run_command(m.Pin("openrouter"))  # quick commands run right here
    assert app.service.calls[-1] == ("pin", "openrouter")  # type: ignore[attr-defined]


class NoNotifierIcon(RecordingIcon):
    """pystray's GTK icon calls the notification service while finishing; without one
    that raises after the loop has ended."""

    def run(self, setup: Callable[[Any], None]) -> None:
        super().run(setup)
        raise RuntimeError("GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown")


@pytest.mark.timeout(20)
def test_error_while_the_loop_finishes_after_quit_is_ignored(
    pystray: Any, caplog: pytest.LogCaptureFixture
) -> None:
    service = FakeService()

    def quit_at_once() -> None:
        app.quit()

    app = make_app(pystray, service, on_started=quit_at_once)
    app.icon = NoNotifierIcon()
    app.presenter.icon = app.icon
    with caplog.at_level(logging.WARNING):
        assert app.run() == 0
    assert "ignored an error while the tray loop finished" in caplog.text
    assert ("stop", 2.0) in service.calls


@pytest.mark.timeout(20)
def test_error_before_quit_propagates(pystray: Any) -> None:
    class Broken(RecordingIcon):
        def run(self, setup: Callable[[Any], None]) -> None:
            raise RuntimeError("no tray")

    app = make_app(pystray, FakeService())
    app.icon = Broken()
    with pytest.raises(RuntimeError, match="no tray"):
        app.run()
