"""Stop using the proxy: give settings.json's `env` back what it said before the app merged.

Only the keys the proxy owns change, and only while they still say what the proxy wrote:
a value the user changed since is theirs. Each key gets its value from the backup, or is
removed when the backup did not have it (or there is no backup).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.core.claude_settings import TOKEN_HEADER_PREFIX, points_at

OWNED_KEYS = ("ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS")


def is_ours(key: str, value: object, port: int) -> bool:
    if not isinstance(value, str):
        return False
    if key == "ANTHROPIC_BASE_URL":
        return points_at(value, port)
    return value.strip().lower().startswith(TOKEN_HEADER_PREFIX)


def restored_settings(
    current: Mapping[str, Any], backup: Mapping[str, Any] | None, port: int
) -> tuple[dict[str, Any], list[str]]:
    """`current` with the proxy's keys restored from `backup`, and the keys that changed."""
    env = current.get("env")
    if not isinstance(env, Mapping):
        return dict(current), []
    before = backup.get("env") if backup else None
    before = before if isinstance(before, Mapping) else {}
    restored, changed = dict(env), []
    for key in OWNED_KEYS:
        if key not in env or not is_ours(key, env[key], port) or env[key] == before.get(key):
            continue
        changed.append(key)
        if key in before:
            restored[key] = before[key]
        else:
            del restored[key]
    result = {**current, "env": restored}
    if not restored and "env" not in (backup or {}):
        del result["env"]
    return result, changed
