"""Slow clients: a half-sent request head or a stalled body is cut off; in LAN mode one client
address holds a limited number of connections. Driven over real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest

from proxy.connections import ClientCounts, ConnectionLimits, is_loopback_address
from proxy.keys import ResolvedKeys
from proxy.runtime import Runtime
from proxy.server import RunningServer, start_server
from tests.conftest import config_from_yaml
from tests.fakes import FakeUpstream, stream_events

QUICK = ConnectionLimits(head_seconds=1.0, body_stall_seconds=1.0, per_client=4)
REQUEST = b'{"model": "m", "max_tokens": 1, "messages": []}'
STREAM_REQUEST = b'{"model": "m", "max_tokens": 1, "stream": true, "messages": []}'


@dataclass
class Served:
    server: RunningServer
    upstream: FakeUpstream

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url


Serve = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve(upstreams, clock) -> AsyncIterator[Serve]:
    started: list[RunningServer] = []

    async def start(limits: ConnectionLimits = QUICK) -> Served:
        a = await upstreams("a")
        config = config_from_yaml(f'endpoints: [{{name: a, base_url: "{a.url}"}}]')
        runtime = Runtime(config, ResolvedKeys(keys={}, problems={}), clock)
        server = await start_server(runtime, grace=0.5, limits=limits)
        started.append(server)
        return Served(server, a)

    yield start
    for server in started:
        await server.stop()


def head(port: int, length: int = len(REQUEST), path: str = "/v1/messages") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


async def seconds_until_closed(reader: asyncio.StreamReader, limit: float = 30) -> float:
    """How long until the server closes the connection (reading and dropping what it sends)."""
    started = time.monotonic()
    async with asyncio.timeout(limit):
        try:
            while await reader.read(65536):
                pass
        except ConnectionResetError:
            pass
    return time.monotonic() - started


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


# ---------------------------------------------------------------- cut off


async def test_a_half_sent_head_is_cut_off(serve) -> None:
    server = await serve()
    reader, writer = await connect(server.port)
    writer.write(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    took = await seconds_until_closed(reader)
    assert 0.9 <= took < 10
    writer.close()


async def test_a_connection_that_sends_nothing_is_cut_off(serve) -> None:
    server = await serve()
    reader, writer = await connect(server.port)
    assert 0.9 <= await seconds_until_closed(reader) < 10
    writer.close()


async def test_a_head_sent_a_byte_at_a_time_is_cut_off_at_its_deadline(serve) -> None:
    server = await serve()
    reader, writer = await connect(server.port)

    async def drip() -> None:
        for byte in head(server.port):
            writer.write(bytes([byte]))
            await asyncio.sleep(0.05)

    dripping = asyncio.ensure_future(drip())
    took = await seconds_until_closed(reader)
    dripping.cancel()
    assert 0.9 <= took < 10
    writer.close()


async def test_a_body_that_stops_is_cut_off(serve) -> None:
    server = await serve()
    reader, writer = await connect(server.port)
    writer.write(head(server.port, length=1_000_000) + b'{"model": ')
    assert 0.9 <= await seconds_until_closed(reader) < 10
    assert server.upstream.received == []
    writer.close()


async def test_an_unread_body_that_stops_is_cut_off_after_the_answer(serve) -> None:
    server = await serve()
    reader, writer = await connect(server.port)
    writer.write(
        f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        "Content-Length: 100000\r\n\r\nabc".encode()
    )
    assert await read_response(reader) == b"HTTP/1.1 200 OK\r\n"
    assert await seconds_until_closed(reader) < 5  # aiohttp alone would linger 10 s
    writer.close()


# ---------------------------------------------------------------- left alone


async def read_response(reader: asyncio.StreamReader) -> bytes:
    """The status line of one response, its body read past (by length or chunks)."""
    status, headers = await reader.readline(), {}
    while (line := await reader.readline()) != b"\r\n":
        assert line, "the connection was closed"
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        while size := int(await reader.readline(), 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    else:
        await reader.readexactly(int(headers.get("content-length", 0)))
    return status


async def test_a_body_that_keeps_coming_is_read_however_long_it_takes(serve) -> None:
    server = await serve(ConnectionLimits(head_seconds=1.0, body_stall_seconds=1.5))
    reader, writer = await connect(server.port)
    writer.write(head(server.port))
    for i in range(0, len(REQUEST), 10):  # 0.4 s apart: 2 s in all, past either limit
        writer.write(REQUEST[i : i + 10])
        await asyncio.sleep(0.4)
    assert await read_response(reader) == b"HTTP/1.1 200 OK\r\n"
    writer.close()


async def test_an_idle_keep_alive_connection_is_left_open(serve) -> None:
    server = await serve()
    reader, writer = await connect(server.port)
    for _ in range(2):
        writer.write(head(server.port) + REQUEST)
        assert await read_response(reader) == b"HTTP/1.1 200 OK\r\n"
        await asyncio.sleep(QUICK.head_seconds * 2)  # longer than a head may take
    writer.close()


async def test_a_request_sent_while_the_last_is_answered_waits_its_turn(serve) -> None:
    server = await serve()
    server.upstream.stream(stream_events(["a", "b"]), delay=0.4)  # longer than a head may take
    reader, writer = await connect(server.port)
    writer.write(head(server.port, len(STREAM_REQUEST)) + STREAM_REQUEST)
    await asyncio.sleep(0.3)  # the stream takes 2.8 s
    writer.write(head(server.port) + REQUEST)  # pipelined: read, then queued behind the stream
    for _ in range(2):
        assert await read_response(reader) == b"HTTP/1.1 200 OK\r\n"
    writer.close()


async def test_a_long_slow_stream_to_the_client_is_not_cut(serve) -> None:
    server = await serve()
    server.upstream.stream(stream_events(["a", "b", "c", "d"]), delay=0.4)
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.url + "/v1/messages", data=STREAM_REQUEST) as response,
    ):
        body = await response.read()
    assert body.endswith(b'event: message_stop\ndata: {"type": "message_stop"}\n\n')


# ---------------------------------------------------------------- LAN mode


async def test_one_lan_client_gets_a_limited_number_of_connections(serve, monkeypatch) -> None:
    monkeypatch.setattr("proxy.connections.is_loopback_address", lambda _: False)
    server = await serve()
    held = [await connect(server.port) for _ in range(QUICK.per_client)]
    reader, writer = await connect(server.port)
    assert await seconds_until_closed(reader, limit=5) < QUICK.head_seconds  # at once
    writer.close()
    held.pop()[1].close()
    await asyncio.sleep(0.1)
    reader, writer = await connect(server.port)
    writer.write(head(server.port) + REQUEST)
    assert await read_response(reader) == b"HTTP/1.1 200 OK\r\n"
    for _, other in [*held, (reader, writer)]:
        other.close()


def test_client_counts_admit_up_to_the_limit_per_address() -> None:
    counts = ClientCounts(2)
    assert [counts.admit("10.0.0.2") for _ in range(3)] == [True, True, False]
    assert counts.admit("10.0.0.3")
    counts.release("10.0.0.2")
    assert counts.admit("10.0.0.2")
    for _ in range(2):
        counts.release("10.0.0.2")
    counts.release("10.0.0.3")
    assert not counts.open


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("192.168.1.5", False), ("::ffff:192.168.1.5", False), ("fe80::1%eth0", False),
     ("0.0.0.0", False), ("not-an-address", False)],
)  # fmt: skip
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert is_loopback_address(address) is loopback
