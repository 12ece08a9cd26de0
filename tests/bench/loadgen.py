"""Load generators: wrk for request/response, an aiohttp client for SSE streams.

wrk (C, one thread, epoll) drives the non-streaming cases so the client costs little next to
the servers. The stream client is Python: it timestamps every read with ``time.time_ns()``
and subtracts the ``bench_sent_ns`` the fake wrote into each delta, which gives per-event
latency across processes (same machine, same realtime clock).
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

import aiohttp

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


async def _one_stream(
    session: aiohttp.ClientSession, url: str, body: bytes, n_events: int, stats: StreamStats
) -> None:
    reads: list[int] = []  # per delta: index of the read it completed in
    async with session.post(url + "/v1/messages", data=body, headers=HEADERS) as resp:
        if resp.status != 200:
            text = (await resp.read())[:200]
            stats.errors.append(f"HTTP {resp.status}: {text!r}")
            return
        buf = b""
        stopped = False
        n_read = 0
        async for chunk in resp.content.iter_any():
            now = time.time_ns()
            n_read += 1
            buf += chunk
            *frames, buf = buf.split(b"\n\n")
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
    if len(reads) != n_events or not stopped:
        stats.errors.append(f"incomplete stream: {len(reads)}/{n_events} deltas, stop={stopped}")


async def _streams(
    url: str, body: bytes, n_streams: int, n_events: int, timeout: float
) -> StreamStats:
    stats = StreamStats(streams=n_streams)
    connector = aiohttp.TCPConnector(limit=0)
    client_timeout = aiohttp.ClientTimeout(total=timeout, sock_read=15)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        t0 = time.perf_counter()
        results = await asyncio.gather(
            *(_one_stream(session, url, body, n_events, stats) for _ in range(n_streams)),
            return_exceptions=True,
        )
        stats.seconds = time.perf_counter() - t0
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
        s = asyncio.run(_streams(url, body, n_streams, n_events, timeout))
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
