"""The committed icons are what assets/render_icons.py renders, and look as intended."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import cast

import pytest
from PIL import Image

from assets import render_icons as r
from tray_app import icons
from tray_app.menu_model import IconColour

ASSETS = Path(r.__file__).resolve().parent


def test_committed_pngs_match_a_fresh_render() -> None:
    assert r.stale_files(ASSETS) == []


def test_check_mode_reports_stale_files(tmp_path: Path) -> None:
    script = ASSETS / "render_icons.py"
    out = subprocess.run(
        [sys.executable, str(script), "--check", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1
    assert "stale or missing: tray-green-16.png" in out.stdout


def test_write_all_writes_every_file(tmp_path: Path) -> None:
    written = {p.name for p in r.write_all(tmp_path)}
    assert {"app.ico", "app.icns", "app.svg", "app-256.png", "app-512.png"} <= written
    assert r.stale_files(tmp_path) == []


RGBA = tuple[int, int, int, int]


def colours(image: Image.Image) -> list[tuple[int, RGBA]]:
    """(count, pixel) for each colour of an RGBA image."""
    return cast(list[tuple[int, RGBA]], image.getcolors(image.width * image.height) or [])


def pixel(image: Image.Image, xy: tuple[int, int]) -> RGBA:
    return cast(RGBA, image.getpixel(xy))


def dominant_opaque(image: Image.Image) -> tuple[int, int, int]:
    counts: dict[tuple[int, int, int], int] = {}
    for n, (red, green, blue, alpha) in colours(image):
        if alpha == 255 and (red, green, blue) != (255, 255, 255):
            counts[(red, green, blue)] = counts.get((red, green, blue), 0) + n
    return max(counts, key=lambda c: counts[c])


@pytest.mark.parametrize("state", list(r.STATES))
@pytest.mark.parametrize("size", r.TRAY_SIZES)
def test_tray_icon_is_a_disc_of_the_state_colour(state: str, size: int) -> None:
    with Image.open(ASSETS / f"tray-{state}-{size}.png") as image:
        assert image.size == (size, size)
        assert image.mode == "RGBA"
        rgba = image.convert("RGBA")
        assert dominant_opaque(rgba) == r.STATES[state]
        assert pixel(rgba, (0, 0))[3] == 0  # corners are transparent: a disc
        assert pixel(rgba, (size // 2, size // 2 + size // 3))[3] == 255
        if state == "yellow":  # a dark glyph: white would not read on yellow
            ink = sum(n for n, px in colours(rgba) if px[3] == 255 and max(px[:3]) <= 130)
        else:
            ink = sum(n for n, px in colours(rgba) if min(px) >= 200)
        assert ink >= size  # the glyph is there


def test_glyphs_differ_per_state() -> None:
    """Colour-blind users tell the states apart by the glyph."""
    masks = set()
    for state in r.STATES:
        with Image.open(ASSETS / f"tray-{state}-32.png") as image:
            masks.add(image.convert("RGBA").point(lambda v: 255 if v > 250 else 0).tobytes())
    assert len(masks) == len(r.STATES)


@pytest.mark.parametrize("appearance", ["light", "dark"])
@pytest.mark.parametrize("size", r.MAC_SIZES)
def test_mac_icons_are_glyph_plus_status_dot(appearance: str, size: int) -> None:
    ink = (0, 0, 0) if appearance == "light" else (255, 255, 255)
    for state, rgb in r.STATES.items():
        with Image.open(ASSETS / f"tray-mac-{appearance}-{state}-{size}.png") as image:
            rgba = image.convert("RGBA")
            assert rgba.size == (size, size)
            opaque = {px[:3] for _, px in colours(rgba) if px[3] == 255}
            assert ink in opaque
            assert rgb in opaque
            dot = pixel(rgba, (size - 1 - size // 5, size // 5))
            assert dot[:3] == rgb  # the dot sits in the upper right corner


def test_app_icons() -> None:
    for size in (256, 512, 1024):
        with Image.open(ASSETS / f"app-{size}.png") as image:
            assert image.size == (size, size)
            assert dominant_opaque(image.convert("RGBA")) == r.BRAND
    with Image.open(ASSETS / "app.ico") as ico:
        assert ico.info["sizes"] == {(s, s) for s in r.ICO_SIZES}
    with Image.open(ASSETS / "app.icns") as icns:
        assert icns.size == (1024, 1024)
        sizes = {s[0] * s[2] for s in icns.info["sizes"]}
        assert sizes == {32, 64, 128, 256, 512, 1024}  # Pillow writes no 16 px @1x entry
    svg = ET.parse(ASSETS / "app.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("viewBox") == "0 0 512 512"


def test_svg_matches_the_png_geometry() -> None:
    assert r.app_svg() == (ASSETS / "app.svg").read_text(encoding="utf-8")


@pytest.mark.parametrize("colour", list(r.STATES))
def test_tray_app_loads_every_state(colour: IconColour) -> None:
    image = icons.tray_image(colour, 22, "linux")
    assert image.size == (22, 22)
    mac = icons.tray_image(colour, 22, "darwin", True)
    assert mac.size == (22, 22)
    assert icons.tray_image(colour, 40, "win32").size == (44, 44)


def test_asset_helper_knows_pyinstaller(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert icons.assets_dir() == ASSETS
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert icons.asset_path("app-256.png") == tmp_path / "assets" / "app-256.png"


def test_missing_icon_falls_back_to_a_plain_disc(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    icons.tray_image.cache_clear()
    try:
        image = icons.tray_image("red", 32, "linux")
    finally:
        icons.tray_image.cache_clear()
    assert image.size == (32, 32)
    assert pixel(image, (16, 16)) == (*r.STATES["red"], 255)
    assert "run python assets/render_icons.py" in caplog.text


def test_best_size() -> None:
    assert icons.best_size(16) == 16
    assert icons.best_size(17) == 22
    assert icons.best_size(46) == 48
    assert icons.best_size(200) == 64
