"""When the configured port is taken: listen on a spare loopback port instead, so the
settings page still opens and the user can choose another port there.

The running config's address becomes `SPARE` (loopback, a port the system picks). Any
settings change or hand edit then names an address other than `SPARE`, so the admin
transaction (or the config watcher) opens it and moves there, and `Admin.announce` says
so: the proxy is where the user wants it, and nothing was edited by hand.
"""

from __future__ import annotations

from dataclasses import replace

from proxy.admin.context import Admin
from proxy.core.config import Listen
from proxy.runtime import Runtime
from proxy.server import RunningServer, start_server

SPARE = Listen(host="127.0.0.1", port=0)


async def start_on_spare_port(runtime: Runtime, admin: Admin) -> RunningServer:
    runtime.set_config(replace(runtime.config, listen=SPARE), runtime.keys)
    return await start_server(runtime, admin=admin)


def on_spare_port(runtime: Runtime) -> bool:
    """Still on the spare port: no change has moved the proxy to a port of the user's."""
    return runtime.config.listen == SPARE
