"""Debian's Chromium driven by Playwright (never `playwright install`), and screenshots."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def is_error(message: Any) -> bool:
    """A console error, except the network log of an API answer the page shows itself."""
    return message.type == "error" and not message.text.startswith("Failed to load resource")


@contextmanager
def chromium_page(
    profile: Path,
    *,
    width: int = 800,
    height: int = 600,
    scheme: str = "light",
    strict: bool = True,
) -> Iterator[Any]:
    """A page in a fresh Chromium profile; page and console errors fail the test if `strict`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
            color_scheme=scheme,
        )
        page = context.pages[0] if context.pages else context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if is_error(m) else None)
        try:
            yield page
        finally:
            context.close()
        assert not (strict and errors), errors


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^a-z0-9-]+", "-", name.lower()) + ".png")
    page.screenshot(path=str(path))
    return path
