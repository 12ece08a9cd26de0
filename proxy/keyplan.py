"""Keyring changes that go with a config edit.

They are made before the config file is written, undone if it cannot be, and finished
(old accounts deleted) only once it is. Blocking: run every method off the event loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from proxy.core.errors import KeyStoreError
from proxy.keys import KeyStore

log = logging.getLogger("ccf.admin")


@dataclass
class KeyPlan:
    store: KeyStore
    to_set: dict[str, str] = field(default_factory=dict)
    delete_after: list[str] = field(default_factory=list)
    _previous: dict[str, str | None] = field(default_factory=dict)

    def move(self, old: str, new: str) -> None:
        """A rename: the key goes with the endpoint (nothing to do when it has none)."""
        if old == new:
            return
        value = self.to_set.pop(old, None) or self.store.get(old)
        if value:
            self.to_set.setdefault(new, value)
        self.delete_after.append(old)

    def apply(self) -> None:
        for name, value in self.to_set.items():
            self._previous[name] = self.store.get(name)
            self.store.set(name, value)

    def undo(self) -> None:
        for name, value in self._previous.items():
            try:
                if value is None:
                    self.store.delete(name)
                else:
                    self.store.set(name, value)
            except KeyStoreError:
                log.exception("could not restore the key of %s", name)

    def finish(self) -> None:
        for name in self.delete_after:
            if name in self.to_set:
                continue
            try:
                self.store.delete(name)
            except KeyStoreError:
                log.warning("could not delete the old key of %s from the keyring", name)
