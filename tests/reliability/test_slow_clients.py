"""300 slow connections (half-sent heads, heads sent a byte a second, bodies that never end)
against the proxy with its default limits: a normal client is served as before, and every
slow connection is closed within 30 s. The figures go to test-artifacts/reliability/."""

from __future__ import annotations

import asyncio
import time

import pytest

from proxy.connections import ConnectionLimits
from tests.reliability.chaos import percentile
from tests.reliability.figures import save_figures

EACH_KIND = 100
REQUEST_LINE = b"POST /v1/messages HTTP/1.1\r\n"


async def slow_client(port: int, kind: str) -> float:
    """Open a connection, misbehave in one way, and return when the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    host = f"Host: 127.0.0.1:{port}\r\n".encode()
    opened = time.monotonic()
    if kind == "half head":
        writer.write(REQUEST_LINE + host + b"Content-Type: application/json\r\n")
    elif kind == "endless body":
        writer.write(REQUEST_LINE + host + b"Content-Length: 100000000\r\n\r\n" + b'{"m')
    dripping = asyncio.ensure_future(drip(writer, REQUEST_LINE + host)) if kind == "drip" else None
    try:
        async with asyncio.timeout(60):
            while await reader.read(65536):
                pass
    except ConnectionResetError:
        pass
    finally:
        if dripping is not None:
            dripping.cancel()
        writer.close()
    return time.monotonic() - opened


async def drip(writer: asyncio.StreamWriter, data: bytes) -> None:
    for byte in data:
        writer.write(bytes([byte]))
        await asyncio.sleep(1)


async def health_latencies(session, url: str, stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        async with session.get(url + "/health") as response:
            await response.read()
            assert response.status == 200
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)
    return latencies


@pytest.mark.slow
async def test_slow_connections_are_closed_and_others_are_served(upstreams, make_proxy) -> None:
    a = await upstreams("a")
    proxy = await make_proxy(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
    stop = asyncio.Event()
    poller = asyncio.ensure_future(health_latencies(proxy.session, proxy.url, stop))
    kinds = ["half head", "drip", "endless body"] * EACH_KIND
    closes = await asyncio.gather(*(slow_client(proxy.server.port, kind) for kind in kinds))
    stop.set()
    latencies = await poller
    limits = ConnectionLimits()
    figures = {
        "slow_connections": len(kinds),
        "head_seconds": limits.head_seconds,
        "body_stall_seconds": limits.body_stall_seconds,
        "closed_after_max_s": round(max(closes), 2),
        "closed_after_p50_s": round(percentile(closes, 0.5), 2),
        "health_requests": len(latencies),
        "health_p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "health_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }
    save_figures("slow-clients", figures)
    assert max(closes) < 30, figures
    assert percentile(latencies, 0.99) < 0.1, figures
    assert a.received == []
