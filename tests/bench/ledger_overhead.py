"""What recording into the usage ledger costs a request: the same proxy with and without it.

``python -m tests.bench.ledger_overhead [--rounds 7] [--requests 1000]``

Two proxies in one process (one records into a ledger in a temporary folder, one does not)
in front of one fake upstream; rounds alternate between them, each sending `--requests`
sequential non-streamed and streamed requests over keep-alive. Reports the median time per
request of each, and the difference. Results go to test-artifacts/bench/ledger-overhead.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from proxy.app import create_app
from proxy.core.config import Config, Endpoint, Listen
from proxy.keys import ResolvedKeys
from proxy.ledger.install import add_ledger
from proxy.runtime import Runtime
from proxy.server import RunningServer
from tests.fakes import FakeUpstream

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "bench" / "ledger-overhead.json"
BODY = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "hi"}],
}


async def proxy(upstream: str, folder: Path, ledger: bool) -> Any:
    config = Config(endpoints=(Endpoint("a", upstream),), listen=Listen("127.0.0.1", 0))
    runtime = Runtime(config, ResolvedKeys(keys={}, problems={}), _clock())
    app = create_app(runtime)
    if ledger:
        add_ledger(app, runtime, folder / "usage.sqlite3")
    server = RunningServer(grace=0.5)
    await server.start(app, "127.0.0.1", 0)
    runtime.url = server.url
    return server


def _clock() -> Any:
    from proxy.clock import SystemClock

    return SystemClock()


async def one_round(session: aiohttp.ClientSession, url: str, n: int, stream: bool) -> float:
    body = {**BODY, "stream": stream}
    started = time.perf_counter()
    for _ in range(n):
        async with session.post(f"{url}/v1/messages", json=body) as response:
            await response.read()
            assert response.status == 200
    return (time.perf_counter() - started) / n * 1e6


async def run(rounds: int, n: int) -> dict[str, Any]:
    fake = await FakeUpstream("a").start()
    with tempfile.TemporaryDirectory() as folder:
        import os

        os.environ["XDG_DATA_HOME"] = folder  # the ledger's file goes here
        servers = {"without": await proxy(fake.url, Path(folder), False),
                   "with": await proxy(fake.url, Path(folder), True)}  # fmt: skip
        times: dict[str, dict[str, list[float]]] = {
            kind: {name: [] for name in servers} for kind in ("whole", "stream")
        }
        async with aiohttp.ClientSession() as session:
            for _ in range(rounds):
                for kind in times:
                    for name, server in servers.items():
                        us = await one_round(session, server.url, n, kind == "stream")
                        times[kind][name].append(us)
        for server in servers.values():
            await server.stop()
    await fake.stop()
    return {
        kind: {
            **{f"{name}_us_per_request": round(statistics.median(v), 1) for name, v in got.items()},
            "ledger_costs_us": round(
                statistics.median(got["with"]) - statistics.median(got["without"]), 1
            ),
        }
        for kind, got in times.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    result = asyncio.run(run(args.rounds, args.requests))
    result["rounds"], result["requests_per_round"] = args.rounds, args.requests
    result["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
