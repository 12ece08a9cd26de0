"""The per-install admin token: in the OS keyring, or a 0600 file where there is none.

The settings page and `ccf settings` prove with it that they act for this user. It guards
the admin API only; endpoint keys never fall back to a file.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import platformdirs

from proxy import APP_SLUG
from proxy.core.errors import KeyStoreError
from proxy.keys import KeyStore
from proxy.tasks import off_loop

log = logging.getLogger("ccf.admin")
ADMIN_ACCOUNT = "__admin__"  # endpoint names start with a letter or digit: no collision


class AdminToken:
    """The install's admin token, read when a caller first presents one, then kept.

    Openers such as `ccf settings` make the token, so starting never waits for the keyring.
    """

    def __init__(self, store: KeyStore, secret_sink: Callable[[str], None] | None = None) -> None:
        self._store = store
        self._secret_sink = secret_sink  # the log redactor learns the token
        self._value: str | None = None

    async def get(self) -> str | None:
        if self._value is None:
            self._value = await off_loop(read_admin_token, self._store)
            if self._value is not None and self._secret_sink is not None:
                self._secret_sink(self._value)
        return self._value


def admin_token_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_SLUG, appauthor=False)) / "admin-token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def read_admin_token(store: KeyStore, path: Path | None = None) -> str | None:
    """The install's admin token, or None when none was made yet."""
    try:
        return store.get(ADMIN_ACCOUNT) or None
    except KeyStoreError:
        return _read_file(path or admin_token_file())


def ensure_admin_token(store: KeyStore, path: Path | None = None) -> str:
    """The install's admin token, made on first use (blocking: call it off the event loop)."""
    try:
        token = store.get(ADMIN_ACCOUNT)
        if not token:
            token = new_token()
            store.set(ADMIN_ACCOUNT, token)
        return token
    except KeyStoreError as exc:
        log.info("admin token kept in a private file: %s", exc)
        return _file_token(path or admin_token_file())


def _read_file(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return text or None


def _file_token(path: Path) -> str:
    existing = _read_file(path)
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = new_token()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read_file(path) or token
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return token
