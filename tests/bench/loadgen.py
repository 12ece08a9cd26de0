"""Load generators: wrk for request/response, a lean asyncio client for SSE streams.

wrk (C, one thread, epoll) drives the non-streaming cases so the client costs little next to
the servers. The stream client is Python, but reads each socket in an `asyncio.Protocol`
with httptools' C parser rather than through aiohttp's client, which costs it about half as
much CPU per event. It timestamps every read with ``time.time_ns()`` and subtracts the
``bench_sent_ns`` the fake wrote into each delta, which gives per-event latency across
processes (same machine, same realtime clock).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import aiohttp
import httptools
import uvloop

LUA = Path(__file__).with_name("post.lua")
HEADERS = {
    "Content-Type": "application/json",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
    "x-api-key": "sk-ant-bench-not-a-real-key",
    "User-Agent": "claude-cli/2.0.0 (external, cli)",
    "Accept": "application/json",
}
_SENT = re.compile(rb'"bench_sent_ns":(\d+)')


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    url: str, *, connections: int, seconds: int, body_file: Path, cpus: set[int] | None
) -> WrkResult:
    """One wrk run with one thread; raises RuntimeError if wrk fails or prints no summary."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA)]
    if cpus:
        argv = ["taskset", "-c", ",".join(map(str, sorted(cpus))), *argv]
    proc = subprocess.run(
        [*argv, url + "/v1/messages"],
        capture_output=True,
        timeout=seconds + 30,
        env={"CCF_BENCH_BODY": str(body_file), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    out = proc.stdout.decode(errors="replace")
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {out}{proc.stderr.decode()}")
    d = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(v for k, v in d.items() if k.startswith("errors_"))
    return WrkResult(
        requests=d["requests"],
        seconds=d["duration_us"] / 1e6,
        errors=errors,
        p50_ms=d["p50_us"] / 1000,
        p90_ms=d["p90_us"] / 1000,
        p99_ms=d["p99_us"] / 1000,
    )


@dataclass
class StreamStats:
    """What a batch of concurrent streams saw."""

    streams: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ns: list[int] = field(default_factory=list)
    deltas: int = 0
    deltas_alone: int = 0  # deltas that arrived in a read of their own (no batching)
    seconds: float = 0.0

    @property
    def events_per_s(self) -> float:
        return self.deltas / self.seconds if self.seconds else 0.0

    def latency_ms(self, q: float) -> float:
        if not self.latencies_ns:
            return float("nan")
        ordered = sorted(self.latencies_ns)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


class _Stream(asyncio.Protocol):
    """One streamed request, read straight from its socket: each read is stamped with
    ``time.time_ns()`` as it arrives, and each delta's latency is that stamp minus the
    ``bench_sent_ns`` in it. The events are looked at after the batch (`tally`), so that
    while it runs a read costs little more than its system call."""

    def __init__(self, request: bytes, n_events: int, done: asyncio.Future[None]) -> None:
        self.request = request
        self.n_events = n_events
        self.done = done
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.BaseTransport | None = None
        self.now = 0  # when the current read arrived
        self.n_read = 0
        self.bodies: list[tuple[int, int, bytes]] = []  # (read number, its time, body bytes)
        self.error: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        cast(asyncio.WriteTransport, transport).write(self.request)  # uvloop's: no subclass

    def data_received(self, data: bytes) -> None:
        self.now = time.time_ns()
        self.n_read += 1
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._end(f"bad HTTP from the target: {exc}")

    def on_body(self, body: bytes) -> None:
        self.bodies.append((self.n_read, self.now, body))

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        text = b"".join(body for _, _, body in self.bodies) if status != 200 else b""
        self._end(f"HTTP {status}: {text[:200]!r}" if status != 200 else None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(f"connection lost before the end of the answer ({exc})")

    def _end(self, error: str | None) -> None:
        if self.done.done():
            return
        self.error = error
        self.done.set_result(None)
        if self.transport is not None:
            self.transport.close()

    def tally(self, stats: StreamStats) -> None:
        """Adds what this stream saw to `stats`: its deltas' latencies, or what went wrong."""
        if self.error is not None:
            stats.errors.append(self.error)
            return
        reads: list[int] = []  # per delta: the number of the read it completed in
        stopped, rest = False, b""
        for n_read, now, body in self.bodies:
            *frames, rest = (rest + body).split(b"\n\n")
            for frame in frames:
                if frame.startswith(b"event: content_block_delta"):
                    sent = _SENT.search(frame)
                    if sent is None:
                        stats.errors.append("delta without bench_sent_ns (body was rewritten)")
                        return
                    stats.latencies_ns.append(now - int(sent.group(1)))
                    reads.append(n_read)
                elif frame.startswith(b"event: message_stop"):
                    stopped = True
                elif frame.startswith(b"event: error"):
                    stats.errors.append(f"in-band error: {frame[:200]!r}")
        stats.deltas += len(reads)
        per_read = Counter(reads)
        stats.deltas_alone += sum(1 for r in reads if per_read[r] == 1)
        if len(reads) != self.n_events or not stopped:
            stats.errors.append(f"incomplete stream: {len(reads)}/{self.n_events} deltas")


def _post(host: str, port: int, body: bytes) -> bytes:
    head = ["POST /v1/messages HTTP/1.1", f"Host: {host}:{port}"]
    head += [f"{name}: {value}" for name, value in HEADERS.items()]
    head += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(head).encode() + body


async def _streams(
    url: str, body: bytes, n_streams: int, n_events: int, timeout: float
) -> StreamStats:
    stats = StreamStats(streams=n_streams)
    loop = asyncio.get_running_loop()
    target = urlsplit(url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    request = _post(host, port, body)

    streams: list[_Stream] = []

    async def one() -> None:
        done: asyncio.Future[None] = loop.create_future()
        stream = _Stream(request, n_events, done)
        streams.append(stream)
        transport, _ = await loop.create_connection(lambda: stream, host, port)
        try:
            async with asyncio.timeout(timeout):
                await done
        finally:
            transport.close()

    t0 = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(n_streams)), return_exceptions=True)
    stats.seconds = time.perf_counter() - t0
    for stream in streams:
        if stream.done.done():  # else its error is among the results
            stream.tally(stats)
    stats.errors.extend(f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException))
    return stats


def run_streams(
    url: str,
    body: bytes,
    *,
    n_streams: int,
    n_events: int,
    sequential: int = 1,
    timeout: float = 120,
) -> StreamStats:
    """``sequential`` batches of ``n_streams`` concurrent streams; stats are merged."""
    total = StreamStats()
    for _ in range(sequential):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            s = runner.run(_streams(url, body, n_streams, n_events, timeout))
        total.streams += s.streams
        total.errors += s.errors
        total.latencies_ns += s.latencies_ns
        total.deltas += s.deltas
        total.deltas_alone += s.deltas_alone
        total.seconds += s.seconds
    return total


async def _check(url: str, body: bytes, expect_headers: Sequence[str]) -> list[str]:
    problems: list[str] = []
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
        session.post(url + "/v1/messages", data=body, headers=HEADERS) as resp,
    ):
        data = await resp.read()
        if resp.status != 200:
            problems.append(f"POST /v1/messages answered {resp.status}: {data[:300]!r}")
        elif json.loads(data).get("type") != "message":
            problems.append(f"unexpected body: {data[:300]!r}")
        problems += [f"response lacks header {h}" for h in expect_headers if h not in resp.headers]
    return problems


def check_target(url: str, body: bytes, expect_headers: Sequence[str] = ()) -> list[str]:
    """One non-streaming request: is this target really answering with the fake's message?"""
    return asyncio.run(_check(url, body, expect_headers))
