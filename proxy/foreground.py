"""`ccf serve`, and `ccf` where no tray can be shown: the proxy in the foreground until
SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from proxy import PRODUCT_NAME
from proxy.core.config import Config
from proxy.running import ProxySetup, RunningProxy, start_proxy

log = logging.getLogger("ccf")
Listening = Callable[[RunningProxy], None]


def say(line: str) -> None:
    print(line, flush=True)


def print_addresses(proxy: RunningProxy) -> None:
    say(f"{PRODUCT_NAME} is listening on {proxy.url}")
    say(f"Point Claude Code at it: export ANTHROPIC_BASE_URL={proxy.url}")
    say(f"Settings: run `ccf settings` (the page is at {proxy.url}/_ccf/)")


def announce_move(url: str) -> None:
    say(f"{PRODUCT_NAME} now listens on {url}")


async def serve_until_stopped(
    setup: ProxySetup, config: Config, on_listening: Listening = print_addresses
) -> None:
    """Run until a signal; raises `PortInUseError` if the address is taken."""
    proxy = await start_proxy(setup, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows event loops have no signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    on_listening(proxy)
    try:
        await stop.wait()
    finally:
        log.info("stopping; streams in flight get a few seconds to finish")
        await proxy.stop()
