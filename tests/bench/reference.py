"""Reference proxy, the practical floor for an aiohttp proxy: ``-m tests.bench.reference URL``.

One ClientSession with an unlimited connector; forwards method, path, query, headers (minus
hop-by-hop) and body; relays the response chunk by chunk as it arrives. No parsing, no
failover, no logging. Prints ``PORT <n>`` and serves until SIGTERM/SIGINT or --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator, Mapping

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web
from multidict import CIMultiDict

HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "host", "content-length",
})  # fmt: skip
UPSTREAM = web.AppKey("upstream", str)
SESSION = web.AppKey("session", ClientSession)


def _strip(headers: Mapping[str, str]) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in HOP)


async def forward(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    url = request.app[UPSTREAM] + request.path_qs
    async with request.app[SESSION].request(
        request.method, url, headers=_strip(request.headers), data=body
    ) as up:
        out = web.StreamResponse(status=up.status, reason=up.reason, headers=_strip(up.headers))
        if up.content_length is not None:
            out.content_length = up.content_length
        await out.prepare(request)
        async for chunk in up.content.iter_any():
            await out.write(chunk)
        await out.write_eof()
        return out


async def _session(app: web.Application) -> AsyncIterator[None]:
    app[SESSION] = ClientSession(
        connector=TCPConnector(limit=0), auto_decompress=False, timeout=ClientTimeout(None)
    )
    yield
    await app[SESSION].close()


def create_app(upstream: str) -> web.Application:
    """The reference proxy, forwarding everything to `upstream`."""
    app = web.Application()
    app[UPSTREAM] = upstream.rstrip("/")
    app.cleanup_ctx.append(_session)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


async def serve(upstream: str, max_seconds: float) -> None:
    runner = web.AppRunner(create_app(upstream), access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), max_seconds)
    except TimeoutError:
        pass
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream", help="base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="exit after this long")
    args = parser.parse_args()
    asyncio.run(serve(args.upstream, args.max_seconds))
