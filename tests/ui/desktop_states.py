"""A settings page on a real `ProxyService` (the tray's own) for the state tests, and
screenshots of a state at 1280 and 400 px, light and dark, in test-artifacts/screens/."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from proxy.service import ProxyService
from tests.fakes import FakesInThread, FakeUpstream
from tests.proxy.admin.admin_helpers import MemoryKeys
from tests.ui.browser import chromium_page

SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
WIDTHS = (1280, 400)
FULL_HEIGHT = (
    "(() => { const m = document.querySelector('main'); "
    "return m.getBoundingClientRect().top + m.scrollHeight; })()"
)
SCHEMES = ("light", "dark")
LONG_NAME = "openrouter-backup-with-a-very-long-descriptive-name"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_text(port: int, a: FakeUpstream, spare: FakeUpstream) -> str:
    return (
        "# my settings\n"
        f"listen: {{host: 127.0.0.1, port: {port}}}\n"
        "endpoints:\n"
        f"  - {{name: anthropic, base_url: '{a.url}', auth: client}}\n"
        f"  - {{name: {LONG_NAME}, base_url: '{spare.url}/api/v1/with/a/long/path', "
        "auth: bearer, key: keyring}\n"
        f"  - {{name: spare, base_url: '{spare.url}', auth: client}}\n"
    )


class Scene:
    """Fakes, a config file and the tray's proxy service running it."""

    def __init__(self, tmp: Path, fakes: FakesInThread, port: int | None = None) -> None:
        self.tmp = tmp
        self.a = fakes.start("a")
        self.spare = fakes.start("spare")
        self.port = port or free_port()
        self.path = tmp / "config.yaml"
        self.path.write_text(config_text(self.port, self.a, self.spare))
        self.keys = MemoryKeys()
        self.service = ProxyService(self.path, {"CLAUDE_CONFIG_DIR": str(tmp)}, self.keys)

    def link(self, section: str = "") -> str:
        link = self.service.login_url()
        return f"{link}#{section}" if section else link


@contextmanager
def scene(tmp: Path, fakes: FakesInThread, port: int | None = None) -> Iterator[Scene]:
    running = Scene(tmp, fakes, port)
    running.service.start()
    try:
        yield running
    finally:
        running.service.stop(grace=0.5)


@contextmanager
def page_for(tmp: Path, name: str = "profile") -> Iterator[Any]:
    with chromium_page(tmp / name, width=1280, height=800) as page:
        page.on("dialog", lambda d: (_ for _ in ()).throw(AssertionError(f"native dialog: {d}")))
        yield page


def shoot(page: Any, state: str) -> list[Path]:
    """Screenshots of the page as it is, at every width and colour scheme."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    saved = []
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            tall = page.evaluate(FULL_HEIGHT)  # main scrolls, not the page: show all of it
            page.set_viewport_size({"width": width, "height": max(800, min(int(tall), 3000))})
            name = re.sub(r"[^a-z0-9-]+", "-", f"{state}-{width}-{scheme}".lower())
            path = SCREENS / f"{name}.png"
            page.screenshot(path=str(path))
            saved.append(path)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 800})
    return saved


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return dict(found)


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )
