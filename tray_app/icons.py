"""Icon images per state, loaded from `assets/` (rendered by `assets/render_icons.py`).

`asset_path()` is the one place that knows where assets live: beside the packages in a
source tree or an installed wheel, under `sys._MEIPASS/assets` in a PyInstaller build.
"""

from __future__ import annotations

import logging
import sys
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw

from tray_app.menu_model import IconColour

log = logging.getLogger(__name__)

TRAY_SIZES = (16, 22, 24, 32, 44, 48, 64)
MAC_SIZES = (22, 44)
FALLBACK_RGB: dict[IconColour, tuple[int, int, int]] = {
    "green": (0x2E, 0xA0, 0x43),
    "amber": (0xF0, 0xA0, 0x20),
    "red": (0xDC, 0x3C, 0x3C),
    "grey": (0x8A, 0x90, 0x98),
    "blue": (0x2F, 0x6F, 0xDB),
    "yellow": (0xE8, 0xCC, 0x2A),
}


def assets_dir() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "assets"
    return Path(__file__).resolve().parent.parent / "assets"


def asset_path(name: str) -> Path:
    return assets_dir() / name


def best_size(wanted: int, available: tuple[int, ...] = TRAY_SIZES) -> int:
    """The smallest rendered size at least `wanted` (scaling down blurs less than up)."""
    return next((s for s in sorted(available) if s >= wanted), max(available))


def tray_file_name(colour: IconColour, size: int, platform: str, dark: bool = False) -> str:
    if platform == "darwin":
        return f"tray-mac-{'dark' if dark else 'light'}-{colour}-{best_size(size, MAC_SIZES)}.png"
    return f"tray-{colour}-{best_size(size)}.png"


def _fallback_image(colour: IconColour, size: int) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((0, 0, size - 1, size - 1), fill=(*FALLBACK_RGB[colour], 255))
    return image


@cache
def tray_image(
    colour: IconColour, size: int, platform: str = sys.platform, dark: bool = False
) -> Image.Image:
    """The tray icon for `colour`; a plain disc (and an error in the log) if the file is gone."""
    path = asset_path(tray_file_name(colour, size, platform, dark))
    try:
        with Image.open(path) as image:
            return image.convert("RGBA")
    except OSError:
        log.error("tray icon %s is missing; run python assets/render_icons.py", path)
        return _fallback_image(colour, best_size(size))


def app_icon_path() -> Path:
    """The 256 px app icon (for .desktop files and notifications)."""
    return asset_path("app-256.png")
