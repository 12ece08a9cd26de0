"""Keys from the real OS keyring (gnome-keyring under dbus-run-session) and from env:VAR."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from proxy.core.config_yaml import parse_config_text
from proxy.core.errors import KeyStoreError
from proxy.keys import NO_KEYRING_HELP, SystemKeyring, resolve_keys
from tests.serve import ccf_serve

SERVICE = "claude-code-fallback"


@pytest.fixture
def store() -> Iterator[SystemKeyring]:
    store = SystemKeyring()
    yield store
    for name in ("backup", "other"):
        store.delete(name)


@pytest.mark.keyring
def test_keys_round_trip_through_the_secret_service(store: SystemKeyring) -> None:
    assert "SecretService" in type(keyring.get_keyring()).__module__
    store.set("backup", "sk-from-keyring-1234")
    assert store.get("backup") == "sk-from-keyring-1234"
    assert keyring.get_password(SERVICE, "backup") == "sk-from-keyring-1234"
    store.delete("backup")
    assert store.get("backup") is None
    store.delete("backup")


@pytest.mark.keyring
def test_resolve_keys_reads_keyring_and_env_and_explains_what_is_missing(
    store: SystemKeyring,
) -> None:
    store.set("backup", "sk-kr")
    config = parse_config_text(
        "endpoints:\n"
        "  - {name: anthropic, base_url: 'https://api.anthropic.com'}\n"
        "  - {name: backup, base_url: 'https://b.example', auth: bearer}\n"
        "  - {name: other, base_url: 'https://o.example', auth: x-api-key, key: 'env:OTHER_KEY'}\n"
        "  - {name: nokey, base_url: 'https://n.example', auth: bearer}\n",
        {},
    )
    resolved = resolve_keys(config, store, {"OTHER_KEY": "sk-env"})
    assert {name: key.value for name, key in resolved.keys.items()} == {
        "backup": "sk-kr",
        "other": "sk-env",
    }
    assert resolved.problems == {
        "nokey": "no key stored for nokey; set one in Settings or run `ccf key set nokey`"
    }
    assert "sk-kr" not in repr(resolved)


def test_no_keyring_is_a_clear_error_naming_the_alternative() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(KeyStoreError) as caught:
            SystemKeyring().get("backup")
    finally:
        keyring.set_keyring(previous)
    assert str(caught.value) == NO_KEYRING_HELP
    assert "env:VAR_NAME" in NO_KEYRING_HELP


@pytest.mark.keyring
@pytest.mark.slow
def test_ccf_serve_sends_the_key_from_the_keyring(
    tmp_path: Path, threaded_fakes, store: SystemKeyring
) -> None:
    primary, backup = threaded_fakes.start("primary"), threaded_fakes.start("backup")
    primary.status(429)
    store.set("backup", "sk-or-v1-keyring-9876")
    config = tmp_path / "config.yaml"
    config.write_text(
        "endpoints:\n"
        f"  - {{name: primary, base_url: '{primary.url}'}}\n"
        f"  - {{name: backup, base_url: '{backup.url}', auth: bearer}}\n"
    )
    with ccf_serve(config, env=dict(os.environ)) as url:
        request = urllib.request.Request(
            url + "/v1/messages", data=json.dumps({"model": "m"}).encode()
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["x-ccf-attempts"] == "primary=429, backup=200"
    assert backup.received[0].headers["authorization"] == "Bearer sk-or-v1-keyring-9876"
