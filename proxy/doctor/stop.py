"""Stop using the proxy: settings.json's `env` gets back what it said before the app merged.

The file is written atomically; a copy of it as it was is kept beside it first.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxy.admin.claude_code import BACKUP_SUFFIX
from proxy.config_file import write_atomically
from proxy.core.claude_restore import restored_settings
from proxy.core.claude_settings import parse_settings, settings_text
from proxy.core.errors import CcfError

BEFORE_RESTORE_SUFFIX = ".ccf-before-restore"


class StopUsingError(CcfError):
    """settings.json (or its backup) cannot be read as JSON: nothing was changed."""


@dataclass(frozen=True, slots=True)
class Restored:
    path: Path
    changed: list[str]
    from_backup: bool

    def message(self) -> str:
        if not self.changed:
            return f"{self.path} does not point at this proxy; nothing to change."
        how = "restored from the backup" if self.from_backup else "removed (no earlier values)"
        return f"{self.path}: {', '.join(self.changed)} {how}. Claude Code goes direct again."

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "changed": self.changed, "message": self.message()}


def stop_using(claude_dir: Path, port: int) -> Restored:
    """Blocking. Raises `StopUsingError` naming the file when it cannot be parsed."""
    path = claude_dir / "settings.json"
    backup_path = path.with_name(path.name + BACKUP_SUFFIX)
    current_text = _read(path)
    if current_text is None:
        return Restored(path, [], False)
    current = _parse(current_text, path)
    backup_text = _read(backup_path)
    backup = _parse(backup_text, backup_path) if backup_text is not None else None
    restored, changed = restored_settings(current, backup, port)
    if changed:
        shutil.copy2(path, path.with_name(path.name + BEFORE_RESTORE_SUFFIX))
        write_atomically(path, settings_text(restored))
    return Restored(path, changed, backup is not None and bool(changed))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StopUsingError(f"cannot read {path}: {exc}") from None


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        return parse_settings(text)
    except ValueError as exc:
        raise StopUsingError(f"{path} is not valid settings JSON ({exc}); fix it by hand") from None
