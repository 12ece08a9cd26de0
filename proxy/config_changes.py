"""Every change to the running config, whoever makes it: the settings page, the tray's Pin
and Pause, a hand edit of the file. One lock serialises them; each is validated whole,
written atomically with the user's comments kept, and swapped in, or nothing changes.

    edit:   read the file -> edit its data -> validate the whole config -> open the new
            port, if it moves -> keyring changes -> write atomically -> resolve keys
            -> swap the runtime's config -> leave the old port
    reload: read the file -> follow a new listen address if it can -> swap

A failure at any step undoes the steps before it. Requests in flight keep the config they
started with.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import yaml

from proxy import PRODUCT_NAME
from proxy.config_document import Document, merge, read_document, render
from proxy.config_file import load_config, write_atomically
from proxy.core.claude_settings import looping_endpoints
from proxy.core.config import Config, FieldError, Listen, parse_config
from proxy.core.config_edit import Raw
from proxy.core.config_yaml import parse_config_text
from proxy.core.errors import (
    CcfError,
    ConfigError,
    ConfigWriteError,
    InvalidChangeError,
    KeyStoreError,
    ListenError,
)
from proxy.keyplan import KeyPlan
from proxy.keys import KeyStore, resolve_keys
from proxy.runtime import Runtime
from proxy.tasks import off_loop

log = logging.getLogger("ccf.config")
Edit = Callable[[Raw], Raw]
PlanKeys = Callable[[KeyPlan, Config], None]
Announce = Callable[[str], None]
KEEPING = "still running with the last good settings"


class Listener(Protocol):
    """The running server's sockets (`proxy.server.RunningServer`), for a port change."""

    @property
    def url(self) -> str: ...

    async def add_site(self, host: str, port: int) -> Any: ...

    async def switch_to(self, site: Any) -> None: ...

    async def drop_site(self, site: Any) -> None: ...


def url_port(url: str) -> int:
    tail = url.rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0


def validate(raw: Raw, env: dict[str, str], port: int) -> Config:
    """The whole config `raw` describes; `InvalidChangeError` naming the first bad setting."""
    try:
        config = parse_config(raw, env)
    except FieldError as exc:
        raise InvalidChangeError(exc.detail, path=exc.path) from None
    except (TypeError, ValueError) as exc:
        raise InvalidChangeError(f"not a usable setting: {exc}") from None
    for i, endpoint in enumerate(config.endpoints):
        if endpoint.name in looping_endpoints(config, port):
            raise InvalidChangeError(
                f"{endpoint.base_url} is this proxy itself; requests would go round in a circle",
                path=f"endpoints[{i}].base_url",
            )
    return config


class ConfigChanges:
    """The one writer of the config file and the one swapper of the running config."""

    def __init__(
        self,
        path: Path,
        env: dict[str, str],
        store: KeyStore,
        runtime: Runtime,
        *,
        listener: Listener | None,
        announce: Announce | None = None,
    ) -> None:
        self.path = path
        self.env = env
        self.store = store
        self.runtime = runtime
        self.listener = listener
        self.announce = announce
        self.lock = asyncio.Lock()

    # ------------------------------------------------------------ writers

    async def edit(self, edit: Edit, plan_keys: PlanKeys | None = None) -> Config:
        """Apply `edit` to the file and the running proxy, all or nothing.

        Raises `ConfigError` (the file cannot be read), `InvalidChangeError`,
        `KeyStoreError`, `ListenError` or `ConfigWriteError`.
        """
        async with self.lock:
            return await self._edit(edit, plan_keys)

    async def _edit(self, edit: Edit, plan_keys: PlanKeys | None) -> Config:
        document = await off_loop(read_document, self.path)
        try:
            new_raw = edit(document.data)
        except FieldError as exc:
            raise InvalidChangeError(exc.detail, path=exc.path) from None
        config = validate(new_raw, self.env, url_port(self.runtime.url))
        text = await off_loop(self._new_text, document, new_raw, config)
        plan = KeyPlan(self.store)
        if plan_keys is not None:
            await off_loop(plan_keys, plan, config)
        site = await self._open_site(config.listen)
        try:
            await self._persist(plan, text)
        except BaseException:
            if site is not None and self.listener is not None:
                await self.listener.drop_site(site)
            raise
        await off_loop(plan.finish)
        await self._swap(config)
        if site is not None:
            await self._move_to(site)
        return config

    def _new_text(self, document: Document, new_raw: Raw, config: Config) -> str:
        """The user's document with the edit merged in, if it reads back as `config`; else
        (a YAML construct the merge cannot carry) a plain dump of the new data."""
        merge(document.root, new_raw)
        text = render(document)
        if self._reads_back(text, config):
            return text
        log.warning("%s: comments could not be kept for this change", self.path)
        plain_text = yaml.safe_dump(new_raw, sort_keys=False, allow_unicode=True)
        text = document.leading_comments + plain_text
        if not self._reads_back(text, config):
            raise InvalidChangeError("this change cannot be written as YAML that reads back")
        return text

    def _reads_back(self, text: str, config: Config) -> bool:
        try:
            return parse_config_text(text, self.env, str(self.path)) == config
        except ConfigError:
            return False

    async def _persist(self, plan: KeyPlan, text: str) -> None:
        try:
            await off_loop(plan.apply)
        except KeyStoreError:
            await off_loop(plan.undo)  # the keys set before the one refused
            raise
        try:
            await off_loop(write_atomically, self.path, text)
        except OSError as exc:
            await off_loop(plan.undo)
            raise ConfigWriteError(f"cannot write {self.path}: {exc.strerror}") from None

    async def reload(self) -> str:
        """Swap in the file as it is now (a hand edit); what is wrong with it, or ""."""
        async with self.lock:
            try:
                config = await off_loop(load_config, self.path, self.env)
            except ConfigError as exc:
                return f"{exc} ({KEEPING})"
            problem = await self._follow_listen(config.listen)
            if problem:
                config = replace(config, listen=self.runtime.config.listen)
            if config != self.runtime.config:
                await self._swap(config)
                log.info("reloaded %s", self.path)
            return problem

    async def refresh_keys(self, change: Callable[[], None] | None = None) -> None:
        """Make a keyring `change` (blocking; run off the loop), then resolve the keys again."""
        async with self.lock:
            if change is not None:
                await off_loop(change)
            await self._swap(self.runtime.config)

    # ------------------------------------------------------------ the steps

    async def _swap(self, config: Config) -> None:
        keys = await off_loop(resolve_keys, config, self.store, self.env)
        self.runtime.set_config(config, keys)

    async def _open_site(self, listen: Listen) -> Any:
        if listen == self.runtime.config.listen or self.listener is None:
            return None
        try:
            return await self.listener.add_site(listen.host, listen.port)
        except OSError as exc:
            raise ListenError(f"cannot listen there: {exc.strerror}") from None

    async def _follow_listen(self, listen: Listen) -> str:
        """Move to `listen` if it is new; what stopped that, or ""."""
        if listen == self.runtime.config.listen:
            return ""
        where = f"{listen.host}:{listen.port}"
        if self.listener is None:
            return f"restart {PRODUCT_NAME} to listen on {where} ({KEEPING})"
        try:
            site = await self._open_site(listen)
        except CcfError as exc:
            return f"cannot listen on {where}: {exc} ({KEEPING})"
        await self._move_to(site)
        return ""

    async def _move_to(self, site: Any) -> None:
        listener = self.listener
        if listener is None:  # a site is only opened with a listener
            return
        await listener.switch_to(site)
        self.runtime.url = listener.url
        log.warning("%s now listens on %s", PRODUCT_NAME, self.runtime.url)
        if self.announce is not None:
            self.announce(self.runtime.url)
