"""Client connections with time limits: a request head must arrive whole within
`head_seconds`, a request body may not stall longer than `body_stall_seconds`, and in LAN mode
one client address may hold at most `per_client` connections.

aiohttp has no time limit for reading a request head, and none for a body that stops
arriving: a client that sends half a request holds its connection (and, for a body, a
handler) for as long as it likes. The head clock starts at the first byte of a request, or
when the connection opens for its first request; a connection idle between requests is
aiohttp's keep-alive business, not this module's. Each connection has at most one timer; it
is set for the earliest deadline and, when it fires, looks again at what the connection is
doing, so bytes arriving cost no timer work.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger("ccf.proxy")


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    head_seconds: float = 10.0  # from a request's first byte (or the connection) to its head's end
    body_stall_seconds: float = 10.0  # the longest silence while a request body is arriving
    per_client: int = 64  # open connections from one address, on a non-loopback address


def is_loopback_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


class ClientCounts:
    """Open connections per client address, for connections that came in on a LAN address."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()
        self.warned: set[str] = set()  # refused since their count was last under the limit

    def admit(self, client: str) -> bool:
        if self.open[client] < self.limit:
            self.open[client] += 1
            return True
        if client not in self.warned:
            self.warned.add(client)
            log.warning("refusing connections from %s: it has %d open", client, self.limit)
        return False

    def release(self, client: str) -> None:
        self.open[client] -= 1
        if self.open[client] < self.limit:
            self.warned.discard(client)
        if self.open[client] <= 0:
            del self.open[client]


class WatchedRequestHandler(RequestHandler):
    """aiohttp's connection protocol with the read deadlines of `ConnectionLimits`."""

    def __init__(self, manager: GuardedServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._limits = manager.limits
        self._counts = manager.counts
        self._client: str | None = None  # counted against the LAN cap
        self._head_since: float | None = None  # a request head has been arriving since then
        self._body: StreamReader | None = None  # the body of the request being handled
        self._busy = False  # a handler runs; a head that arrives now waits for it
        self._last_data = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self._admit(transport):
            self._cut()
            return
        self._head_since = self._last_data = self._loop.time()
        self._arm()

    def _admit(self, transport: asyncio.BaseTransport) -> bool:
        local, peer = transport.get_extra_info("sockname"), transport.get_extra_info("peername")
        if not isinstance(local, tuple) or not isinstance(peer, tuple):
            return True
        if is_loopback_address(str(local[0])):
            return True
        if not self._counts.admit(str(peer[0])):
            return False
        self._client = str(peer[0])
        return True

    def data_received(self, data: bytes) -> None:
        if data:  # aiohttp calls this with b"" itself, to resume parsing what it holds
            self._last_data = now = self._loop.time()
            if self._head_since is None and not self._body_open():
                self._head_since = now  # the start of the next request
                self._arm()
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._client is not None:
            self._counts.release(self._client)
            self._client = None
        super().connection_lost(exc)

    def head_arrived(self, body: StreamReader) -> None:
        self._head_since, self._body, self._busy = None, body, True
        self._arm()

    def handler_done(self) -> None:
        self._busy = False
        if not self._body_open():
            self._body = None  # read: nothing left to time (an unread one is drained, timed)
        if self._head_since is not None:  # a pipelined head waited; its clock starts now
            self._head_since = self._loop.time()
            self._arm()

    def _body_open(self) -> bool:
        return self._body is not None and not self._body.is_eof()

    def _deadline(self) -> float | None:
        if self._head_since is not None and not self._busy:
            return self._head_since + self._limits.head_seconds
        if self._body_open():
            if self._reading_paused:  # our own back-pressure: the client is not to blame
                self._last_data = self._loop.time()
            return self._last_data + self._limits.body_stall_seconds
        return None

    def _arm(self) -> None:
        deadline = self._deadline()
        if deadline is None or (self._timer is not None and self._timer.when() <= deadline):
            return  # nothing to time, or the timer fires first and will look again
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(deadline, self._check)

    def _check(self) -> None:
        self._timer = None
        deadline = self._deadline()
        if deadline is not None and self._loop.time() >= deadline:
            phase = "head" if self._head_since is not None else "body"
            log.debug("closed a connection whose request %s stalled", phase)
            self._cut()
        elif deadline is not None:
            self._timer = self._loop.call_at(deadline, self._check)

    def _cut(self) -> None:
        transport = self.transport
        self.force_close()
        if transport is not None:
            transport.abort()  # close() would wait to flush to a client that may not read


class GuardedServer(web.Server):
    """The app's `web.Server`, making `WatchedRequestHandler`s."""

    def __init__(self, plain: web.Server, limits: ConnectionLimits) -> None:
        super().__init__(
            self._tracked(plain.request_handler),
            request_factory=self._noting(plain.request_factory),
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,  # aiohttp keeps the loop and the handler options private
            **plain._kwargs,
        )
        self.limits = limits
        self.counts = ClientCounts(limits.per_client)

    def __call__(self) -> RequestHandler:
        return WatchedRequestHandler(self, loop=self._loop, **self._kwargs)

    @staticmethod
    def _noting(factory: Any) -> Any:
        def make_request(
            message: RawRequestMessage,
            payload: StreamReader,
            protocol: RequestHandler,
            writer: AbstractStreamWriter,
            task: asyncio.Task[None],
        ) -> web.BaseRequest:
            if isinstance(protocol, WatchedRequestHandler):
                protocol.head_arrived(payload)
            return factory(message, payload, protocol, writer, task)  # type: ignore[no-any-return]

        return make_request

    @staticmethod
    def _tracked(handler: Any) -> Any:
        async def handle(request: web.BaseRequest) -> web.StreamResponse:
            try:
                return await handler(request)  # type: ignore[no-any-return]
            finally:
                protocol = request.protocol
                if isinstance(protocol, WatchedRequestHandler):
                    protocol.handler_done()

        return handle


class GuardedAppRunner(web.AppRunner):
    """`web.AppRunner` whose connections keep to `limits`."""

    def __init__(self, app: web.Application, *, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.limits = limits

    async def _make_server(self) -> web.Server:
        return GuardedServer(await super()._make_server(), self.limits)
