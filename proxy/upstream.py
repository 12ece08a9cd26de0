"""The upstream boundary: one ClientSession per app, aiohttp errors mapped to our tree."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiohttp

from proxy.core.errors import (
    UpstreamConnectError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamResetError,
    UpstreamTimeoutError,
)

LARGE_BODY = 1024 * 1024  # aiohttp streams larger bodies from a file-like object


def new_session() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, enable_cleanup_closed=False)
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=True,
        timeout=aiohttp.ClientTimeout(total=None),
        skip_auto_headers=("User-Agent",),
    )


@contextmanager
def upstream_errors(endpoint: str, phase: str) -> Iterator[None]:
    """Translate what aiohttp and the OS raise into the most specific `UpstreamError`."""
    try:
        yield
    except UpstreamError:
        raise
    except TimeoutError as exc:
        raise UpstreamTimeoutError(
            f"{endpoint}: timed out waiting for {phase}", phase=phase
        ) from exc
    except aiohttp.ClientConnectorDNSError as exc:
        raise UpstreamConnectError(f"{endpoint}: DNS lookup of {exc.host} failed") from exc
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamConnectError(f"{endpoint}: cannot connect to {exc.host}:{exc.port}") from exc
    except aiohttp.ClientResponseError as exc:
        raise UpstreamProtocolError(f"{endpoint}: bad HTTP response ({exc.message})") from exc
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
        raise UpstreamResetError(f"{endpoint}: connection broke ({type(exc).__name__})") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise UpstreamResetError(f"{endpoint}: connection failed ({exc})") from exc


async def open_response(
    session: aiohttp.ClientSession,
    endpoint: str,
    request: tuple[str, str, list[tuple[str, str]], bytes],
    connect_timeout: float,
) -> aiohttp.ClientResponse:
    """Send a request and wait for its response headers (the caller bounds the wait)."""
    method, url, headers, body = request
    timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout)
    data = io.BytesIO(body) if len(body) > LARGE_BODY else body or None
    with upstream_errors(endpoint, "a connection"):
        return await session.request(
            method, url, headers=headers, data=data, timeout=timeout, allow_redirects=False
        )


class IdleWatch:
    """Bounds the silence between chunks with one timer per idle period, not one per chunk.

    `touch()` after each chunk is a clock read; the timer re-arms itself until the stream
    has really been silent for `idle` seconds, then times out the enclosing task.
    """

    def __init__(self, idle: float) -> None:
        self.idle = idle
        self._loop = asyncio.get_running_loop()
        self._scope = asyncio.timeout(None)
        self._last = self._loop.time()
        self._timer: asyncio.TimerHandle | None = None

    def touch(self) -> None:
        self._last = self._loop.time()

    def _check(self) -> None:
        due = self._last + self.idle
        if self._loop.time() >= due:
            self._scope.reschedule(self._loop.time())
        else:
            self._timer = self._loop.call_at(due, self._check)

    async def __aenter__(self) -> IdleWatch:
        await self._scope.__aenter__()
        self._timer = self._loop.call_at(self._last + self.idle, self._check)
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._timer is not None:
            self._timer.cancel()
        await self._scope.__aexit__(*exc_info)


@asynccontextmanager
async def idle_bound(endpoint: str, idle: float) -> AsyncIterator[IdleWatch]:
    """An `IdleWatch` whose expiry is an `UpstreamTimeoutError` naming the endpoint."""
    with upstream_errors(endpoint, f"data (idle for {idle:g} s)"):
        async with IdleWatch(idle) as watch:
            yield watch


async def read_chunk(response: aiohttp.ClientResponse, endpoint: str) -> bytes:
    """The next bytes of the body as they arrive; b"" at its end."""
    with upstream_errors(endpoint, "data"):
        return await response.content.readany()


async def read_all(response: aiohttp.ClientResponse, endpoint: str, idle: float) -> bytes:
    parts: list[bytes] = []
    async with idle_bound(endpoint, idle) as watch:
        while chunk := await read_chunk(response, endpoint):
            parts.append(chunk)
            watch.touch()
    return b"".join(parts)
