"""The config file on disk: where it is, reading it, writing it atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

from proxy import APP_SLUG
from proxy.core.config import Config
from proxy.core.config_yaml import MAX_CONFIG_CHARS, config_to_yaml, parse_config_text, read_yaml
from proxy.core.errors import ConfigError

MAX_CONFIG_BYTES = MAX_CONFIG_CHARS  # the file is refused before its text is


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_SLUG, appauthor=False)) / "config.yaml"


def config_path(explicit: str | None, env: Mapping[str, str]) -> Path:
    """`--config`, else `CCF_CONFIG`, else the platform's user config directory."""
    chosen = explicit or env.get("CCF_CONFIG")
    return Path(chosen).expanduser() if chosen else default_config_path()


def load_config(path: Path, env: Mapping[str, str]) -> Config:
    """The config at `path`; the built-in default when there is no file."""
    text = read_config_text(path)
    return parse_config_text("{}" if text is None else text, env, str(path))


def read_config_text(path: Path) -> str | None:
    """The text of the config file, None when there is none; `ConfigError` for a file that is
    not a regular file (a FIFO would block, /dev/zero never ends), too large, or not UTF-8."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}. Check its permissions.") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ConfigError(
            f"cannot read {path}: it is not a regular file but a folder, pipe or device. "
            "Point --config or CCF_CONFIG at a YAML file."
        )
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path} is larger than {MAX_CONFIG_BYTES // 1024} KiB; a configuration is a few KB. "
            "Check that it is the right file."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; fix or delete it") from None


def write_atomically(path: Path, text: str) -> None:
    """Temp file, fsync, rename: readers see the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_config(path: Path, config: Config) -> None:
    write_atomically(path, config_to_yaml(config))


def read_raw(path: Path) -> dict[str, Any]:
    """The file's YAML as plain data, `${VAR}`s unexpanded; {} when there is no file."""
    try:
        text = read_config_text(path)
        data = read_yaml(text, str(path))[0] if text is not None else {}
    except ConfigError as exc:
        raise ConfigError(f"cannot update {path}: {exc}", line=exc.line) from None
    if not isinstance(data, dict):
        raise ConfigError(f"cannot update {path}: it is not a mapping of settings")
    return data
