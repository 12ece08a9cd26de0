"""Logging for the app: a rotating private file in the platform log dir, secrets redacted,
repeats collapsed.

`setup_logging()` attaches a `RedactingFilter` to every handler it installs; the filter
masks, through `proxy.core.redact.Redactor`, credential headers in any form, key-shaped
strings and every string passed to `register_secret()`. A `RepeatCollapser` on each handler
writes a run of identical lines once and then "last message repeated N times", so a flood
(of refused sign-in links, say) cannot rotate the history away. The files are 0600 in a
0700 folder. Uncaught exceptions, also those of background threads (a crashed proxy
thread), are logged with their tracebacks.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import cast

import platformdirs

from proxy import APP_SLUG
from proxy.core.redact import Redactor

LOG_FILE_NAME = "ccf.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"
REPEAT_SUMMARY_SECONDS = 30.0  # a run of repeats is summed up at least this often


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_SLUG, appauthor=False))


class RedactingFilter(logging.Filter):
    """Masks credentials in a record's final message and traceback text."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._redactor = Redactor()

    @property
    def secrets(self) -> frozenset[str]:
        return self._redactor.secrets

    def add_secret(self, secret: str) -> None:
        with self._lock:
            self._redactor.add(secret)

    def redact(self, text: str) -> str:
        return self._redactor.redact(text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class RepeatCollapser(logging.Filter):
    """Passes a record unless it repeats the one before it on this handler (same logger,
    level and text); counts the repeats and says how many, as one line, before the next
    different record or every `REPEAT_SUMMARY_SECONDS` while the run lasts."""

    def __init__(self, handler: logging.Handler, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.handler = handler
        self.clock = clock
        self._lock = threading.Lock()
        self._last: tuple[str, int, str] | None = None
        self._repeats = 0
        self._since = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "ccf_summary", False):
            return True
        key = (record.name, record.levelno, record.getMessage())
        with self._lock:
            repeat = key == self._last
            if repeat:
                self._repeats += 1
                if self.clock() - self._since < REPEAT_SUMMARY_SECONDS:
                    return False
            summary = self._summary()
            self._last, self._since = key, self.clock()
        if summary is not None:
            self.handler.handle(summary)
        return not repeat

    def _summary(self) -> logging.LogRecord | None:
        """The "repeated N times" record for the run so far (None if there was none)."""
        if self._last is None or self._repeats == 0:
            return None
        name, level, _ = self._last
        times = self._repeats
        self._repeats = 0
        summary = logging.LogRecord(
            name, level, __file__, 0, f"last message repeated {times} times", None, None
        )
        summary.ccf_summary = True
        return summary


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files only their owner can read (0600)."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.baseFilename, 0o600)  # a file made by an older version may be 0644
        stream = open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115
        return cast(io.TextIOWrapper, stream)  # text mode: `mode` is "a"


def private_folder(directory: Path) -> None:
    """`directory` made if missing, and readable by its owner only (0700), with any older
    log files in it made private too."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    for old in directory.glob(LOG_FILE_NAME + "*"):
        os.chmod(old, 0o600)


def _filters(logger: logging.Logger) -> list[RedactingFilter]:
    return [f for h in logger.handlers for f in h.filters if isinstance(f, RedactingFilter)]


def redact(text: str, logger: logging.Logger | None = None) -> str:
    """`text` masked as a log line would be: for what leaves by another way (a notification,
    an error dialog, a crash report on stderr)."""
    filters = _filters(logger or logging.getLogger())
    return filters[0].redact(text) if filters else Redactor().redact(text)


def register_secret(secret: str, logger: logging.Logger | None = None) -> None:
    """Mask `secret` wherever it would appear in a log line from now on."""
    for redactor in _filters(logger or logging.getLogger()):
        redactor.add_secret(secret)


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None, where: str
) -> None:
    logging.getLogger("ccf").critical("uncaught exception in %s", where, exc_info=(kind, value, tb))


def install_excepthooks() -> None:
    """Log uncaught exceptions of the main thread and of every other thread."""
    previous = sys.excepthook

    def main_hook(
        kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        _log_uncaught(kind, value, tb, "the main thread")
        previous(kind, value, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread else "a thread"
        _log_uncaught(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback, name)

    sys.excepthook = main_hook
    threading.excepthook = thread_hook


def setup_logging(
    directory: Path | None = None,
    *,
    level: int = logging.INFO,
    console: bool = False,
    hooks: bool = True,
) -> Path:
    """Log to `<directory>/ccf.log` (rotating), optionally also to stderr; returns the file."""
    path = (directory or log_dir()) / LOG_FILE_NAME
    private_folder(path.parent)
    root = logging.getLogger()
    redactor = RedactingFilter()
    for old_filter in _filters(root):  # a second setup keeps the secrets registered so far
        for secret in old_filter.secrets:
            redactor.add_secret(secret)
    for old in [h for h in root.handlers if _filters_of(h)]:
        root.removeHandler(old)
        old.close()
    handlers: list[logging.Handler] = [
        PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    ]
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(redactor)
        handler.addFilter(RepeatCollapser(handler))
        root.addHandler(handler)
    root.setLevel(level)
    if hooks:
        install_excepthooks()
    return path


def _filters_of(handler: logging.Handler) -> bool:
    return any(isinstance(f, RedactingFilter) for f in handler.filters)
