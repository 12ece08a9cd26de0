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

from proxy import PRODUCT_NAME
from proxy.clock import Clock, SystemClock
from proxy.config_file import load_config
from proxy.core import config_edit
from proxy.core.config import Config
from proxy.core.errors import CcfError
from proxy.core.status import Snapshot, stopped
from proxy.keys import KeyStore
from proxy.running import ProxySetup, RunningProxy, start_proxy
from proxy.runtime import SecretSink
from proxy.tasks import off_loop

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
        self.setup = ProxySetup(
            config_path,
            dict(env),
            store,
            clock or SystemClock(),
            secret_sink=secret_sink,
            announce=self._moved,
        )
        self.log_path = log_path
        self._listeners: list[Listener] = []
        self._proxy: RunningProxy | None = None  # set while it listens
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._problem = ""
        self._config: Config | None = None

    # ------------------------------------------------------------ what the tray reads

    @property
    def config_path(self) -> Path:
        return self.setup.config_path

    @property
    def url(self) -> str:
        """Where Claude Code should send its requests."""
        proxy = self._proxy
        if proxy is not None and not proxy.port_blocked:
            return proxy.url
        listen = self._config.listen if self._config else None
        return f"http://{listen.host}:{listen.port}" if listen else "http://127.0.0.1:8765"

    @property
    def settings_url(self) -> str:
        return f"{self._page_url()}/_ccf/"

    def _page_url(self) -> str:
        """Where the settings page is served: the spare port while the configured one is taken."""
        return self._proxy.url if self._proxy is not None else self.url

    @property
    def access_token(self) -> str | None:
        config = self.config
        token = config.security.access_token if config else None
        return token.value if token else None

    @property
    def config(self) -> Config | None:
        return self._proxy.runtime.config if self._proxy else self._config

    def snapshot(self) -> Snapshot:
        proxy = self._proxy
        if proxy is None:
            return stopped(self.url, self._problem)
        if proxy.port_blocked:
            return stopped(self.url, proxy.blocked)
        return proxy.runtime.snapshot()

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
            self._proxy = None
            self._loop = None
            loop.close()
            ready.set()
            self._publish()

    async def _main(self, ready: threading.Event) -> None:
        config = await off_loop(load_config, self.config_path, self.setup.env)
        self._config = config
        self._stop = asyncio.Event()
        proxy = await start_proxy(self.setup, config, spare_port_if_taken=True)
        proxy.runtime.subscribe(self._publish)
        self._proxy = proxy
        log.info("%s is listening on %s", PRODUCT_NAME, proxy.url)
        ready.set()
        await self._stop.wait()
        await proxy.stop()

    def _moved(self, url: str) -> None:
        """A settings change (or a hand edit) moved the proxy, maybe off the spare port."""
        proxy = self._proxy
        if proxy is not None and proxy.blocked and proxy.runtime.problem == proxy.blocked:
            proxy.runtime.set_problem("")
            log.info("the port problem is fixed: listening on %s", url)
        self._publish()

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
        loop, proxy = self._loop, self._proxy
        if loop is None or proxy is None:
            raise CcfError("the proxy is not running, so there are no settings to open")
        sessions = proxy.admin.sessions

        async def new_code() -> str:
            return sessions.new_code()

        code = asyncio.run_coroutine_threadsafe(new_code(), loop).result(10)
        return f"{self._page_url()}/_ccf/login?code={code}"

    def pin(self, name: str | None) -> None:
        """Try `name` first (None: the configured order); kept in the config file."""
        self._call(self._set_routing({"pinned": name}))

    def pause(self, paused: bool) -> None:
        """Only the first endpoint while paused; kept in the config file."""
        self._call(self._set_routing({"paused": paused}))

    async def _set_routing(self, changes: dict[str, Any]) -> None:
        """The same transaction as a settings save: locked, validated, comments kept."""
        proxy = self._proxy
        if proxy is None:
            return
        await proxy.changes.edit(lambda raw: config_edit.set_routing(raw, changes))
