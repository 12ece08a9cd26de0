"""Running the app on a socket: start, report where, move to another port, stop gracefully."""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass

from aiohttp import web

from proxy.admin.context import Admin
from proxy.app import create_app
from proxy.core.errors import PortInUseError
from proxy.runtime import Runtime

log = logging.getLogger("ccf.proxy")


@dataclass(frozen=True, slots=True)
class BoundSite:
    site: web.TCPSite
    host: str

    @property
    def port(self) -> int:
        return self.site.port  # the port that 0 became


@dataclass(slots=True)
class RunningServer:
    runner: web.AppRunner
    host: str
    port: int
    site: BoundSite | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def add_site(self, host: str, port: int) -> BoundSite:
        """Listen on another address too; raise `PortInUseError` if it is taken."""
        return await open_site(self.runner, host, port)

    async def switch_to(self, bound: BoundSite) -> None:
        """Make `bound` the address; the old one stops accepting (its connections finish)."""
        old, self.site = self.site, bound
        self.host, self.port = bound.host, bound.port
        if old is not None:
            await old.site.stop()

    async def drop_site(self, bound: BoundSite) -> None:
        await bound.site.stop()


# Connections the kernel queues until they are accepted: at aiohttp's 128, a burst of new
# streams (Claude Code's subagents, say) loses SYNs, and each lost one waits a second.
LISTEN_BACKLOG = 1024


def port_in_use_message(host: str, port: int) -> str:
    return (
        f"Port {port} on {host} is in use by another program. Stop that program, or choose "
        f"another port (ccf serve --port N, CCF_PORT, or Settings → General)."
    )


async def open_site(runner: web.AppRunner, host: str, port: int) -> BoundSite:
    site = web.TCPSite(runner, host, port, reuse_address=True, backlog=LISTEN_BACKLOG)
    try:
        await site.start()
    except OSError as exc:
        await site.stop()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUseError(port_in_use_message(host, port)) from None
        raise
    return BoundSite(site, host)


async def start_server(
    runtime: Runtime, grace: float = 5.0, admin: Admin | None = None
) -> RunningServer:
    """Listen on the config's address; raise `PortInUseError` if it is taken.

    With `admin`, the settings page and its API are served at `/_ccf/`.
    """
    listen = runtime.config.listen
    runner = web.AppRunner(
        create_app(runtime, admin),
        handler_cancellation=True,
        shutdown_timeout=grace,
        access_log=None,
    )
    await runner.setup()
    try:
        site = await open_site(runner, listen.host, listen.port)
    except BaseException:
        await runner.cleanup()
        raise
    running = RunningServer(runner=runner, host=listen.host, port=listen.port)
    await running.switch_to(site)
    runtime.url = running.url
    if admin is not None:
        admin.listener = running
    return running
