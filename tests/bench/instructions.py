"""Machine instructions per request, counted by valgrind: ``python -m tests.bench.instructions``.

Timings on a shared two-core VM move by ±8% from one run to the next; instruction counts do
not (two runs agree within 0.3%), which makes them the tool for telling whether a change to
the hot path helped by 1%. One process runs the fake upstream, the server under test and an
aiohttp client (10 requests at a time) under ``valgrind --tool=cachegrind``; the count for N
requests minus the count for none, divided by N, is the cost of one request. The client's and
the fake's shares are the same for every target, so "direct" (no server in between) is
subtracted to leave the server's own.

Instructions are not time: system calls are not counted, and an operation that is cheap in
silicon but long in instructions (an exception raised and caught inside C code) weighs more
than it costs. Confirm a gain with ``python -m tests.bench``.
Needs Debian's ``valgrind``. Each count takes 10–40 s.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import shutil
import subprocess
import sys
import tempfile

from aiohttp import ClientSession, web

from proxy.server import RunningServer
from tests.bench import payload, reference
from tests.bench import upstream as fake

TARGETS = ("direct", "reference", "proxy")
HEADERS = {
    "Content-Type": "application/json",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219",
    "x-api-key": "sk-ant-bench-not-a-real-key",
    "User-Agent": "claude-cli/2.0.0 (external, cli)",
    "Accept": "application/json",
}


async def _site(app: web.Application) -> str:
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return f"http://127.0.0.1:{runner.addresses[0][1]}"


async def _start_proxy(up_url: str, data_dir: str) -> RunningServer:
    """The proxy as `ccf serve` runs it: the guarded server, the usage ledger (its writer
    thread counts too: the server is stopped, so the ledger flushed, before the count ends)
    and the settled heap."""
    from pathlib import Path

    from proxy.app import create_app
    from proxy.clock import SystemClock
    from proxy.core.config import parse_config
    from proxy.keys import ResolvedKeys
    from proxy.ledger.install import add_ledger
    from proxy.running import settle_heap
    from proxy.runtime import Runtime

    config = parse_config(
        {"endpoints": [{"name": "fake", "base_url": up_url, "auth": "client"}]}, {}
    )
    runtime = Runtime(config, ResolvedKeys({}, {}), SystemClock())
    app = create_app(runtime)
    add_ledger(app, runtime, Path(data_dir) / "usage.sqlite3")
    server = RunningServer(grace=0.5)
    await server.start(app, "127.0.0.1", 0)
    settle_heap()
    return server


async def _drive(target: str, stream: bool, requests: int, events: int = 100) -> None:
    up_url = await _site(fake.create_app(n_events=events, interval_ms=2))
    if target == "proxy":
        with tempfile.TemporaryDirectory(prefix="ccf-instructions-") as folder:
            server = await _start_proxy(up_url, folder)
            await _load(server.url, stream, requests)
            await server.stop()
        return
    url = await _site(reference.create_app(up_url)) if target == "reference" else up_url
    await _load(url, stream, requests)


async def _load(url: str, stream: bool, requests: int) -> None:
    gc.collect()
    body = payload.request_body(stream=stream)
    async with ClientSession() as client:

        async def one() -> None:
            async with client.post(url + "/v1/messages", data=body, headers=HEADERS) as r:
                assert r.status == 200, r.status
                await r.read()

        for _ in range(3):
            await one()
        for _ in range(requests // 10):
            await asyncio.gather(*(one() for _ in range(10)))


def count(target: str, stream: bool, requests: int, events: int) -> int:
    """Instructions of a whole run under valgrind."""
    argv = [sys.executable, "-m", "tests.bench.instructions", "--child", target]
    argv += ["--requests", str(requests), "--events", str(events)]
    argv += ["--stream"] if stream else []
    grind = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    done = subprocess.run([*grind, *argv], capture_output=True, text=True, timeout=900, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_item(target: str, stream: bool, requests: int, events: int) -> float:
    items = requests * (events if stream else 1)
    whole, empty = count(target, stream, requests, events), count(target, stream, 0, events)
    return (whole - empty) / items


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.instructions", description=__doc__)
    p.add_argument("--stream", action="store_true", help="per streamed event, not per request")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument(
        "--events", type=int, default=100, help="deltas per stream (1: the cost of a stream)"
    )
    p.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        asyncio.run(_drive(args.child, args.stream, args.requests, args.events))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind not found: apt-get install valgrind", file=sys.stderr)
        return 2
    requests = args.requests // 10 if args.stream else args.requests
    unit = "event" if args.stream else "request"
    counts = {t: per_item(t, args.stream, requests, args.events) for t in TARGETS}
    for target in ("reference", "proxy"):
        own = counts[target] - counts["direct"]
        print(f"{target:9s} {own:10,.0f} instructions per {unit}")
    ratio = (counts["proxy"] - counts["direct"]) / (counts["reference"] - counts["direct"])
    print(f"proxy/reference {ratio:.2f}   (client and fake upstream: {counts['direct']:,.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
