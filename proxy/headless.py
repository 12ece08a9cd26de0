"""`ccf serve`: the proxy in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping
from pathlib import Path

from proxy.admin import make_admin
from proxy.clock import SystemClock
from proxy.config_file import config_path as default_config_path
from proxy.core.config import Config
from proxy.keys import KeyStore, resolve_keys
from proxy.runtime import Runtime, SecretSink
from proxy.server import start_server
from proxy.watch import ConfigWatcher

log = logging.getLogger("ccf")


async def serve_until_stopped(
    config: Config,
    store: KeyStore,
    env: Mapping[str, str],
    secret_sink: SecretSink | None = None,
    config_path: Path | None = None,
) -> None:
    """Run until a signal; raises `PortInUseError` if the address is taken.

    The settings page edits `config_path` (default: CCF_CONFIG or the user config dir).
    """
    loop = asyncio.get_running_loop()
    keys = await loop.run_in_executor(None, resolve_keys, config, store, env)
    for name, problem in keys.problems.items():
        log.warning("%s will be skipped: %s", name, problem)
    runtime = Runtime(config, keys, SystemClock(), secret_sink)
    path = config_path or default_config_path(None, env)
    admin = make_admin(path, env, store, runtime.clock, secret_sink)
    admin.announce = lambda url: print(f"Claude Code Fallback now listens on {url}", flush=True)
    server = await start_server(runtime, admin=admin)
    watcher = ConfigWatcher(path, env, store, runtime, admin=admin)
    watcher.start()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows event loops have no signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    print(f"Claude Code Fallback is listening on {server.url}", flush=True)
    print(f"Point Claude Code at it: export ANTHROPIC_BASE_URL={server.url}", flush=True)
    print(f"Settings: run `ccf settings` (the page is at {server.url}/_ccf/)", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("stopping; streams in flight get a few seconds to finish")
        await watcher.stop()
        await server.stop()
