"""Fake Anthropic upstream for the benchmark: ``python -m tests.bench.upstream [--events N]``.

``POST /v1/messages`` answers a ~1 KB Message JSON, or, when the body has ``"stream": true``,
an Anthropic SSE stream: ``message_start``, ``content_block_start``, N text deltas written
one by one ``--interval-ms`` apart (each carries ``bench_sent_ns``, the ``time.time_ns()`` at
send, so a client on the same machine can measure per-event latency), then
``content_block_stop``, ``message_delta``, ``message_stop``.

Two modes for ``tests.bench.translation``, where the send time travels inside the text
(``t=<ns>; word<i> of the answer``) so it survives translation: ``--text-stamp`` writes the
Anthropic deltas that way, and ``--format openai`` serves ``POST /v1/chat/completions``
instead, a ``chat.completion`` JSON or an OpenAI stream: a role chunk, N
``chat.completion.chunk`` events with ``delta.content`` ``--interval-ms`` apart, a
``finish_reason`` chunk, a usage chunk and ``data: [DONE]``.

Binds 127.0.0.1 on a free port, prints ``PORT <n>`` on stdout and serves until SIGTERM/SIGINT
or ``--max-seconds`` (a safety bound if the parent dies without cleaning up).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Callable

import uvloop
from aiohttp import web

from tests.bench import payload

N_EVENTS = web.AppKey("n_events", int)
INTERVAL = web.AppKey("interval", float)
TEXT_STAMP = web.AppKey("text_stamp", bool)

_MESSAGE = payload.message_json()
_COMPLETION = payload.openai_completion_json()
_HEAD = payload.stream_head()
_JSON_HEADERS = {"Content-Type": "application/json", "request-id": "req_011CBenchFakeUpstream"}
_SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "request-id": "req_011CBenchFakeUpstream",
}


def _wants_stream(body: bytes) -> bool:
    # Byte search instead of json.loads keeps the fake cheap; covers compact and spaced JSON.
    return b'"stream":true' in body or b'"stream": true' in body


async def messages(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    if not _wants_stream(body):
        return web.Response(body=_MESSAGE, headers=_JSON_HEADERS)
    n_events = request.app[N_EVENTS]
    delta = payload.text_delta_frame if request.app[TEXT_STAMP] else payload.delta_frame
    return await _paced(request, _HEAD, delta, payload.stream_tail(n_events))


async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    if not _wants_stream(body):
        return web.Response(body=_COMPLETION, headers=_JSON_HEADERS)
    tail = payload.openai_stream_tail(request.app[N_EVENTS])
    return await _paced(request, payload.openai_stream_head(), payload.openai_chunk, tail)


async def _paced(
    request: web.Request, head: bytes, event: Callable[[int, int], bytes], tail: bytes
) -> web.StreamResponse:
    """`head`, then `N_EVENTS` events `INTERVAL` apart (each stamped with its send time),
    then `tail`, as one chunked response.

    The events are written by a timer callback straight to the socket as HTTP chunks, where
    `await asyncio.sleep(); await resp.write()` costs a task wake-up and a future per
    event: with those, this fake took as much CPU per event as the servers it feeds, and the
    benchmark's load generators must not be its bottleneck.
    """
    n_events, interval = request.app[N_EVENTS], request.app[INTERVAL]
    resp = web.StreamResponse(headers=_SSE_HEADERS)
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    await resp.write(head)
    loop = asyncio.get_running_loop()
    transport = request.transport
    sent_all = loop.create_future()

    def send(i: int) -> None:
        if transport is None or transport.is_closing():
            sent_all.set_exception(ConnectionResetError("the client went away"))
            return
        data = event(i, time.time_ns())
        transport.write(b"%x\r\n%b\r\n" % (len(data), data))  # one chunk of the response
        if i + 1 < n_events:
            loop.call_at(start + (i + 2) * interval, send, i + 1)
        else:
            sent_all.set_result(None)

    start = loop.time()
    if n_events:
        loop.call_at(start + interval, send, 0)
    else:
        sent_all.set_result(None)
    await sent_all
    await resp.write(tail)
    await resp.write_eof()
    return resp


def create_app(
    n_events: int, interval_ms: float, wire_format: str = "anthropic", text_stamp: bool = False
) -> web.Application:
    """The fake provider: Anthropic `/v1/messages`, or OpenAI `/v1/chat/completions`."""
    app = web.Application()
    app[N_EVENTS] = n_events
    app[INTERVAL] = interval_ms / 1000
    app[TEXT_STAMP] = text_stamp
    if wire_format == "openai":
        app.router.add_post("/v1/chat/completions", chat_completions)
    else:
        app.router.add_post("/v1/messages", messages)
    return app


async def serve(
    n_events: int,
    interval_ms: float,
    max_seconds: float,
    wire_format: str = "anthropic",
    text_stamp: bool = False,
) -> None:
    app = create_app(n_events, interval_ms, wire_format, text_stamp)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    print(f"PORT {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), max_seconds)
    except TimeoutError:
        print(f"upstream: --max-seconds {max_seconds} reached, exiting", file=sys.stderr)
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100, help="text deltas per stream")
    parser.add_argument("--interval-ms", type=float, default=5.0, help="pause before each delta")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="exit after this long")
    parser.add_argument(
        "--format", choices=("anthropic", "openai"), default="anthropic", help="wire format"
    )
    parser.add_argument(
        "--text-stamp", action="store_true", help="send time in the delta text (anthropic)"
    )
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # see the docstring
        runner.run(
            serve(args.events, args.interval_ms, args.max_seconds, args.format, args.text_stamp)
        )


if __name__ == "__main__":
    main()
