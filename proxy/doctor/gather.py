"""Gathering the facts the set-up checks judge: files, environment, sockets, endpoints."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import aiohttp

from proxy.admin.claude_code import BACKUP_SUFFIX
from proxy.admin.probe import probe
from proxy.config_file import load_config
from proxy.core.claude_settings import parse_settings
from proxy.core.config import Config
from proxy.core.doctor import (
    CLAUDE_VARIABLES,
    AutostartFacts,
    ClaudeFacts,
    Facts,
    ProbeOutcome,
    loopback_urls,
)
from proxy.core.errors import ConfigError, KeyStoreError
from proxy.keys import KeyStore, ResolvedKeys

CONNECT_SECONDS = 2.0
HEALTH_SECONDS = 5.0
PortState = Literal["ours", "free", "taken", "unknown"]
Probes = Callable[[Config, ResolvedKeys], Awaitable[dict[str, ProbeOutcome]]]


def claude_facts(claude_dir: Path, env: Mapping[str, str], shell_label: str) -> ClaudeFacts:
    path = claude_dir / "settings.json"
    backup = path.with_name(path.name + BACKUP_SUFFIX).exists()
    shell = {k: env[k] for k in CLAUDE_VARIABLES if env.get(k)}
    base = ClaudeFacts(str(path), None, None, "", backup, shell, shell_label)
    try:
        data = parse_settings(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return base
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return replace(base, settings_error=str(exc))
    env_section = data.get("env")
    if env_section is not None and not isinstance(env_section, dict):
        return replace(base, settings_error='its "env" is not an object')
    settings_env = {str(k): str(v) for k, v in (env_section or {}).items() if k in CLAUDE_VARIABLES}
    model = data.get("model")
    return replace(
        base, settings_env=settings_env, settings_model=model if isinstance(model, str) else None
    )


def config_facts(path: Path, env: Mapping[str, str]) -> tuple[Config, str, bool]:
    """The config (the default if it cannot be used), what is wrong with it, whether it exists."""
    try:
        return load_config(path, env), "", path.exists()
    except ConfigError as exc:
        return Config(), str(exc), path.exists()


def keyring_problem(store: KeyStore) -> str:
    try:
        store.get("__ccf_doctor__")
    except KeyStoreError as exc:
        return str(exc)
    return ""


async def listens(host: str, port: int) -> bool:
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            _, writer = await asyncio.open_connection(host.strip("[]"), port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def url_listens(url: str) -> bool:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return await listens(parts.hostname or "", parts.port or default)


async def port_state(host: str, port: int) -> PortState:
    """Ours when the program there answers `/health` as this proxy does."""
    if not await listens(host, port):
        return "free"
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/health"
    try:
        timeout = aiohttp.ClientTimeout(total=HEALTH_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
            data = json.loads(await response.read())
    except (aiohttp.ClientError, ValueError, TimeoutError):
        return "taken"
    return "ours" if isinstance(data, dict) and "version" in data and "status" in data else "taken"


def probe_with(session: aiohttp.ClientSession) -> Probes:
    """Endpoint checks through `session`: one minimal request each, all at once."""

    async def run(config: Config, keys: ResolvedKeys) -> dict[str, ProbeOutcome]:
        ready = [e for e in config.endpoints if e.enabled and e.name not in keys.problems]
        results = await asyncio.gather(
            *(probe(session, e, keys.keys.get(e.name), config.timeouts) for e in ready)
        )
        return {
            e.name: ProbeOutcome(r.status, r.latency_ms, r.error, r.model)
            for e, r in zip(ready, results, strict=True)
        }

    return run


async def gather(
    *,
    config_path: Path,
    env: Mapping[str, str],
    claude_dir: Path,
    store: KeyStore,
    keys: Callable[[Config], ResolvedKeys],
    probes: Probes | None,
    proxy_url: str | None = None,
    shell_label: str = "your shell's environment",
    autostart: Callable[[], AutostartFacts | None] | None = None,
) -> Facts:
    """Every fact; `probes` None skips the endpoint requests (no network used)."""
    config, error, exists = await asyncio.to_thread(config_facts, config_path, env)
    claude = await asyncio.to_thread(claude_facts, claude_dir, env, shell_label)
    listen = config.listen
    url = proxy_url or f"http://{listen.host}:{listen.port}"
    port = urlsplit(url).port or listen.port
    resolved = await asyncio.to_thread(keys, config)
    listening = {u: await url_listens(u) for u in loopback_urls(claude)}
    return Facts(
        proxy_url=url,
        port=port,
        config=config,
        config_path=str(config_path),
        config_exists=exists,
        config_error=error,
        claude=claude,
        listening=listening,
        port_state=await port_state(listen.host, port),
        keyring_error=await asyncio.to_thread(keyring_problem, store),
        key_problems=resolved.problems,
        probes=await probes(config, resolved) if probes is not None else None,
        autostart=await asyncio.to_thread(autostart) if autostart is not None else None,
    )
