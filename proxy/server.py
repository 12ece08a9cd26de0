"""Running the app on a socket: start, report where, stop gracefully."""

from __future__ import annotations

import errno
from dataclasses import dataclass

from aiohttp import web

from proxy.app import create_app
from proxy.core.errors import PortInUseError
from proxy.runtime import Runtime


@dataclass(slots=True)
class RunningServer:
    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()


def port_in_use_message(host: str, port: int) -> str:
    return (
        f"Port {port} on {host} is in use by another program. Stop that program, or choose "
        f"another port (ccf serve --port N, CCF_PORT, or Settings → General)."
    )


async def start_server(runtime: Runtime, grace: float = 5.0) -> RunningServer:
    """Listen on the config's address; raise `PortInUseError` if it is taken."""
    listen = runtime.config.listen
    runner = web.AppRunner(
        create_app(runtime), handler_cancellation=True, shutdown_timeout=grace, access_log=None
    )
    await runner.setup()
    site = web.TCPSite(runner, listen.host, listen.port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUseError(port_in_use_message(listen.host, listen.port)) from None
        raise
    port = int(runner.addresses[0][1]) if runner.addresses else listen.port
    running = RunningServer(runner=runner, host=listen.host, port=port)
    runtime.url = running.url
    return running
