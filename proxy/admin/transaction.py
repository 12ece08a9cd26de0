"""One transactional settings change: validate the whole new config, persist, swap.

    read the file's data -> edit -> parse_config (400 naming the field)
    -> open the new port, if it changes -> keyring changes -> write atomically
    -> resolve keys -> swap the runtime's config -> leave the old port

A failure at any step undoes the steps before it: the file, the running config and the
keys are as they were. Requests in flight keep the config they started with.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiohttp import web

from proxy.admin.context import ADMIN, Admin, ApiError
from proxy.admin.keyplan import KeyPlan
from proxy.app_state import RUNTIME
from proxy.config_file import read_raw, write_atomically
from proxy.core.claude_settings import looping_endpoints
from proxy.core.config import Config, FieldError, parse_config
from proxy.core.config_edit import Raw, leading_comments
from proxy.core.config_yaml import parse_config_text
from proxy.core.errors import ConfigError, KeyStoreError, PortInUseError
from proxy.keys import resolve_keys
from proxy.runtime import Runtime

log = logging.getLogger("ccf.admin")
T = TypeVar("T")
Edit = Callable[[Raw], Raw]
PlanKeys = Callable[[KeyPlan, Config], None]


async def off_loop(func: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)


def url_port(url: str) -> int:
    tail = url.rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0


def read_current(path: Path) -> tuple[Raw, str]:
    """The file's data and its leading comment block."""
    data = read_raw(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    return data, leading_comments(text)


def validate(raw: Raw, admin: Admin, port: int) -> Config:
    try:
        config = parse_config(raw, admin.env)
    except FieldError as exc:
        raise ApiError(400, exc.detail, exc.path) from None
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"not a usable setting: {exc}") from None
    for i, endpoint in enumerate(config.endpoints):
        if endpoint.name in looping_endpoints(config, port):
            raise ApiError(
                400,
                f"{endpoint.base_url} is this proxy itself; requests would go round in a circle",
                f"endpoints[{i}].base_url",
            )
    return config


def render(raw: Raw, header: str, admin: Admin) -> str:
    text = header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
    parse_config_text(text, admin.env, str(admin.config_path))  # the file reads back the same
    return text


async def open_new_site(admin: Admin, runtime: Runtime, config: Config) -> Any:
    if config.listen == runtime.config.listen or admin.listener is None:
        return None
    try:
        return await admin.listener.add_site(config.listen.host, config.listen.port)
    except PortInUseError as exc:
        raise ApiError(400, str(exc), "listen.port") from None
    except OSError as exc:
        raise ApiError(400, f"cannot listen there: {exc.strerror}", "listen.host") from None


async def persist(admin: Admin, plan: KeyPlan, text: str) -> None:
    try:
        await off_loop(plan.apply)
    except KeyStoreError as exc:
        await off_loop(plan.undo)
        raise ApiError(503, str(exc), "secret") from None
    try:
        await off_loop(write_atomically, admin.config_path, text)
    except OSError as exc:
        await off_loop(plan.undo)
        raise ApiError(500, f"cannot write {admin.config_path}: {exc.strerror}") from None


async def change_config(
    request: web.Request, edit: Edit, plan_keys: PlanKeys | None = None
) -> Config:
    """Apply `edit` to the config file and the running proxy, all or nothing."""
    admin, runtime = request.app[ADMIN], request.app[RUNTIME]
    async with admin.lock:
        try:
            raw, header = await off_loop(read_current, admin.config_path)
        except ConfigError as exc:
            raise ApiError(409, f"{exc} Fix the file by hand first.") from None
        try:
            new_raw = edit(raw)
        except FieldError as exc:
            raise ApiError(400, exc.detail, exc.path) from None
        port = url_port(runtime.url)
        config = validate(new_raw, admin, port)
        text = render(new_raw, header, admin)
        plan = KeyPlan(admin.store)
        if plan_keys is not None:
            try:
                await off_loop(plan_keys, plan, config)
            except KeyStoreError as exc:
                raise ApiError(503, str(exc), "secret") from None
        site = await open_new_site(admin, runtime, config)
        try:
            await persist(admin, plan, text)
        except BaseException:
            if site is not None and admin.listener is not None:
                await admin.listener.drop_site(site)
            raise
        await off_loop(plan.finish)
        await reload_keys(request.app, config)
        if site is not None and admin.listener is not None:
            await admin.listener.switch_to(site)
            runtime.url = admin.listener.url
            log.warning("Claude Code Fallback now listens on %s", runtime.url)
            if admin.announce is not None:
                admin.announce(runtime.url)
        return config


async def reload_keys(app: web.Application, config: Config | None = None) -> None:
    admin, runtime = app[ADMIN], app[RUNTIME]
    config = config or runtime.config
    keys = await off_loop(resolve_keys, config, admin.store, admin.env)
    runtime.set_config(config, keys)
