"""Helpers for driving a real tray icon in a `Desktop`: find its colour, open its menu."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from PIL import Image

from tests.polling import TimedOut, wait_for
from tests.tray_app.desktop_session import Desktop, DesktopSessionError, Geometry

# The disc colours of assets/tray-*.png (see assets/render_icons.py).
STATE_RGB = {
    "green": (0x2E, 0xA0, 0x43),
    "amber": (0xF0, 0xA0, 0x20),
    "red": (0xDC, 0x3C, 0x3C),
    "grey": (0x8A, 0x90, 0x98),
    "blue": (0x2F, 0x6F, 0xDB),
    "yellow": (0xE8, 0xCC, 0x2A),
}
TOLERANCE = 24
MIN_PIXELS = 200  # a 48 px disc has ~1500 pixels of its colour

_TOPLEVEL_RE = re.compile(r"^     (0x[0-9a-f]+) .*?\s(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s")


def colour_counts(image: Image.Image, box: Geometry) -> dict[str, int]:
    region = image.crop((box.x, box.y, box.x + box.width, box.y + box.height)).convert("RGB")
    counts = dict.fromkeys(STATE_RGB, 0)
    found = cast(list[tuple[int, tuple[int, int, int]]], region.getcolors(box.width * box.height))
    for n, pixel in found or []:
        for name, rgb in STATE_RGB.items():
            if all(abs(a - b) <= TOLERANCE for a, b in zip(pixel, rgb, strict=True)):
                counts[name] += n
    return counts


def icon_colour(image: Image.Image, box: Geometry) -> str | None:
    counts = colour_counts(image, box)
    best = max(counts, key=lambda name: counts[name])
    return best if counts[best] >= MIN_PIXELS else None


def toplevel_popups(desktop: Desktop) -> set[tuple[str, Geometry]]:
    """Top-level windows big enough to be a menu (ignoring the panel and dunst)."""
    found = set()
    for line in desktop.tree().splitlines():
        match = _TOPLEVEL_RE.match(line)
        if not match or '"panel"' in line or '"Dunst"' in line:
            continue
        wid, w, h, x, y = match.groups()
        if int(w) >= 100 and int(h) >= 60 and int(x) >= 0:
            found.add((wid, Geometry(int(x), int(y), int(w), int(h))))
    return found


class TrayUnderTest:
    """A tray process in a desktop, in its own process group.

    Its stdout and stderr go to files, never pipes: a grandchild that outlives it (a
    settings window) would hold a pipe open and block whoever reads or closes it. With
    `json_events`, stdout lines that are JSON objects are events (see tray_driver.py).
    """

    def __init__(self, desktop: Desktop, args: list[str], cwd: Path, json_events: bool) -> None:
        self.desktop = desktop
        self.stdout_path = desktop.home / "tray.stdout"
        self.stderr_path = desktop.home / "tray.stderr"
        self._json = json_events
        self._seen = 0
        with self.stdout_path.open("w") as out, self.stderr_path.open("w") as err:
            self.proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=desktop.env,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                text=True,
                start_new_session=True,
            )

    @property
    def lines(self) -> list[str]:
        return self.stdout_path.read_text().splitlines(keepends=True)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def _next_events(self) -> list[dict[str, Any]]:
        complete = [line for line in self.lines if line.endswith("\n")]
        fresh, self._seen = complete[self._seen :], len(complete)
        return [json.loads(line) for line in fresh if self._json and line.startswith("{")]

    def wait_event(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def check() -> bool:
            found.extend(e for e in self._next_events() if match(e))
            return bool(found)

        try:
            wait_for(check, timeout, "a tray event")
        except TimedOut:
            raise DesktopSessionError(f"no matching event; stderr:\n{self.log()}") from None
        return found[0]

    def wait_call(self, *call: object, timeout: float = 10) -> None:
        self.wait_event(lambda e: e.get("event") == "call" and e.get("call") == list(call), timeout)

    def log(self) -> str:
        return self.stderr_path.read_text()[-4000:]

    def descendants(self) -> set[int]:
        """PIDs of every process started by the tray process (children, grandchildren…)."""
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(stat.parent.name)] = int(fields[1])
        found: set[int] = set()
        frontier = {self.proc.pid}
        while frontier:
            frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
            found |= frontier
        return found

    def finish(self, timeout: float = 15) -> int:
        """Wait for the process to exit (it should be quitting); kill it after `timeout`."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise DesktopSessionError(f"the tray did not exit; stderr:\n{self.log()}") from None
        finally:
            self.close()

    def close(self) -> None:
        """Kill whatever is left of the tray's process group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)
        if self.proc.stdin is not None:
            self.proc.stdin.close()


class TrayScreen:
    """The icon in trayer's panel: its colour, its menu."""

    def __init__(self, desktop: Desktop) -> None:
        self.desktop = desktop

    @property
    def icon_box(self) -> Geometry:
        panel = wait_for(lambda: self.desktop.window_geometry("panel"), 5, "the panel")
        return panel

    def colour(self) -> str | None:
        return icon_colour(self.desktop.screenshot(), self.icon_box)

    def wait_colour(self, colour: str, timeout: float = 5.0, shot: str | None = None) -> None:
        """Wait until the icon shows `colour`; save a screenshot named `shot`."""
        seen: list[str | None] = []

        def check() -> bool:
            seen.append(self.colour())
            return seen[-1] == colour

        try:
            wait_for(check, timeout, f"a {colour} tray icon", interval=0.1)
        except TimedOut:
            self.desktop.screenshot(f"FAILED-{shot or colour}")
            raise DesktopSessionError(f"icon stayed {seen[-1]!r}, wanted {colour!r}") from None
        if shot:
            self.desktop.screenshot(shot)

    def open_menu(self, shot: str | None = None) -> Geometry:
        """Right-click the icon; returns the menu window's geometry once it is mapped."""
        before = toplevel_popups(self.desktop)
        x, y = self.icon_box.centre
        self.desktop.xdotool("mousemove", str(x), str(y), "click", "3")
        new = wait_for(lambda: toplevel_popups(self.desktop) - before, 5, "the tray menu")
        geometry = max((g for _, g in new), key=lambda g: g.width * g.height)
        if shot:
            self.desktop.screenshot(shot)
        return geometry

    def menu_closed(self, menu: Geometry) -> bool:
        return all(g != menu for _, g in toplevel_popups(self.desktop))

    def keys(self, *keys: str) -> None:
        self.desktop.xdotool("key", "--delay", "60", *keys)

    def click(self, x: int, y: int) -> None:
        self.desktop.xdotool("mousemove", str(x), str(y), "click", "1")
