"""Fake providers: real aiohttp servers on loopback that answer as a test tells them to."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    headers: CIMultiDict[str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def message(text: str = "Hello!", model: str = "claude-sonnet-4-5") -> dict[str, Any]:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 3},
    }


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def stream_events(text_parts: list[str], model: str = "claude-sonnet-4-5") -> list[bytes]:
    """A complete Anthropic message stream, one element per event."""
    start = {**message("", model), "content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": 12, "output_tokens": 1}
    events = [
        sse("message_start", {"type": "message_start", "message": start}),
        sse("ping", {"type": "ping"}),
        sse(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
    ]
    events += [
        sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": part},
            },
        )
        for part in text_parts
    ]
    events += [
        sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": len(text_parts)},
            },
        ),
        sse("message_stop", {"type": "message_stop"}),
    ]
    return events


def error_event(kind: str = "overloaded_error", text: str = "Overloaded") -> bytes:
    return sse("error", {"type": "error", "error": {"type": kind, "message": text}})


class FakeUpstream:
    """One provider. Set `behaviour` (or use the helpers) before each request."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.received: list[Received] = []
        self.behaviour: Behaviour = self._ok
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.disconnected = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeUpstream:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner, self.port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.received.append(
            Received(
                request.method,
                request.path,
                request.query_string,
                CIMultiDict(request.headers),
                body,
            )
        )
        try:
            return await self.behaviour(request)
        except asyncio.CancelledError:
            self.disconnected.set()
            raise

    async def _ok(self, request: web.Request) -> web.StreamResponse:
        if wants_stream(self.received[-1].body):
            return await self._stream(request, stream_events(["Hel", "lo"]))
        return web.json_response(message(f"Hello from {self.name}"))

    async def _stream(
        self, request: web.Request, events: list[bytes], delay: float = 0.0, then: str = "end"
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for event in events:
            await response.write(event)
            if delay:
                await asyncio.sleep(delay)
        if then == "reset":
            assert request.transport is not None
            request.transport.abort()
            return response
        if then == "hang":
            await asyncio.sleep(3600)
        await response.write_eof()
        return response

    # ------------------------------------------------------------ what to do next

    def ok(self) -> None:
        self.behaviour = self._ok

    def status(
        self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        payload = body or {
            "type": "error",
            "error": {"type": kind, "message": f"{self.name} says {status}"},
        }

        async def answer(_: web.Request) -> web.StreamResponse:
            return web.json_response(payload, status=status, headers=headers)

        self.behaviour = answer

    def stream(self, events: list[bytes], delay: float = 0.0, then: str = "end") -> None:
        async def answer(request: web.Request) -> web.StreamResponse:
            return await self._stream(request, events, delay, then)

        self.behaviour = answer

    def hang(self) -> None:
        async def answer(_: web.Request) -> web.StreamResponse:
            await asyncio.sleep(3600)
            raise AssertionError("unreachable")

        self.behaviour = answer

    def reset(self) -> None:
        async def answer(request: web.Request) -> web.StreamResponse:
            assert request.transport is not None
            request.transport.abort()
            return web.Response()

        self.behaviour = answer

    def raw(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        async def answer(_: web.Request) -> web.StreamResponse:
            return web.Response(status=status, body=body, content_type=content_type)

        self.behaviour = answer


async def serve_on_loopback(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve `app` on 127.0.0.1 at a free port; the runner (to clean up) and the port."""
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, int(runner.addresses[0][1])


def wants_stream(body: bytes) -> bool:
    try:
        return json.loads(body).get("stream") is True
    except (ValueError, AttributeError):
        return False


def closed_port() -> int:
    """A loopback port with nothing listening: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakesInThread:
    """Fake upstreams on their own event loop thread, for tests that drive a subprocess."""

    def __init__(self) -> None:
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fakes", daemon=True)
        self.thread.start()
        self.fakes: list[FakeUpstream] = []

    def start(self, name: str) -> FakeUpstream:
        fake = asyncio.run_coroutine_threadsafe(FakeUpstream(name).start(), self.loop).result(10)
        self.fakes.append(fake)
        return fake

    def close(self) -> None:
        for fake in self.fakes:
            asyncio.run_coroutine_threadsafe(fake.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
