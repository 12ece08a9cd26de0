"""The running proxy, put together in one place for the tray, `ccf serve` and the tests.

    config, keys -> Runtime (live state)
    RunningServer (the sockets, not yet open)
    ConfigChanges (the one writer: file, keyring, runtime, sockets)
    Admin (the settings page's API) -> the aiohttp app -> the server listens
    ConfigWatcher (hand edits of the file, through the same writer)

Every part gets what it needs when it is made; nothing is filled in afterwards.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from proxy.admin.context import Admin, claude_config_dir
from proxy.admin.sessions import Sessions
from proxy.admin.token import AdminToken
from proxy.app import create_app
from proxy.blocked_port import on_spare_port, start_on_spare_port
from proxy.clock import Clock, SystemClock
from proxy.config_changes import Announce, ConfigChanges
from proxy.core.config import Config
from proxy.core.errors import PortInUseError
from proxy.keys import KeyStore, resolve_keys
from proxy.runtime import Runtime, SecretSink
from proxy.server import RunningServer
from proxy.tasks import off_loop
from proxy.watch import ConfigWatcher

log = logging.getLogger("ccf")


@dataclass(frozen=True)
class ProxySetup:
    """What the running proxy is made from; everything else it builds itself."""

    config_path: Path
    env: Mapping[str, str]
    store: KeyStore
    clock: Clock = field(default_factory=SystemClock)
    secret_sink: SecretSink | None = None  # the log redactor learns every credential
    announce: Announce | None = None  # told the new URL after a port change
    grace: float = 5.0  # seconds streams in flight get at stop
    watch_interval: float = 1.0  # seconds between looks at the config file


@dataclass(frozen=True)
class RunningProxy:
    runtime: Runtime
    server: RunningServer
    admin: Admin
    changes: ConfigChanges
    watcher: ConfigWatcher

    blocked: str = ""  # why the configured port could not be had (the page is on a spare one)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port_blocked(self) -> bool:
        """Still on the spare port: no change has moved the proxy to a port of the user's."""
        return bool(self.blocked) and on_spare_port(self.runtime)

    async def stop(self) -> None:
        await self.watcher.stop()
        await self.server.stop()


def settle_heap() -> None:
    """Leave what startup made (~47,000 objects: modules, the app, the config) out of the
    collector's sweeps, and collect the young generation every 10,000 net allocations rather
    than 700: with 50 clients the collector took 8.8% of the proxy's busy CPU (py-spy,
    tests.bench.profile), 7.5% with the freeze alone, under 0.1% with both. Cyclic garbage
    waits a little longer to be freed; request objects are freed by reference counting."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


async def start_proxy(
    setup: ProxySetup, config: Config, *, spare_port_if_taken: bool = False
) -> RunningProxy:
    """Listen on `config`'s address with the settings page and the file watched.

    Raises `PortInUseError` (or another `ListenError`) if the address cannot be had; with
    `spare_port_if_taken` it listens on a spare loopback port instead (see
    `proxy.blocked_port`), so the settings page can move it where the user chooses.
    """
    env = dict(setup.env)
    keys = await off_loop(resolve_keys, config, setup.store, env)
    for name, problem in keys.problems.items():
        log.warning("%s will be skipped: %s", name, problem)
    runtime = Runtime(config, keys, setup.clock, setup.secret_sink)
    server = RunningServer(setup.grace)
    changes = ConfigChanges(
        setup.config_path, env, setup.store, runtime, listener=server, announce=setup.announce
    )
    admin = Admin(
        config_path=setup.config_path,
        env=env,
        store=setup.store,
        sessions=Sessions(setup.clock),
        claude_dir=claude_config_dir(env),
        changes=changes,
        token=AdminToken(setup.store, setup.secret_sink),
    )
    blocked = ""
    try:
        await server.start(create_app(runtime, admin), config.listen.host, config.listen.port)
    except PortInUseError as exc:
        if not spare_port_if_taken:
            raise
        blocked = str(exc)
        log.error("%s Serving the settings page on a spare port meanwhile.", exc)
        await start_on_spare_port(runtime, server, create_app(runtime, admin))
        runtime.set_problem(blocked)
    runtime.url = server.url
    settle_heap()
    watcher = ConfigWatcher(changes, interval=setup.watch_interval)
    watcher.start()
    return RunningProxy(runtime, server, admin, changes, watcher, blocked)
