"""Stop using the proxy: the proxy's keys go back to what the backup says."""

from __future__ import annotations

from proxy.core.claude_restore import restored_settings

OURS = "http://127.0.0.1:8765"


def test_values_come_back_from_the_backup() -> None:
    current = {"model": "opus", "env": {"ANTHROPIC_BASE_URL": OURS, "KEEP": "1"}}
    backup = {"env": {"ANTHROPIC_BASE_URL": "https://old.example"}}
    restored, changed = restored_settings(current, backup, 8765)
    assert restored == {
        "model": "opus",
        "env": {"ANTHROPIC_BASE_URL": "https://old.example", "KEEP": "1"},
    }
    assert changed == ["ANTHROPIC_BASE_URL"]


def test_without_backup_the_keys_are_removed() -> None:
    current = {"env": {"ANTHROPIC_BASE_URL": OURS, "ANTHROPIC_CUSTOM_HEADERS": "x-ccf-token: abc"}}
    restored, changed = restored_settings(current, None, 8765)
    assert restored == {}
    assert changed == ["ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS"]


def test_values_the_user_changed_since_are_kept() -> None:
    current = {
        "env": {"ANTHROPIC_BASE_URL": "https://mine.example", "ANTHROPIC_CUSTOM_HEADERS": "x-a: 1"}
    }
    restored, changed = restored_settings(current, {"env": {}}, 8765)
    assert restored == current
    assert changed == []


def test_an_env_that_stays_empty_keeps_the_backups_shape() -> None:
    current = {"env": {"ANTHROPIC_BASE_URL": OURS}}
    restored, _ = restored_settings(current, {"env": {}}, 8765)
    assert restored == {"env": {}}
