"""The upstream boundary: one ClientSession per app, aiohttp errors mapped to our tree."""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Callable
from typing import Any, NoReturn

import aiohttp
from yarl import URL

from proxy.core import attempt_events as ev
from proxy.core.attempt_events import Wait
from proxy.core.config import Config
from proxy.core.errors import (
    UpstreamConnectError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamResetError,
    UpstreamTimeoutError,
)
from proxy.net import NetConnector, TrustStore, certificate_problem

LARGE_BODY = 1024 * 1024  # aiohttp streams larger bodies from a file-like object
Shaped = tuple[str, str, list[tuple[str, str]], bytes]  # method, URL, headers, body


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


def skipped_auto_headers(headers: list[tuple[str, str]]) -> tuple[str, ...]:
    """No User-Agent of aiohttp's where the client sent none."""
    return () if any(name.lower() == "user-agent" for name, _ in headers) else ("User-Agent",)


TRANSLATIONS: tuple[tuple[Any, Callable[[str, Any], UpstreamError]], ...] = (
    (
        aiohttp.ClientConnectorDNSError,
        lambda name, exc: UpstreamConnectError(f"{name}: DNS lookup of {exc.host} failed"),
    ),
    (
        aiohttp.ClientConnectorCertificateError,
        lambda name, exc: UpstreamConnectError(f"{name}: {certificate_problem(exc)}"),
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


def translate(exc: BaseException, endpoint: str, phase: str) -> UpstreamError | None:
    """What aiohttp or the OS raised, as the most specific `UpstreamError`; None for others."""
    if isinstance(exc, UpstreamError):
        return exc
    if isinstance(exc, TimeoutError):
        message = f"{endpoint}: timed out waiting for {phase}"
        return UpstreamTimeoutError(message, phase=phase)
    for kinds, translated in TRANSLATIONS:
        if isinstance(exc, kinds):
            return translated(endpoint, exc)
    return None


def raise_translated(exc: Exception, endpoint: str, phase: str) -> NoReturn:
    """Raise what aiohttp or the OS raised as an `UpstreamError` naming `endpoint` (as it is
    when it has no translation). Called from an `except`, not a context manager: entering
    one costs 12,600 instructions a request (tests.bench.instructions), 0.9% of the proxy's."""
    translated = translate(exc, endpoint, phase)
    if translated is None or translated is exc:
        raise exc
    raise translated from exc


def exact_url(url: str) -> URL:
    """`url` as it is: parsed normally, yarl would undo escapes and resolve dot segments,
    and the client's path must reach the upstream as the client sent it."""
    return URL(url, encoded=True) if url.isascii() else URL(url)


async def open_response(
    session: aiohttp.ClientSession, endpoint: str, request: Shaped, connect_timeout: float
) -> aiohttp.ClientResponse:
    """Send a request and wait for its response headers (the caller bounds the wait)."""
    method, url, headers, body = request
    data = io.BytesIO(body) if len(body) > LARGE_BODY else body or None
    try:
        return await session.request(
            method,
            exact_url(url),
            headers=headers,
            data=data,
            timeout=connect_only(connect_timeout),
            allow_redirects=False,
            skip_auto_headers=skipped_auto_headers(headers),
        )
    except Exception as exc:
        raise_translated(exc, endpoint, "a connection")


@functools.lru_cache(maxsize=4)  # one per connect timeout in use: 8,000 fewer instructions
def connect_only(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, connect=seconds)


async def send(
    session: aiohttp.ClientSession, endpoint: str, request: Shaped, connect: float, wait: Wait
) -> aiohttp.ClientResponse | ev.Event:
    """The response once its headers came, or what went wrong as the machine's event."""
    try:
        async with asyncio.timeout(wait.seconds):
            return await open_response(session, endpoint, request, connect)
    except TimeoutError:
        return ev.TimedOut(wait.phase)
    except UpstreamError as exc:
        return ev.UpstreamFailed(exc.kind, str(exc))


async def next_event(response: aiohttp.ClientResponse, endpoint: str, wait: Wait) -> ev.Event:
    """The next bytes of the body, its end, or what went wrong, as the machine's event."""
    content = response.content
    try:
        chunk = content.read_nowait()  # what came already needs no timer (see read_incoming)
        if not chunk and not content.at_eof():
            async with asyncio.timeout(wait.seconds):
                chunk = await content.readany()
    except TimeoutError:
        return ev.TimedOut(wait.phase)
    except (aiohttp.ClientError, OSError) as exc:
        failed = translate(exc, endpoint, "data") or UpstreamResetError(f"{endpoint}: {exc}")
        return ev.UpstreamFailed(failed.kind, str(failed))
    return ev.BodyChunk(chunk) if chunk else ev.BodyEnded()


async def read_all(
    response: aiohttp.ClientResponse, endpoint: str, idle: float, limit: int = 1024 * 1024
) -> bytes:
    """The body, up to `limit` bytes (the rest is left unread); each read waits `idle`."""
    parts: list[bytes] = []
    size = 0
    try:
        while size < limit:
            async with asyncio.timeout(idle):
                chunk = await response.content.readany()
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
    except Exception as exc:
        raise_translated(exc, endpoint, f"data (idle for {idle:g} s)")
    return b"".join(parts)[:limit]
