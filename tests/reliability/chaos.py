"""Chaos: many concurrent streams through the proxy while fake providers misbehave at random.

Each provider answers every request with a fault drawn from a seeded generator. Every stream's
bytes are a function of (provider, request id), so a client can tell a complete, byte-exact
stream from a broken one and from one that mixes two providers.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from aiohttp import web

from proxy.clock import SystemClock
from proxy.core.config import Listen
from proxy.core.config_yaml import parse_config_text
from proxy.keys import ResolvedKeys
from proxy.runtime import Runtime
from proxy.server import RunningServer, start_server
from tests.fakes import serve_on_loopback, stream_events

COMMIT_AT = 3  # events before the first byte a client sees: message_start, ping, block start
FAULTS: dict[str, int] = {  # kind -> weight
    "ok": 40,
    "429": 6,
    "529": 6,
    "sse_error_before_commit": 4,
    "reset_before_commit": 6,
    "reset_after_commit": 6,
    "stall_headers": 3,
    "stall_before_commit": 3,
    "stall_after_commit": 3,
    "truncated_before_commit": 5,
    "truncated_after_commit": 5,
    "close_keepalive": 13,
}
CONFIG = """
endpoints:
{endpoints}
failover: {{cooldown_seconds: 0.05, max_cooldown_seconds: 0.2}}
timeouts: {{connect: 2, first_byte: {first_byte}, idle: {idle}}}
"""


def events_for(name: str, rid: str) -> list[bytes]:
    parts = [f"{name}:", rid, " one", " two", " three", " four", " five"]
    return stream_events(parts, model=f"model-of-{name}")


def request_body(rid: str) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 16,
        "stream": True,
        "metadata": {"user_id": rid},
        "messages": [{"role": "user", "content": f"request {rid}"}],
    }


class ChaosUpstream:
    """A provider that answers each request with a random fault (or a good stream)."""

    def __init__(self, name: str, seed: int, faults: dict[str, int] | None = None) -> None:
        self.name = name
        self.random = random.Random(f"{seed}-{name}")
        self.faults = faults or FAULTS
        self.injected: Counter[str] = Counter()
        self.runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> ChaosUpstream:
        app = web.Application()
        app.router.add_post("/v1/messages", self._handle)
        self.runner, self.port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def _pick(self) -> str:
        kinds = list(self.faults)
        return self.random.choices(kinds, weights=[self.faults[k] for k in kinds])[0]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        rid = (await request.json())["metadata"]["user_id"]
        fault = self._pick()
        self.injected[fault] += 1
        if fault in ("429", "529"):
            kind = "rate_limit_error" if fault == "429" else "overloaded_error"
            body = {"type": "error", "error": {"type": kind, "message": f"{self.name} {fault}"}}
            return web.json_response(body, status=int(fault))
        if fault == "stall_headers":
            await asyncio.sleep(3600)
        return await self._stream(request, fault, events_for(self.name, rid))

    async def _stream(
        self, request: web.Request, fault: str, events: list[bytes]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        cut = 1 if fault.endswith("before_commit") else COMMIT_AT + 2
        if fault == "sse_error_before_commit":
            events = [events[0], _error_event()]
        elif fault.startswith(("reset", "stall", "truncated")):
            events = events[:cut]
        for event in events:
            await self._write_split(response, event)
        return await self._end(request, response, fault, events_for(self.name, "")[cut])

    async def _write_split(self, response: web.StreamResponse, event: bytes) -> None:
        """One event, sometimes in two writes, so the proxy sees events cut anywhere."""
        if self.random.random() < 0.3:
            at = self.random.randrange(1, len(event))
            await response.write(event[:at])
            await asyncio.sleep(0)
            await response.write(event[at:])
        else:
            await response.write(event)

    async def _end(
        self, request: web.Request, response: web.StreamResponse, fault: str, next_event: bytes
    ) -> web.StreamResponse:
        assert request.transport is not None
        if fault.startswith("reset"):
            await asyncio.sleep(0.01)  # let the bytes before the reset arrive
            request.transport.abort()
            return response
        if fault.startswith("stall"):
            await asyncio.sleep(3600)
        if fault.startswith("truncated"):
            await response.write(next_event[: len(next_event) // 2])
        await response.write_eof()
        if fault == "close_keepalive":
            request.transport.close()
        return response


def _error_event() -> bytes:
    data = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    return f"event: error\ndata: {json.dumps(data)}\n\n".encode()


# ------------------------------------------------------------------ what a client got


@dataclass
class Outcome:
    verdict: str  # complete | broken-after-commit | error-<status> | VIOLATION: …
    latency: float
    endpoint: str | None = None


def is_error_frame(tail: bytes) -> bool:
    if not (tail.startswith(b"event: error\ndata: ") and tail.endswith(b"\n\n")):
        return False
    try:
        data = json.loads(tail[len(b"event: error\ndata: ") : -2])
    except ValueError:
        return False
    return data.get("type") == "error" and isinstance(data.get("error", {}).get("message"), str)


def judge_stream(name: str | None, rid: str, body: bytes) -> str:
    if name is None:
        return "VIOLATION: a stream without x-ccf-endpoint"
    events = events_for(name, rid)
    if body == b"".join(events):
        return "complete"
    at = body.rfind(b"event: error\n")
    prefix, tail = body[:at], body[at:]
    boundaries = {b"".join(events[:k]) for k in range(COMMIT_AT, len(events))}
    if at >= 0 and prefix in boundaries and is_error_frame(tail):
        return "broken-after-commit"
    return f"VIOLATION: stream from {name} is neither whole nor cleanly ended: {body[-300:]!r}"


def judge(status: int, headers: Any, rid: str, body: bytes) -> str:
    name = headers.get("x-ccf-endpoint")
    if status == 200 and headers.get("content-type", "").startswith("text/event-stream"):
        return judge_stream(name, rid, body)
    try:
        data = json.loads(body)
    except ValueError:
        return f"VIOLATION: {status} with a body that is not JSON: {body[:200]!r}"
    if status >= 400 and data.get("type") == "error" and "x-ccf-attempts" in headers:
        return f"error-{status}"
    return f"VIOLATION: unexpected answer {status}: {body[:200]!r}"


async def one_client(session: aiohttp.ClientSession, url: str, rid: str) -> Outcome:
    started = time.monotonic()
    try:
        async with session.post(f"{url}/v1/messages", json=request_body(rid)) as response:
            body = await response.read()
            verdict = judge(response.status, response.headers, rid, body)
            name = response.headers.get("x-ccf-endpoint")
    except (aiohttp.ClientError, TimeoutError) as exc:
        verdict, name = f"VIOLATION: client saw {type(exc).__name__}: {exc}", None
    return Outcome(verdict, time.monotonic() - started, name)


async def run_clients(url: str, count: int, prefix: str = "r") -> list[Outcome]:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        return await asyncio.gather(
            *(one_client(session, url, f"{prefix}{i}") for i in range(count))
        )


# ------------------------------------------------------------------ the proxy under test


@dataclass
class ChaosRig:
    upstreams: list[ChaosUpstream]
    runtime: Runtime
    server: RunningServer

    def faults(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for upstream in self.upstreams:
            total.update(upstream.injected)
        return total

    async def stop(self) -> None:
        await self.server.stop()
        for upstream in self.upstreams:
            await upstream.stop()


def chaos_config(urls: list[str], first_byte: float = 1.0, idle: float = 0.5) -> str:
    rows = "\n".join(f"  - {{name: p{i}, base_url: '{url}'}}" for i, url in enumerate(urls))
    return CONFIG.format(endpoints=rows, first_byte=first_byte, idle=idle)


async def start_rig(
    seed: int, providers: int = 3, first_byte: float = 1.0, idle: float = 0.5
) -> ChaosRig:
    upstreams = [await ChaosUpstream(f"p{i}", seed).start() for i in range(providers)]
    text = chaos_config([u.url for u in upstreams], first_byte, idle)
    config = parse_config_text(text, {})
    config = replace(config, listen=Listen("127.0.0.1", 0))
    runtime = Runtime(config, ResolvedKeys({}, {}), SystemClock())
    server = await start_server(runtime, grace=0.5)
    return ChaosRig(upstreams, runtime, server)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
