"""Running the app on a socket: start, report where, move to another port, stop gracefully."""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass

from aiohttp import web

from proxy.app import create_app
from proxy.connections import ConnectionLimits, GuardedAppRunner
from proxy.core.errors import ListenError, PortInUseError
from proxy.runtime import Runtime

log = logging.getLogger("ccf.proxy")


@dataclass(frozen=True, slots=True)
class BoundSite:
    site: web.TCPSite
    host: str

    @property
    def port(self) -> int:
        return self.site.port  # the port that 0 became


class RunningServer:
    """The app's listening sockets: `start` on an address, move to another, `stop` gracefully.

    Made before the app it serves, so what changes the address can be given it up front.
    """

    def __init__(self, grace: float = 5.0, limits: ConnectionLimits | None = None) -> None:
        self.grace = grace
        self.limits = limits or ConnectionLimits()  # on client connections: proxy.connections
        self.host = ""
        self.port = 0
        self.site: BoundSite | None = None
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self, app: web.Application, host: str, port: int) -> None:
        """Serve `app` on host:port; raise `PortInUseError` if that is taken."""
        runner = GuardedAppRunner(
            app,
            limits=self.limits,
            handler_cancellation=True,
            shutdown_timeout=self.grace,
            access_log=None,
        )
        await runner.setup()
        try:
            site = await open_site(runner, host, port)
        except BaseException:
            await runner.cleanup()
            raise
        self.runner = runner
        await self.switch_to(site)

    async def stop(self) -> None:
        runner, self.runner = self.runner, None
        if runner is not None:
            await runner.cleanup()

    async def add_site(self, host: str, port: int) -> BoundSite:
        """Listen on another address too; raise `PortInUseError` if it is taken."""
        if self.runner is None:
            raise ListenError("the proxy is not running")
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
    runtime: Runtime, grace: float = 5.0, limits: ConnectionLimits | None = None
) -> RunningServer:
    """The proxy alone (no settings page, no file) on the config's address, for tests and
    benchmarks; the application is put together by `proxy.running.start_proxy`."""
    server = RunningServer(grace, limits)
    await server.start(create_app(runtime), runtime.config.listen.host, runtime.config.listen.port)
    runtime.url = server.url
    return server
