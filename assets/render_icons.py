"""Render every icon the app ships from the geometry in this file (Pillow only).

    python assets/render_icons.py            # (re)write the files next to this script
    python assets/render_icons.py --check    # exit 1 if a committed PNG differs from a fresh render
    python assets/render_icons.py --out DIR  # write somewhere else

Tray icons, one per state colour (the glyph also differs, so the state reads without colour):

- full colour for Windows/Linux: `tray-{state}-{size}.png` — a filled disc in the state
  colour with a darker rim and a white glyph: check (green: the primary serves), detour
  arrow (amber: a fallback serves), exclamation mark (red: nothing can serve), pause bars
  (grey: paused or stopped), pin (blue: the endpoint the user pinned serves), and a dark
  exclamation mark on yellow (the config file has an error; the last good one runs);
- macOS menu bar: `tray-mac-{light|dark}-{state}-{size}.png` — the monochrome detour
  glyph, template style (black for a light menu bar, white for a dark one), with a
  coloured status dot cut into its upper right corner.

App icons: `app-{256,512,1024}.png`, `app.ico` (16…256), `app.icns` and `app.svg`.

Geometry is given in units of the icon's side, snapped to whole target pixels, drawn at
`SUPERSAMPLE`× and box-reduced, so edges that sit on the pixel grid stay sharp at 16 px.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

SUPERSAMPLE = 8
STATES: dict[str, tuple[int, int, int]] = {
    "green": (0x2E, 0xA0, 0x43),
    "amber": (0xF0, 0xA0, 0x20),
    "red": (0xDC, 0x3C, 0x3C),
    "grey": (0x8A, 0x90, 0x98),
    "blue": (0x2F, 0x6F, 0xDB),
    "yellow": (0xE8, 0xCC, 0x2A),
}
DARK_INK = (0x3A, 0x30, 0x00, 255)  # the glyph on yellow: white would not read
TRAY_SIZES = (16, 22, 24, 32, 44, 48, 64)
MAC_SIZES = (22, 44)
APP_PNG_SIZES = (256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
BRAND = (0x1F, 0x6F, 0xD0)
WHITE = (255, 255, 255, 255)

Point = tuple[float, float]

# The detour glyph (↳), in units of its box: stroke top, start of bend, bend control point,
# end of bend, stroke end; then the arrowhead triangle.
DETOUR_STROKE: tuple[Point, ...] = (
    (0.31, 0.20),
    (0.31, 0.48),
    (0.31, 0.62),
    (0.45, 0.62),
    (0.58, 0.62),
)
DETOUR_HEAD: tuple[Point, ...] = ((0.53, 0.42), (0.77, 0.62), (0.53, 0.82))
DETOUR_WIDTH = 0.13
APP_GLYPH_BOX = (0.09, 0.1, 0.8)  # x, y, scale of the glyph on the app icon


@dataclass(frozen=True)
class Canvas:
    """A supersampled drawing surface whose coordinates are fractions of the icon side."""

    size: int
    image: Image.Image

    @classmethod
    def new(cls, size: int) -> Canvas:
        big = size * SUPERSAMPLE
        return cls(size, Image.new("RGBA", (big, big), (0, 0, 0, 0)))

    def px(self, fraction: float) -> float:
        """A length snapped to whole target pixels, in supersampled units."""
        return round(fraction * self.size) * SUPERSAMPLE

    def at(self, point: Point, width: float = 0) -> tuple[float, float]:
        """A point snapped so that a stroke of `width` (supersampled units) centred on it
        has its edges on the target pixel grid; in supersampled units."""
        half = width / SUPERSAMPLE / 2

        def snap(fraction: float) -> float:
            return (round(fraction * self.size - half) + half) * SUPERSAMPLE

        return (snap(point[0]), snap(point[1]))

    def stroke(self, fraction: float, minimum: int = 2) -> float:
        return max(minimum, round(fraction * self.size)) * SUPERSAMPLE

    def finish(self) -> Image.Image:
        return self.image.reduce(SUPERSAMPLE)


def _darker(rgb: tuple[int, int, int], factor: float = 0.72) -> tuple[int, int, int]:
    r, g, b = rgb
    return (int(r * factor), int(g * factor), int(b * factor))


def _polyline(canvas: Canvas, points: list[Point], width: float, fill: tuple[int, ...]) -> None:
    _stroke(canvas, [canvas.at(p, width) for p in points], width, fill)


def _stroke(
    canvas: Canvas, xy: list[tuple[float, float]], width: float, fill: tuple[int, ...]
) -> None:
    """A polyline in supersampled units with round caps and joins.

    Coordinates are continuous (pixel i covers [i, i+1)); Pillow fills polygons and
    ellipses inclusive of their edges, so shapes are drawn half a pixel inside. Each
    segment is a quad and every vertex a disc: Pillow's own wide lines are a pixel off
    and leave hairline gaps at the joints of a finely segmented curve.
    """
    draw = ImageDraw.Draw(canvas.image)
    radius = width / 2
    inner = radius - 0.5
    for (x0, y0), (x1, y1) in itertools.pairwise(xy):
        length = math.hypot(x1 - x0, y1 - y0)
        if length == 0:
            continue
        nx, ny = -(y1 - y0) / length * inner, (x1 - x0) / length * inner
        quad = [(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)]
        draw.polygon([(x - 0.5, y - 0.5) for x, y in quad], fill=fill)
    for x, y in xy:
        draw.ellipse((x - radius, y - radius, x + radius - 1, y + radius - 1), fill=fill)


def _quad(p0: Point, p1: Point, p2: Point, steps: int = 24) -> list[tuple[float, float]]:
    """Points along a quadratic Bézier curve (the control points are already in canvas units)."""
    out = []
    for i in range(steps + 1):
        t = i / steps
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t**2
        out.append((a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]))
    return out


# ------------------------------------------------------------------ glyphs
# Each glyph draws into the box (ox, oy, ox + scale, oy + scale) of the canvas.

Glyph = Callable[[Canvas, tuple[int, ...], float, float, float], None]


def _map(points: list[Point], ox: float, oy: float, scale: float) -> list[Point]:
    return [(ox + x * scale, oy + y * scale) for x, y in points]


def detour(canvas: Canvas, fill: tuple[int, ...], ox: float, oy: float, scale: float) -> None:
    """↳: down, round the corner, then right into an arrowhead — 'served another way'."""
    width = canvas.stroke(DETOUR_WIDTH * scale)
    top, bend, corner, out, end = (
        canvas.at(p, width) for p in _map(list(DETOUR_STROKE), ox, oy, scale)
    )
    _stroke(canvas, [top, *_quad(bend, corner, out), end], width, fill)
    head = [canvas.at(p) for p in _map(list(DETOUR_HEAD), ox, oy, scale)]
    ImageDraw.Draw(canvas.image).polygon([(x - 0.5, y - 0.5) for x, y in head], fill=fill)


def check(canvas: Canvas, fill: tuple[int, ...], ox: float, oy: float, scale: float) -> None:
    width = canvas.stroke(0.14 * scale)
    points = [(0.28, 0.52), (0.44, 0.68), (0.72, 0.36)]
    _polyline(canvas, _map(points, ox, oy, scale), width, fill)


def exclamation(canvas: Canvas, fill: tuple[int, ...], ox: float, oy: float, scale: float) -> None:
    width = canvas.stroke(0.14 * scale)
    _polyline(canvas, _map([(0.5, 0.26), (0.5, 0.54)], ox, oy, scale), width, fill)
    x, y = canvas.at((ox + 0.5 * scale, oy + 0.74 * scale), width)
    r = width * 0.62
    ImageDraw.Draw(canvas.image).ellipse((x - r, y - r, x + r - 1, y + r - 1), fill=fill)


def pause(canvas: Canvas, fill: tuple[int, ...], ox: float, oy: float, scale: float) -> None:
    width = canvas.stroke(0.13 * scale)
    for x in (0.38, 0.62):
        _polyline(canvas, _map([(x, 0.34), (x, 0.66)], ox, oy, scale), width, fill)


def pin(canvas: Canvas, fill: tuple[int, ...], ox: float, oy: float, scale: float) -> None:
    """A map pin: a round head on a short needle — 'you chose this one'."""
    width = canvas.stroke(0.12 * scale)
    _polyline(canvas, _map([(0.5, 0.44), (0.5, 0.76)], ox, oy, scale), width, fill)
    x, y = canvas.at((ox + 0.5 * scale, oy + 0.38 * scale))
    r = canvas.px(0.16 * scale)
    ImageDraw.Draw(canvas.image).ellipse((x - r, y - r, x + r - 1, y + r - 1), fill=fill)


STATE_GLYPHS: dict[str, Glyph] = {
    "green": check,
    "amber": detour,
    "red": exclamation,
    "grey": pause,
    "blue": pin,
    "yellow": exclamation,
}


# ------------------------------------------------------------------ icons


def tray_icon(state: str, size: int) -> Image.Image:
    """Full-colour tray icon: state disc, darker rim, white glyph."""
    canvas = Canvas.new(size)
    colour = STATES[state]
    big = size * SUPERSAMPLE
    rim = max(1, round(size / 22)) * SUPERSAMPLE
    draw = ImageDraw.Draw(canvas.image)
    draw.ellipse((0, 0, big - 1, big - 1), fill=(*_darker(colour), 255))
    draw.ellipse((rim, rim, big - 1 - rim, big - 1 - rim), fill=(*colour, 255))
    ink = DARK_INK if state == "yellow" else WHITE
    STATE_GLYPHS[state](canvas, ink, 0.0, 0.0, 1.0)
    return canvas.finish()


def mac_tray_icon(state: str, size: int, appearance: str) -> Image.Image:
    """Template-style glyph (black or white) with a coloured status dot at the upper right."""
    canvas = Canvas.new(size)
    ink = (0, 0, 0, 255) if appearance == "light" else WHITE
    detour(canvas, ink, 0.0, 0.08, 0.92)
    big = size * SUPERSAMPLE
    radius = canvas.px(0.22)
    gap = max(1, round(size / 12)) * SUPERSAMPLE
    cx, cy = big - radius, radius
    hole = Image.new("L", canvas.image.size, 0)
    ImageDraw.Draw(hole).ellipse(
        (cx - radius - gap, cy - radius - gap, cx + radius + gap, cy + radius + gap), fill=255
    )
    alpha = ImageChops.subtract(canvas.image.getchannel("A"), hole)
    canvas.image.putalpha(alpha)
    ImageDraw.Draw(canvas.image).ellipse(
        (cx - radius, cy - radius, cx + radius, cy + radius), fill=(*STATES[state], 255)
    )
    return canvas.finish()


def app_icon(size: int) -> Image.Image:
    """The application icon: a rounded square in the brand colour with the white detour glyph."""
    canvas = Canvas.new(size)
    big = size * SUPERSAMPLE
    inset = round(big * 0.06)
    ImageDraw.Draw(canvas.image).rounded_rectangle(
        (inset, inset, big - 1 - inset, big - 1 - inset),
        radius=round(big * 0.2),
        fill=(*BRAND, 255),
    )
    detour(canvas, WHITE, *APP_GLYPH_BOX)
    return canvas.finish()


def app_svg() -> str:
    """The same app icon as scalable vector graphics (for Linux icon themes and docs)."""
    brand = "#{:02x}{:02x}{:02x}".format(*BRAND)
    ox, oy, scale = APP_GLYPH_BOX
    side = 512

    def p(point: Point) -> str:
        return f"{(ox + point[0] * scale) * side:.1f},{(oy + point[1] * scale) * side:.1f}"

    top, bend, corner, out, end = (p(point) for point in DETOUR_STROKE)
    head = " ".join(p(point) for point in DETOUR_HEAD)
    inset, width, radius = 0.06 * side, 0.88 * side, 0.2 * side
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" '
        f'viewBox="0 0 {side} {side}">\n'
        f'  <rect x="{inset:.1f}" y="{inset:.1f}" width="{width:.1f}" height="{width:.1f}" '
        f'rx="{radius:.1f}" fill="{brand}" stroke="none"/>\n'
        f'  <path d="M{top} L{bend} Q{corner} {out} L{end}" fill="none" stroke="#fff" '
        f'stroke-width="{DETOUR_WIDTH * scale * side:.1f}" stroke-linecap="round" '
        'stroke-linejoin="round"/>\n'
        f'  <polygon points="{head}" fill="#fff" stroke="none"/>\n'
        "</svg>\n"
    )


# ------------------------------------------------------------------ output


def png_renders() -> Iterator[tuple[str, Image.Image]]:
    """Every PNG this script produces, by file name."""
    for state in STATES:
        for size in TRAY_SIZES:
            yield f"tray-{state}-{size}.png", tray_icon(state, size)
        for appearance in ("light", "dark"):
            for size in MAC_SIZES:
                yield (
                    f"tray-mac-{appearance}-{state}-{size}.png",
                    mac_tray_icon(state, size, appearance),
                )
    for size in APP_PNG_SIZES:
        yield f"app-{size}.png", app_icon(size)


def write_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, image in png_renders():
        image.save(out / name, optimize=True)
        written.append(out / name)
    master = app_icon(1024)
    master.save(out / "app.ico", sizes=[(s, s) for s in ICO_SIZES])
    master.save(out / "app.icns")
    (out / "app.svg").write_text(app_svg(), encoding="utf-8")
    written += [out / "app.ico", out / "app.icns", out / "app.svg"]
    return written


def stale_files(out: Path) -> list[str]:
    """Names of committed PNGs that are missing or differ in pixels from a fresh render."""
    stale = []
    for name, image in png_renders():
        path = out / name
        if not path.exists():
            stale.append(name)
            continue
        with Image.open(path) as committed:
            if committed.convert("RGBA").tobytes() != image.tobytes():
                stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--check", action="store_true", help="verify instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for name in stale:
            print(f"stale or missing: {name} (run python assets/render_icons.py)")
        return 1 if stale else 0
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
