"""Endpoint keys: the OS keyring (service `claude-code-fallback`) or `env:VAR`.

Keys are resolved once per config load and cached in memory; the hot path never calls the
keyring. A missing keyring is an error that names the alternative, never a plaintext file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from proxy import APP_SLUG
from proxy.core.config import Config, Endpoint, Secret
from proxy.core.errors import KeyStoreError

NO_KEYRING_HELP = (
    "No usable OS keyring (Secret Service, macOS Keychain or Windows Credential Locker) was "
    "found. Start your desktop's keyring, or give the endpoint its key from an environment "
    "variable instead (key: env:VAR_NAME)."
)


class KeyStore(Protocol):
    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


class SystemKeyring:
    """The OS keyring through `keyring`; every failure becomes a `KeyStoreError`."""

    def __init__(self, service: str = APP_SLUG) -> None:
        self.service = service

    def _backend(self) -> Any:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            raise KeyStoreError(NO_KEYRING_HELP)
        return backend

    def get(self, name: str) -> str | None:
        try:
            value = self._backend().get_password(self.service, name)
        except KeyStoreError:
            raise
        except Exception as exc:
            raise KeyStoreError(f"the OS keyring refused to read {name!r}: {exc}") from exc
        return value if isinstance(value, str) else None

    def set(self, name: str, value: str) -> None:
        try:
            self._backend().set_password(self.service, name, value)
        except KeyStoreError:
            raise
        except Exception as exc:
            raise KeyStoreError(f"the OS keyring refused to store {name!r}: {exc}") from exc

    def delete(self, name: str) -> None:
        import keyring.errors

        try:
            self._backend().delete_password(self.service, name)
        except keyring.errors.PasswordDeleteError:
            return
        except KeyStoreError:
            raise
        except Exception as exc:
            raise KeyStoreError(f"the OS keyring refused to delete {name!r}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ResolvedKeys:
    """Keys found for a config, and for the others why there is none."""

    keys: Mapping[str, Secret]
    problems: Mapping[str, str]


def resolve_key(endpoint: Endpoint, store: KeyStore, env: Mapping[str, str]) -> Secret:
    if endpoint.key.kind == "env":
        value = env.get(endpoint.key.env_var, "")
        if not value:
            raise KeyStoreError(f"environment variable {endpoint.key.env_var} is not set")
        return usable_key(value, f"environment variable {endpoint.key.env_var}")
    value = store.get(endpoint.name) or ""
    if not value:
        raise KeyStoreError(
            f"no key stored for {endpoint.name}; set one in Settings or run "
            f"`ccf key set {endpoint.name}`"
        )
    return usable_key(value, f"the key stored for {endpoint.name}")


def usable_key(value: str, where: str) -> Secret:
    """A key that can go into a header: no line breaks or control characters (never shown)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value.strip()):
        raise KeyStoreError(
            f"{where} contains a line break or control character; set the key again"
        )
    return Secret(value.strip())


def resolve_keys(config: Config, store: KeyStore, env: Mapping[str, str]) -> ResolvedKeys:
    """Blocking (the keyring may take tens of ms a call): run it off the event loop."""
    keys: dict[str, Secret] = {}
    problems: dict[str, str] = {}
    for endpoint in config.endpoints:
        if not endpoint.needs_key:
            continue
        try:
            keys[endpoint.name] = resolve_key(endpoint, store, env)
        except KeyStoreError as exc:
            problems[endpoint.name] = str(exc)
    return ResolvedKeys(keys=keys, problems=problems)
