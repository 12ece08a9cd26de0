"""Logging for the app: a rotating file in the platform log dir, with secrets redacted.

`setup_logging()` attaches a `RedactingFilter` to every handler it installs; the filter
masks the values of `x-api-key`, `authorization` and `x-ccf-token` headers in any form
(`name: value`, `'name': 'value'`, `name=value`) and every string passed to
`register_secret()`. Uncaught exceptions, also those of background threads (a crashed
proxy thread), are logged with their tracebacks.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import threading
from pathlib import Path
from types import TracebackType

import platformdirs

from proxy import APP_SLUG

LOG_FILE_NAME = "ccf.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"
MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter strings would mask ordinary words

_HEADER_RE = re.compile(
    r"""(?P<name>x-api-key|authorization|x-ccf-token|proxy-authorization)"""
    r"""(?P<sep>["']?\s*[:=]\s*["']?)"""
    r"""(?P<scheme>(?:bearer|basic)\s+)?"""
    r"""(?P<value>[^\s"',;}\]]+)""",
    re.IGNORECASE,
)


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_SLUG, appauthor=False))


class RedactingFilter(logging.Filter):
    """Masks credentials in a record's final message and traceback text."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()

    @property
    def secrets(self) -> frozenset[str]:
        return self._secrets

    def add_secret(self, secret: str) -> None:
        if len(secret) >= MIN_SECRET_LENGTH:
            with self._lock:
                self._secrets = self._secrets | {secret}

    def redact(self, text: str) -> str:
        text = _HEADER_RE.sub(lambda m: f"{m['name']}{m['sep']}{m['scheme'] or ''}{MASK}", text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

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


def _filters(logger: logging.Logger) -> list[RedactingFilter]:
    return [f for h in logger.handlers for f in h.filters if isinstance(f, RedactingFilter)]


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
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    redactor = RedactingFilter()
    for old_filter in _filters(root):  # a second setup keeps the secrets registered so far
        for secret in old_filter.secrets:
            redactor.add_secret(secret)
    for old in [h for h in root.handlers if _filters_of(h)]:
        root.removeHandler(old)
        old.close()
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    ]
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(redactor)
        root.addHandler(handler)
    root.setLevel(level)
    if hooks:
        install_excepthooks()
    return path


def _filters_of(handler: logging.Handler) -> bool:
    return any(isinstance(f, RedactingFilter) for f in handler.filters)
