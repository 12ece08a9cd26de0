"""The proxy on its own event loop in a background thread; the tray's one handle on it.

Thread-safe: every public method may be called from any thread. State goes out as immutable
`Snapshot`s; commands go in as coroutines scheduled on the proxy's loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from proxy.admin import Admin, make_admin
from proxy.clock import Clock, SystemClock
from proxy.config_file import load_config, update_config_file
from proxy.core.config import Config
from proxy.core.errors import CcfError
from proxy.core.status import Snapshot, stopped
from proxy.keys import KeyStore, resolve_keys
from proxy.runtime import Runtime, SecretSink
from proxy.server import RunningServer, start_server
from proxy.watch import ConfigWatcher

log = logging.getLogger("ccf.service")
Listener = Callable[[Snapshot], None]
START_TIMEOUT = 30.0


class ProxyService:
    def __init__(
        self,
        config_path: Path,
        env: Mapping[str, str],
        store: KeyStore,
        *,
        clock: Clock | None = None,
        log_path: Path | None = None,
        secret_sink: SecretSink | None = None,
    ) -> None:
        self.config_path = config_path
        self.env = dict(env)
        self.store = store
        self.clock = clock or SystemClock()
        self.log_path = log_path
        self.secret_sink = secret_sink
        self._listeners: list[Listener] = []
        self._runtime: Runtime | None = None
        self._server: RunningServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._problem = ""
        self._config: Config | None = None
        self._admin: Admin | None = None

    # ------------------------------------------------------------ what the tray reads

    @property
    def url(self) -> str:
        if self._server is not None:
            return self._server.url
        listen = self._config.listen if self._config else None
        return f"http://{listen.host}:{listen.port}" if listen else "http://127.0.0.1:8765"

    @property
    def settings_url(self) -> str:
        return f"{self.url}/_ccf/"

    @property
    def access_token(self) -> str | None:
        config = self.config
        token = config.security.access_token if config else None
        return token.value if token else None

    @property
    def config(self) -> Config | None:
        return self._runtime.config if self._runtime else self._config

    def snapshot(self) -> Snapshot:
        runtime = self._runtime
        if runtime is None or self._server is None:
            return stopped(self.url, self._problem)
        return runtime.snapshot()

    def subscribe(self, callback: Listener) -> None:
        self._listeners.append(callback)

    def _publish(self) -> None:
        snapshot = self.snapshot()
        for callback in list(self._listeners):
            try:
                callback(snapshot)
            except Exception:
                log.exception("a snapshot listener failed")

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the proxy thread; return once it listens or has failed (see `snapshot`)."""
        if self._thread is not None and self._thread.is_alive():
            return
        ready = threading.Event()
        self._problem = ""
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="ccf-proxy", daemon=True
        )
        self._thread.start()
        ready.wait(START_TIMEOUT)
        self._publish()

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(ready))
        except CcfError as exc:
            self._problem = str(exc)
            log.error("the proxy could not start: %s", exc)
        except Exception as exc:
            self._problem = (
                f"The proxy stopped unexpectedly ({type(exc).__name__}: {exc}). "
                "Choose Restart proxy; the details are in the log."
            )
            log.exception("the proxy thread crashed")
        finally:
            self._runtime = None
            self._server = None
            self._loop = None
            loop.close()
            ready.set()
            self._publish()

    async def _main(self, ready: threading.Event) -> None:
        loop = asyncio.get_running_loop()
        config = await loop.run_in_executor(None, load_config, self.config_path, self.env)
        self._config = config
        keys = await loop.run_in_executor(None, resolve_keys, config, self.store, self.env)
        runtime = Runtime(config, keys, self.clock, self.secret_sink)
        runtime.subscribe(self._publish)
        self._stop = asyncio.Event()
        admin = make_admin(self.config_path, self.env, self.store, self.clock, self.secret_sink)
        self._admin = admin
        self._server = await start_server(runtime, admin=admin)
        self._runtime = runtime
        log.info("Claude Code Fallback is listening on %s", self._server.url)
        watcher = ConfigWatcher(self.config_path, self.env, self.store, runtime, admin=admin)
        watcher.start()
        ready.set()
        await self._stop.wait()
        await watcher.stop()
        await self._server.stop()

    def stop(self, grace: float = 5.0) -> None:
        loop, stop_event, thread = self._loop, self._stop, self._thread
        if loop is not None and stop_event is not None:
            loop.call_soon_threadsafe(stop_event.set)
        if thread is not None:
            thread.join(grace + 5)
        self._thread = None

    def restart(self) -> None:
        self.stop()
        self.start()

    # ------------------------------------------------------------ commands

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        loop = self._loop
        if loop is None:
            coro.close()
            raise CcfError("the proxy is not running")
        asyncio.run_coroutine_threadsafe(coro, loop).result(10)

    def login_url(self) -> str:
        """A single-use link that signs the settings window in (valid for a minute)."""
        loop, admin = self._loop, self._admin
        if loop is None or admin is None:
            raise CcfError("the proxy is not running, so there are no settings to open")

        async def new_code() -> str:
            return admin.sessions.new_code()

        code = asyncio.run_coroutine_threadsafe(new_code(), loop).result(10)
        return f"{self.url}/_ccf/login?code={code}"

    def pin(self, name: str | None) -> None:
        """Try `name` first (None: the configured order); kept in the config file."""
        self._call(self._set_routing(pinned=name))

    def pause(self, paused: bool) -> None:
        """Only the first endpoint while paused; kept in the config file."""
        self._call(self._set_routing(paused=paused))

    async def _set_routing(self, **changes: Any) -> None:
        runtime = self._runtime
        if runtime is None:
            return

        def change(data: dict[str, Any]) -> None:
            routing = data.get("routing")
            data["routing"] = {**(routing if isinstance(routing, dict) else {}), **changes}

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, update_config_file, self.config_path, change, self.env)
        runtime.set_config(runtime.config.with_routing(**changes), runtime.keys)
