"""When the configured port is taken: listen on a spare loopback port instead, so the
settings page still opens and the user can choose another port there.

The running config's address becomes `SPARE` (loopback, a port the system picks). Any
settings change or hand edit then names an address other than `SPARE`, so the admin
transaction (or the config watcher) opens it and moves there, and the setup's `announce` says
so: the proxy is where the user wants it, and nothing was edited by hand.
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from proxy.core.config import Listen
from proxy.runtime import Runtime
from proxy.server import RunningServer

SPARE = Listen(host="127.0.0.1", port=0)


async def start_on_spare_port(
    runtime: Runtime, server: RunningServer, app: web.Application
) -> None:
    runtime.set_config(replace(runtime.config, listen=SPARE), runtime.keys)
    await server.start(app, SPARE.host, SPARE.port)


def on_spare_port(runtime: Runtime) -> bool:
    """Still on the spare port: no change has moved the proxy to a port of the user's."""
    return runtime.config.listen == SPARE
