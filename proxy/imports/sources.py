"""Reading another tool's provider store: a JSON file, or cc-switch's SQLite database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxy.core.errors import CcfError
from proxy.core.imports import Candidate, ImportFormatError, detect, from_cc_switch

SQLITE_MAGIC = b"SQLite format 3\x00"
CC_SWITCH_QUERY = (
    "SELECT id, name, settings_config, sort_index FROM providers WHERE app_type = 'claude' "
    "ORDER BY sort_index IS NULL, sort_index, name"
)


class ImportSourceError(CcfError):
    """A file that cannot be imported; the message names it and the problem."""


@dataclass(frozen=True, slots=True)
class KnownSource:
    tool: str
    path: Path


def known_sources(home: Path, claude_dir: Path) -> list[KnownSource]:
    """Where the tools people move from keep their providers, that exist on this machine."""
    places = [
        KnownSource("cc-switch", home / ".cc-switch" / "cc-switch.db"),
        KnownSource("cc-switch (before its database)", home / ".cc-switch" / "config.json"),
        KnownSource("claude-code-router", home / ".claude-code-router" / "config.json"),
        KnownSource("Claude Code", claude_dir / "settings.json"),
    ]
    return [place for place in places if place.path.is_file()]


def read_candidates(path: Path, own_port: int | None = None) -> list[Candidate]:
    """Blocking. Every provider in the file; `ImportSourceError` naming the file if unusable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportSourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        if data.startswith(SQLITE_MAGIC):
            return from_cc_switch(cc_switch_rows(path), own_port)
        return detect(parse_json(data), own_port)
    except ImportFormatError as exc:
        raise ImportSourceError(f"{path}: {exc}") from None


def parse_json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportFormatError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ImportFormatError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None


def cc_switch_rows(path: Path) -> list[Mapping[str, Any]]:
    """cc-switch's Claude providers from its database, opened read-only."""
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            rows = db.execute(CC_SWITCH_QUERY).fetchall()
    except sqlite3.Error as exc:
        raise ImportFormatError(f"not a cc-switch database ({exc})") from None
    return [_row(provider_id, name, settings) for provider_id, name, settings, _ in rows]


def _row(provider_id: str, name: str, settings: str) -> Mapping[str, Any]:
    try:
        parsed = json.loads(settings)
    except (TypeError, json.JSONDecodeError):
        raise ImportFormatError(f"provider {name!r}: settings_config is not JSON") from None
    return {"id": provider_id, "name": name, "settingsConfig": parsed}
