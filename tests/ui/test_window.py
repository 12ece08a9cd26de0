"""The settings window: pywebview in a `spawn` child under Xvfb, and the browser fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from proxy.service import ProxyService
from tests.polling import TimedOut, wait_for
from tests.proxy.admin.admin_helpers import MemoryKeys
from tests.ui.browser import ARTIFACTS
from tests.ui.xvfb import missing_programs, screenshot, xvfb
from ui.window import open_settings_window, stop

ACCENT = (184, 87, 47)  # the "Add endpoint" button: shown only when signed in


@pytest.fixture
def service(tmp_path: Path, threaded_fakes):
    a = threaded_fakes.start("a")
    config = tmp_path / "config.yaml"
    config.write_text(f"listen: {{port: 0}}\nendpoints: [{{name: primary, base_url: '{a.url}'}}]\n")
    service = ProxyService(config, {"CLAUDE_CONFIG_DIR": str(tmp_path)}, MemoryKeys())
    service.start()
    yield service
    service.stop(grace=0.5)


def has_colour(path: Path, colour: tuple[int, int, int], tolerance: int = 12) -> bool:
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return any(all(abs(c[i] - colour[i]) <= tolerance for i in range(3)) for _, c in colours)


def wait_for_signed_in_page(display: str, path: Path, timeout: float = 30) -> bool:
    try:  # polling a screen: there is no event to wait on
        return wait_for(lambda: has_colour(screenshot(display, path), ACCENT), timeout, "", 0.5)
    except TimedOut:
        return False


@pytest.mark.gui
@pytest.mark.slow
@pytest.mark.timeout(90)
def test_the_window_opens_in_a_spawn_child_and_shows_the_page(service, monkeypatch) -> None:
    if missing_programs():
        pytest.skip(f"needs {', '.join(missing_programs())} (see TESTING.md)")
    opened_in_browser: list[str] = []
    with xvfb() as display:
        monkeypatch.setenv("DISPLAY", display)
        monkeypatch.setenv("PYWEBVIEW_GUI", "gtk")
        window = open_settings_window(service.login_url, open_browser=opened_in_browser.append)
        try:
            assert window is not None, "the webview did not start"
            assert window.is_alive()
            path = ARTIFACTS / "window-gtk.png"
            assert wait_for_signed_in_page(display, path), f"no signed-in page; see {path}"
            assert window.show("general")  # a second Settings… brings this one forward
        finally:
            if window is not None:
                stop(window.process)
    assert opened_in_browser == []


@pytest.mark.timeout(60)
def test_without_a_webview_the_browser_opens_a_fresh_link(monkeypatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    links = iter(
        ["http://127.0.0.1:9/_ccf/login?code=first", "http://127.0.0.1:9/_ccf/login?code=second"]
    )
    opened: list[str] = []
    assert open_settings_window(lambda: next(links), open_browser=opened.append) is None
    assert opened == ["http://127.0.0.1:9/_ccf/login?code=second"]
