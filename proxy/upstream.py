"""The upstream boundary: one ClientSession per app, aiohttp errors mapped to our tree."""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Callable
from typing import Any, Self

import aiohttp
from yarl import URL

from proxy.core.config import Config
from proxy.core.errors import (
    UpstreamConnectError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamResetError,
    UpstreamTimeoutError,
)
from proxy.net import NetConnector, TrustStore

LARGE_BODY = 1024 * 1024  # aiohttp streams larger bodies from a file-like object


def new_session(config: Callable[[], Config] | None = None) -> aiohttp.ClientSession:
    """Proxies and TLS trust as the system says (`proxy.net`); `config` gives the CA files."""
    connector = NetConnector(
        TrustStore(config), limit=0, limit_per_host=0, enable_cleanup_closed=False
    )
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=True,
        timeout=aiohttp.ClientTimeout(total=None),
    )


NO_USER_AGENT = ("User-Agent",)


def skipped_auto_headers(headers: list[tuple[str, str]]) -> tuple[str, ...] | None:
    """No User-Agent of aiohttp's where the client sent none (asked for per request: a
    session-wide skip list costs a copy of the headers on every request)."""
    for name, _ in headers:  # a loop, not `any()`: a generator costs twice as much here
        if len(name) == 10 and name.lower() == "user-agent":
            return None
    return NO_USER_AGENT


class UpstreamErrors:
    """Translates what aiohttp and the OS raise into the most specific `UpstreamError`.

    A class rather than `@contextmanager`, which costs three times as much per use.
    """

    __slots__ = ("endpoint", "phase")

    def __init__(self, endpoint: str, phase: str) -> None:
        self.endpoint = endpoint
        self.phase = phase

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: Any, tb: Any) -> None:
        if exc is not None:
            self.raise_translated(exc)

    def raise_translated(self, exc: BaseException) -> None:
        """Raise `exc` as an `UpstreamError`; return if it is not one of those it maps.

        For an `except` clause where a `with` block costs too much (once per event).
        """
        if isinstance(exc, UpstreamError):
            return
        translated = self.translate(exc)
        if translated is not None:
            raise translated from exc

    def translate(self, exc: BaseException) -> UpstreamError | None:
        if isinstance(exc, TimeoutError):
            message = f"{self.endpoint}: timed out waiting for {self.phase}"
            return UpstreamTimeoutError(message, phase=self.phase)
        for kinds, translated in TRANSLATIONS:
            if isinstance(exc, kinds):
                return translated(self.endpoint, exc)
        return None


TRANSLATIONS: tuple[tuple[Any, Callable[[str, Any], UpstreamError]], ...] = (
    (
        aiohttp.ClientConnectorDNSError,
        lambda name, exc: UpstreamConnectError(f"{name}: DNS lookup of {exc.host} failed"),
    ),
    (
        aiohttp.ClientConnectorError,
        lambda name, exc: UpstreamConnectError(f"{name}: cannot connect to {exc.host}:{exc.port}"),
    ),
    (
        aiohttp.ClientResponseError,
        lambda name, exc: UpstreamProtocolError(f"{name}: bad HTTP response ({exc.message})"),
    ),
    (
        (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError),
        lambda name, exc: UpstreamResetError(f"{name}: connection broke ({type(exc).__name__})"),
    ),
    (
        (aiohttp.ClientError, OSError),
        lambda name, exc: UpstreamResetError(f"{name}: connection failed ({exc})"),
    ),
)  # the first that matches wins: most specific first


@functools.cache
def connect_only(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, connect=seconds)


def exact_url(url: str) -> URL:
    """`url` as it is: parsed normally, yarl would undo escapes and resolve dot segments,
    and the client's path must reach the upstream as the client sent it."""
    return URL(url, encoded=True) if url.isascii() else URL(url)


async def open_response(
    session: aiohttp.ClientSession,
    endpoint: str,
    request: tuple[str, str, list[tuple[str, str]], bytes],
    connect_timeout: float,
) -> aiohttp.ClientResponse:
    """Send a request and wait for its response headers (the caller bounds the wait)."""
    method, url, headers, body = request
    timeout = connect_only(connect_timeout)
    data = io.BytesIO(body) if len(body) > LARGE_BODY else body or None
    try:  # not `with UpstreamErrors`: a `try` costs nothing until something is raised
        return await session.request(
            method,
            exact_url(url),
            headers=headers,
            data=data,
            timeout=timeout,
            allow_redirects=False,
            skip_auto_headers=skipped_auto_headers(headers),
        )
    except Exception as exc:
        UpstreamErrors(endpoint, "a connection").raise_translated(exc)
        raise


class Deadline:
    """Times out the current task after `seconds`: `asyncio.timeout` without its per-use
    loop and task lookups (each a `getpid()` system call on Python 3.11), for the hot path.
    A plain `with` does the same as `async with` for less."""

    __slots__ = ("_cancelling", "_expired", "_loop", "_task", "_timer", "seconds")

    def __init__(self, seconds: float, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.seconds = seconds
        self._loop = loop or asyncio.get_running_loop()
        self._expired = False
        self._timer: asyncio.TimerHandle | None = None

    def __enter__(self) -> Self:
        task = asyncio.current_task(self._loop)
        assert task is not None
        self._task, self._cancelling = task, task.cancelling()
        self._arm(self._loop.time() + self.seconds)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: Any, tb: Any) -> None:
        self._disarm()
        ours = self._expired and self._task.uncancel() <= self._cancelling
        if ours and kind is asyncio.CancelledError:
            raise TimeoutError from exc

    async def __aenter__(self) -> Self:
        return self.__enter__()

    def _arm(self, when: float) -> None:
        self._timer = self._loop.call_at(when, self._check)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _check(self) -> None:
        self._expired = True
        self._task.cancel()

    async def __aexit__(self, kind: type[BaseException] | None, exc: Any, tb: Any) -> None:
        self.__exit__(kind, exc, tb)


class Sweeper:
    """Checks the deadlines of every request on one loop with one periodic timer.

    A timer armed and cancelled per request costs more than the rest of its bookkeeping;
    deadlines of seconds do not need one each. They fire at most `tick` seconds late.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, tick: float = 0.05) -> None:
        self.loop = loop
        self.tick = tick
        self._due: dict[SweptDeadline, float] = {}
        self._timer: asyncio.TimerHandle | None = None

    def add(self, deadline: SweptDeadline, when: float) -> None:
        self._due[deadline] = when
        if self._timer is None:
            self._timer = self.loop.call_later(self.tick, self._sweep)

    def discard(self, deadline: SweptDeadline) -> None:
        self._due.pop(deadline, None)

    def _sweep(self) -> None:
        now = self.loop.time()
        expired = [deadline for deadline, when in self._due.items() if when <= now]
        for deadline in expired:
            del self._due[deadline]
            deadline.expire()
        self._timer = self.loop.call_later(self.tick, self._sweep) if self._due else None


class SweptDeadline(Deadline):
    """A `Deadline` checked by a `Sweeper` instead of a timer of its own."""

    __slots__ = ("_sweeper",)

    def __init__(self, seconds: float, sweeper: Sweeper) -> None:
        super().__init__(seconds, sweeper.loop)
        self._sweeper = sweeper

    def _arm(self, when: float) -> None:
        self._sweeper.add(self, when)

    def _disarm(self) -> None:
        self._sweeper.discard(self)

    def expire(self) -> None:
        self._check()


class IdleWatch(Deadline):
    """Bounds the silence between chunks with one timer per idle period, not one per chunk.

    `touch()` after each chunk is a clock read; the timer re-arms itself until the stream
    has really been silent for `seconds`, then times out the enclosing task.
    """

    __slots__ = ("_last",)

    def __init__(self, seconds: float, loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(seconds, loop)
        self._last = self._loop.time()

    def touch(self) -> None:
        self._last = self._loop.time()

    def _check(self) -> None:
        due = self._last + self.seconds
        if self._loop.time() >= due:
            super()._check()
        else:
            self._timer = self._loop.call_at(due, self._check)


class IdleBound(IdleWatch):
    """An `IdleWatch` for reading from `endpoint`: its expiry, and any aiohttp or OS error
    raised inside, come out as the `UpstreamError` that names the endpoint."""

    __slots__ = ("endpoint",)

    def __init__(
        self, endpoint: str, seconds: float, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        super().__init__(seconds, loop)
        self.endpoint = endpoint

    async def __aexit__(self, kind: type[BaseException] | None, exc: Any, tb: Any) -> None:
        try:
            await super().__aexit__(kind, exc, tb)
        except TimeoutError as expired:
            exc = expired
        if exc is not None:
            phase = f"data (idle for {self.seconds:g} s)"
            UpstreamErrors(self.endpoint, phase).raise_translated(exc)


async def read_chunk(response: aiohttp.ClientResponse, endpoint: str) -> bytes:
    """The next bytes of the body as they arrive; b"" at its end."""
    with UpstreamErrors(endpoint, "data"):
        return await response.content.readany()


async def read_all(
    response: aiohttp.ClientResponse,
    endpoint: str,
    idle: float,
    loop: asyncio.AbstractEventLoop | None = None,
) -> bytes:
    """The whole body; one that came with the headers is taken without arming a timer."""
    try:
        arrived = response.content.read_nowait()
    except Exception as exc:
        UpstreamErrors(endpoint, "data").raise_translated(exc)
        raise
    if response.content.at_eof():
        return arrived
    parts = [arrived]
    async with IdleBound(endpoint, idle, loop) as watch:
        while chunk := await read_chunk(response, endpoint):
            parts.append(chunk)
            watch.touch()
    return b"".join(parts)
