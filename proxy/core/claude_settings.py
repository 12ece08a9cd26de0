"""Merging the proxy's variables into Claude Code's `settings.json`, and the loop check.

Only the `env` object changes, and in it only the keys the proxy owns; everything else in
the file stays as the user wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from proxy.core.config import Config, is_loopback_host

TOKEN_HEADER_PREFIX = "x-ccf-token:"


def parse_settings(text: str) -> dict[str, Any]:
    """The file's JSON object ({} for an empty file); ValueError when it is not one."""
    if not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    return data


def merged_settings(settings: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, Any]:
    """`settings` with `variables` set in `env`; a stale proxy token header is dropped."""
    env = settings.get("env", {})
    if not isinstance(env, Mapping):
        raise ValueError('its "env" is not an object')
    merged = dict(env)
    stale = merged.get("ANTHROPIC_CUSTOM_HEADERS")
    ours = isinstance(stale, str) and stale.strip().lower().startswith(TOKEN_HEADER_PREFIX)
    if ours and "ANTHROPIC_CUSTOM_HEADERS" not in variables:
        del merged["ANTHROPIC_CUSTOM_HEADERS"]
    merged.update(variables)
    return {**settings, "env": merged}


def settings_text(settings: Mapping[str, Any]) -> str:
    return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"


def points_at(base_url: str, port: int) -> bool:
    """Whether `base_url` names this machine's loopback at `port` (the proxy itself)."""
    try:
        parts = urlsplit(base_url)
        given = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    return bool(parts.hostname) and is_loopback_host(parts.hostname or "") and given == port


def looping_endpoints(config: Config, port: int) -> list[str]:
    """Enabled endpoints whose base URL is the proxy itself: requests would go round forever."""
    return [e.name for e in config.endpoints if e.enabled and points_at(e.base_url, port)]
