"""The upstream boundary: one ClientSession per app, aiohttp errors mapped to our tree."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

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
        raise UpstreamTimeoutError(f"{endpoint}: no {phase} in time", phase=phase) from exc
    except aiohttp.ClientConnectorDNSError as exc:
        raise UpstreamConnectError(f"{endpoint}: DNS lookup of {exc.host} failed") from exc
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamConnectError(f"{endpoint}: cannot connect to {exc.host}:{exc.port}") from exc
    except aiohttp.ServerTimeoutError as exc:
        raise UpstreamTimeoutError(f"{endpoint}: timed out ({phase})", phase=phase) from exc
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
    with upstream_errors(endpoint, "connection"):
        return await session.request(
            method, url, headers=headers, data=data, timeout=timeout, allow_redirects=False
        )


async def read_chunk(response: aiohttp.ClientResponse, endpoint: str, idle: float) -> bytes:
    """The next bytes of the body as they arrive; b"" at its end."""
    with upstream_errors(endpoint, "data within the idle timeout"):
        async with asyncio.timeout(idle):
            return await response.content.readany()


async def chunks(
    response: aiohttp.ClientResponse, endpoint: str, idle: float
) -> AsyncIterator[bytes]:
    while chunk := await read_chunk(response, endpoint, idle):
        yield chunk


async def read_all(response: aiohttp.ClientResponse, endpoint: str, idle: float) -> bytes:
    parts = [chunk async for chunk in chunks(response, endpoint, idle)]
    return b"".join(parts)
