"""A throw-away X desktop for GUI tests: Xvfb, a tray host (trayer), a session bus, dunst.

Everything is started by PID and stopped by PID. Synchronisation is by polling a condition
with a deadline (`wait_for`), never by sleeping a fixed time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageGrab

from tests.polling import wait_for

T = TypeVar("T")

REQUIRED_PROGRAMS = (
    "Xvfb",
    "xdpyinfo",
    "xwininfo",
    "trayer",
    "xdotool",
    "xclip",
    "dbus-launch",
    "dbus-send",
    "dunst",
    "dunstctl",
)
SCREEN = (1920, 1080)  # wide enough that a centred settings window misses the tray menu


class DesktopSessionError(RuntimeError):
    pass


def missing_programs() -> list[str]:
    return [p for p in REQUIRED_PROGRAMS if shutil.which(p) is None]


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            children.append(int(stat.parent.name))
    return children


@dataclass(frozen=True)
class Geometry:
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


_GEOMETRY_RE = re.compile(r"(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s+\+(-?\d+)\+(-?\d+)")


@dataclass
class Desktop:
    home: Path
    artifacts: Path
    env: dict[str, str] = field(default_factory=dict)
    display: str = ""
    with_tray: bool = True
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _bus_pid: int | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self, base_env: Mapping[str, str]) -> Desktop:
        self._make_home(base_env)
        self._start_xvfb()
        self._start_bus()
        self._ensure_keyring()
        if self.with_tray:
            self.start_trayer()
        self._start_dunst()
        return self

    def _make_home(self, base_env: Mapping[str, str]) -> None:
        keep = ("PATH", "LANG", "LC_ALL", "TZ", "DBUS_SESSION_BUS_ADDRESS")
        env = {k: v for k, v in base_env.items() if k in keep}
        runtime = self.home / "run"
        for sub in ("config", "state", "cache", "data"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        runtime.mkdir(mode=0o700, exist_ok=True)
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / "config"),
            XDG_STATE_HOME=str(self.home / "state"),
            XDG_CACHE_HOME=str(self.home / "cache"),
            XDG_DATA_HOME=str(self.home / "data"),
            XDG_RUNTIME_DIR=str(runtime),
            NO_AT_BRIDGE="1",  # no accessibility bus: GTK would otherwise wait for it
            GDK_BACKEND="x11",
        )
        self.env = env

    def _spawn(self, args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(  # type: ignore[call-overload]
            args,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=kwargs.pop("stdout", subprocess.DEVNULL),
            stderr=kwargs.pop("stderr", subprocess.DEVNULL),
            **kwargs,
        )
        self._procs.append(proc)
        return proc

    def _start_xvfb(self) -> None:
        read_fd, write_fd = os.pipe()
        try:
            self._spawn(
                [
                    "Xvfb",
                    "-displayfd",
                    str(write_fd),
                    "-screen",
                    "0",
                    f"{SCREEN[0]}x{SCREEN[1]}x24",
                    "-nolisten",
                    "tcp",
                ],
                pass_fds=(write_fd,),
            )
            os.close(write_fd)
            with os.fdopen(read_fd, "rb") as pipe:
                number = pipe.readline().strip().decode()
        except BaseException:
            self.stop()
            raise
        if not number.isdigit():
            raise DesktopSessionError("Xvfb did not report a display number")
        self.display = f":{number}"
        self.env["DISPLAY"] = self.display
        wait_for(self._xdpyinfo_ok, 10, f"Xvfb on {self.display}")

    def _xdpyinfo_ok(self) -> bool:
        return self.run(["xdpyinfo"], check=False).returncode == 0

    def _start_bus(self) -> None:
        if self.env.get("DBUS_SESSION_BUS_ADDRESS"):
            return
        out = self.run(["dbus-launch", "--sh-syntax"]).stdout
        values = dict(re.findall(r"^(\w+)='?([^';\n]*)'?;", out, flags=re.MULTILINE))
        self.env["DBUS_SESSION_BUS_ADDRESS"] = values["DBUS_SESSION_BUS_ADDRESS"]
        self._bus_pid = int(values["DBUS_SESSION_BUS_PID"])

    def _ensure_keyring(self) -> None:
        """An unlocked Secret Service on the bus: a locked or absent one makes keyring
        calls block on a password prompt (TESTING.md). Uses the bus's own if it has one."""
        if self.name_has_owner("org.freedesktop.secrets") or not shutil.which(
            "gnome-keyring-daemon"
        ):
            return
        proc = subprocess.Popen(
            [
                "gnome-keyring-daemon",
                "--foreground",
                "--unlock",
                "--components=secrets",
                "--control-directory",
                str(self.home / "run" / "keyring"),
            ],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._procs.append(proc)
        assert proc.stdin is not None
        proc.stdin.write(b"pw")
        proc.stdin.close()
        wait_for(lambda: self.name_has_owner("org.freedesktop.secrets"), 10, "an unlocked keyring")

    def name_has_owner(self, name: str) -> bool:
        out = self.run(
            [
                "dbus-send",
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                f"string:{name}",
            ],
            check=False,
        ).stdout
        return "boolean true" in out

    def start_trayer(self, attempts: int = 2) -> None:
        """Start trayer and wait for its panel; once in a while it dies at start-up, so
        a dead one is started again (its stderr is in the error if it never comes up)."""
        log = self.home / "trayer.log"
        for _ in range(attempts):
            with log.open("a") as out:
                proc = self._spawn(
                    [
                        "trayer",
                        "--edge",
                        "top",
                        "--align",
                        "right",
                        "--widthtype",
                        "request",
                        "--height",
                        "48",
                        "--SetDockType",
                        "false",
                    ],
                    stdout=out,
                    stderr=out,
                )

            def up_or_dead(p: subprocess.Popen[bytes] = proc) -> bool:
                return bool(self.window_geometry("panel")) or p.poll() is not None

            wait_for(up_or_dead, 20, f"the trayer panel (log: {log.read_text()[-500:]!r})")
            if proc.poll() is None:
                return
        raise DesktopSessionError(f"trayer keeps exiting: {log.read_text()[-1000:]}")

    def _start_dunst(self) -> None:
        """Our own notification daemon on this display (a bus-activated one might have
        been started for a display that is gone). If another daemon already owns the
        name on a shared bus, notifications go there; the tray must cope either way."""
        config = self.home / "config" / "dunst" / "dunstrc"
        config.parent.mkdir(parents=True, exist_ok=True)
        # Bottom left, away from the tray in the top right corner that tests look at.
        config.write_text("[global]\n    origin = bottom-left\n    offset = 10x10\n")
        self._spawn(["dunst", "-config", str(config)])
        wait_for(self.notifications_available, 10, "a notification daemon on the bus")

    def notifications_available(self) -> bool:
        return self.name_has_owner("org.freedesktop.Notifications")

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._procs.clear()
        if self._bus_pid is not None:
            # Services the bus started on demand (portals, accessibility) go with it.
            for pid in [*children_of(self._bus_pid), self._bus_pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            self._bus_pid = None

    # ---------------------------------------------------------------- queries

    def run(
        self, args: list[str], check: bool = True, timeout: float = 10
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, env=self.env, capture_output=True, text=True, check=check, timeout=timeout
        )

    def window_geometry(self, name: str) -> Geometry | None:
        out = self.run(["xwininfo", "-root", "-tree"], check=False).stdout
        for line in out.splitlines():
            if f'"{name}"' in line:
                match = _GEOMETRY_RE.search(line)
                if match:
                    w, h, _, _, ax, ay = (int(g) for g in match.groups())
                    return Geometry(ax, ay, w, h)
        return None

    def tree(self) -> str:
        return self.run(["xwininfo", "-root", "-tree"], check=False).stdout

    def screenshot(self, name: str | None = None) -> Image.Image:
        image = ImageGrab.grab(xdisplay=self.display).convert("RGB")
        if name:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            image.save(self.artifacts / f"{name}.png")
        return image

    def xdotool(self, *args: str) -> str:
        return self.run(["xdotool", *args]).stdout

    def clipboard(self) -> str:
        result = self.run(["xclip", "-o", "-selection", "clipboard"], check=False, timeout=5)
        return result.stdout if result.returncode == 0 else ""

    def dunst_history(self) -> str:
        return self.run(["dunstctl", "history"], check=False).stdout
