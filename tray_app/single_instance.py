"""One `ccf` per user: an OS file lock, a note saying where the holder is, and a request
file through which a second launch asks the first to open its settings.

The first instance holds `instance.lock` (fcntl on POSIX, msvcrt on Windows) for as long
as it runs and writes `instance.json` (pid, proxy URL, settings URL; mode 0600) once its
proxy listens. A second instance fails to take the lock, drops `open-settings.request`
next to it and waits for the first one to take it (the tray polls for it with
`take_settings_request()` and opens its settings window); if nobody takes it in time, it
opens the settings URL from the note itself. Then it exits 0. The OS drops the lock when
the holder dies, so a crash never leaves a stale lock; a stale note is overwritten.

    lock = InstanceLock()
    if not lock.acquire():
        return hand_over(lock, open_url)        # second instance
    ...start the proxy, then...
    lock.publish(InstanceInfo(os.getpid(), service.url, service.settings_url))
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import platformdirs

from proxy import APP_SLUG, PRODUCT_NAME

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    pid: int
    url: str
    settings_url: str


def runtime_dir() -> Path:
    """Per-user runtime directory ($XDG_RUNTIME_DIR/…, or the state dir where there is none)."""
    if sys.platform.startswith("linux") and not os.environ.get("XDG_RUNTIME_DIR"):
        return Path(platformdirs.user_state_dir(APP_SLUG, appauthor=False))
    return Path(platformdirs.user_runtime_dir(APP_SLUG, appauthor=False))


def _try_lock(handle: IO[bytes]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class InstanceLock:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or runtime_dir()
        self.lock_path = self.directory / "instance.lock"
        self.info_path = self.directory / "instance.json"
        self.request_path = self.directory / "open-settings.request"
        self._handle: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        if self._handle is not None:
            return True
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(self.lock_path, "a+b")  # noqa: SIM115 - held open for the lock's life
        if not _try_lock(handle):
            handle.close()
            return False
        self._handle = handle
        self.take_settings_request()  # a request left for a holder that died is stale
        return True

    def publish(self, info: InstanceInfo) -> None:
        """Tell later instances where this one is (call once the proxy listens)."""
        if self._handle is None:
            raise RuntimeError("publish() needs the lock; call acquire() first")
        tmp = self.info_path.with_name(self.info_path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(info), out)
        os.replace(tmp, self.info_path)

    def read_info(self) -> InstanceInfo | None:
        try:
            data = json.loads(self.info_path.read_text(encoding="utf-8"))
            return InstanceInfo(int(data["pid"]), str(data["url"]), str(data["settings_url"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def wait_for_info(self, timeout: float = 10.0, interval: float = 0.1) -> InstanceInfo | None:
        """The running instance's note, waiting while it is still starting up."""
        deadline = time.monotonic() + timeout
        while True:
            info = self.read_info()
            if info is not None and info.pid != os.getpid():
                return info
            if time.monotonic() >= deadline:
                return None
            time.sleep(interval)

    def request_settings(self) -> None:
        """(Second instance) ask the running instance to open its settings."""
        self.request_path.write_text(str(os.getpid()), encoding="utf-8")

    def take_settings_request(self) -> bool:
        """(Running instance) whether a later launch asked for the settings; consumes it."""
        try:
            self.request_path.unlink()
        except FileNotFoundError:
            return False
        except OSError:
            log.warning("cannot remove %s", self.request_path, exc_info=True)
            return False
        return True

    def release(self) -> None:
        if self._handle is None:
            return
        with contextlib.suppress(OSError):
            self.info_path.unlink(missing_ok=True)
            self.request_path.unlink(missing_ok=True)
        self._handle.close()  # closing drops the lock
        self._handle = None

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def hand_over(
    lock: InstanceLock,
    open_url: Callable[[str], object],
    timeout: float = 10.0,
    answer_timeout: float = 5.0,
) -> int:
    """In a second instance: have the running one open its settings. Returns the exit code.

    The running tray answers by taking the request; if it does not within `answer_timeout`
    (busy, or headless), the settings URL from its note is opened here instead.
    """
    info = lock.wait_for_info(timeout)
    if info is None:
        print(
            f"{PRODUCT_NAME} is already starting or running, but did not say where "
            f"(no {lock.info_path}). Try again in a moment.",
            file=sys.stderr,
        )
        return 1
    print(f"{PRODUCT_NAME} is already running (pid {info.pid}) at {info.url}")
    lock.request_settings()
    deadline = time.monotonic() + answer_timeout
    while time.monotonic() < deadline:
        if not lock.request_path.exists():
            return 0  # the running tray took the request and opens its settings window
        time.sleep(0.05)
    lock.take_settings_request()
    open_url(info.settings_url)
    return 0
