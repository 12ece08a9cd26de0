"""The config file out (without keys) and in (validated whole, the old file kept beside it)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from proxy.config_file import read_raw, write_atomically
from proxy.core.config import FieldError, parse_config
from proxy.core.config_yaml import parse_config_text
from proxy.core.errors import ConfigError
from proxy.core.transfer import EXPORT_HEADER, exportable, imported, needing_keys
from proxy.imports.sources import ImportSourceError

BEFORE_IMPORT_SUFFIX = ".before-import"


def export_text(config_path: Path) -> str:
    """Blocking. The config as one YAML file to take to another machine."""
    raw = read_raw(config_path)
    return EXPORT_HEADER + yaml.safe_dump(exportable(raw), sort_keys=False, allow_unicode=True)


def parse_export(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportSourceError(f"{source} is not YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ImportSourceError(f"{source} is not an exported configuration")
    return dict(data)


def import_plan(config_path: Path, text: str, source: str, env: Mapping[str, str]) -> str:
    """Blocking. The new file's text; `ImportSourceError` naming what is wrong."""
    incoming = parse_export(text, source)
    try:
        new_raw = imported(read_raw(config_path), incoming)
        parse_config(new_raw, env)
    except ConfigError as exc:
        raise ImportSourceError(f"{exc} Fix the current config first.") from None
    except FieldError as exc:
        raise ImportSourceError(f"{source}: {exc}") from None
    new_text = yaml.safe_dump(new_raw, sort_keys=False, allow_unicode=True)
    parse_config_text(new_text, env, source)
    return new_text


def import_config(config_path: Path, text: str, source: str, env: Mapping[str, str]) -> list[str]:
    """Blocking. Replace the config file; the endpoints that need a key here are returned."""
    new_text = import_plan(config_path, text, source, env)
    if config_path.exists():
        shutil.copy2(config_path, config_path.with_name(config_path.name + BEFORE_IMPORT_SUFFIX))
    write_atomically(config_path, new_text)
    return needing_keys(yaml.safe_load(new_text))
