"""The long reliability run: full-scale chaos, the soak, a big fuzz campaign.

    .venv/bin/python -m tests.reliability.long [--minutes 60] [--streams 1000] [--fuzz 20000]

Run it inside scripts/test's session (or plain: nothing here needs the keyring). Figures go to
test-artifacts/reliability/*.json; the exit status is 1 if any check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from proxy.config_changes import ConfigChanges
from proxy.core.config_yaml import parse_config_text
from proxy.keys import ResolvedKeys
from proxy.runtime import Runtime
from proxy.watch import ConfigWatcher
from tests.reliability.chaos import (
    ChaosUpstream,
    chaos_config,
    percentile,
    run_clients,
    start_rig,
)
from tests.reliability.figures import ARTIFACTS, chaos_figures, save_figures
from tests.reliability.leaks import open_fds, other_tasks, rss_mib, settle, settled_rss_mib
from tests.reliability.load import chaos_round

SOAK_FAULTS = {"ok": 90, "429": 2, "529": 2, "reset_after_commit": 2, "close_keepalive": 4}
FLAP_FAULTS = {"529": 1}


async def full_chaos(streams: int) -> list[str]:
    fds, tasks = open_fds(), other_tasks()
    rig = await start_rig(seed=int(time.time()), first_byte=5.0, idle=3.0)
    result = await chaos_round(rig, streams)
    figures = chaos_figures(result, rig)
    save_figures(f"chaos-{streams}", figures)
    problems = [*result.violations[:5]]
    if result.left_connections or result.left_in_flight or result.left_upstream_acquired:
        problems.append(f"left over: {figures}")
    if result.rss_after > result.rss_base * 1.10:
        problems.append(f"memory {result.rss_base:.0f} -> {result.rss_after:.0f} MiB")
    await rig.stop()
    if not await settle(lambda: open_fds() <= fds and other_tasks() <= tasks):
        problems.append(f"fds {fds} -> {open_fds()}, tasks {len(other_tasks()) - len(tasks)} more")
    print(f"chaos {streams}: {figures['verdicts']} p50 {figures['latency_p50_ms']} ms")
    return problems


async def soak(minutes: float, rate: float = 20.0, window: float = 30.0) -> list[str]:
    """Steady load for `minutes`; a config reload every minute; an endpoint flaps every 2."""
    upstreams = [await ChaosUpstream(f"p{i}", 1, dict(SOAK_FAULTS)).start() for i in range(3)]
    path = ARTIFACTS / "soak-config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    urls = [u.url for u in upstreams]
    path.write_text(chaos_config(urls, 5.0, 3.0) + "listen: {port: 0}\n")
    from proxy.clock import SystemClock
    from proxy.server import start_server

    runtime = Runtime(parse_config_text(path.read_text(), {}), ResolvedKeys({}, {}), SystemClock())
    server = await start_server(runtime, grace=0.5)
    changes = ConfigChanges(path, {}, _NoKeys(), runtime, listener=server)
    watcher = ConfigWatcher(changes)
    watcher.start()
    samples: list[dict[str, Any]] = []
    started = time.monotonic()
    end = started + minutes * 60
    latencies: list[float] = []
    errors = 0
    n = 0
    next_window = started + window
    while time.monotonic() < end:
        tick = time.monotonic()
        minute = int((tick - started) // 60)
        _flap(upstreams, minute)
        if int((tick - started) // 60) != int((tick - started - 1) // 60):
            cooldown = 0.05 if minute % 2 else 0.1
            path.write_text(
                chaos_config(urls, 5.0, 3.0).replace("0.05", str(cooldown)) + "listen: {port: 0}\n"
            )
        outcomes = await run_clients(server.url, int(rate), f"s{n}-")
        n += 1
        latencies += [o.latency for o in outcomes]
        errors += sum(o.verdict.startswith("VIOLATION") for o in outcomes)
        if time.monotonic() >= next_window:
            samples.append(_sample(tick - started, latencies, runtime))
            latencies = []
            next_window += window
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    await watcher.stop()
    await server.stop()
    for upstream in upstreams:
        await upstream.stop()
    save_figures("soak", {"minutes": minutes, "rate_per_s": rate, "violations": errors,
                          "requests": n * int(rate), "samples": samples})  # fmt: skip
    print(f"soak {minutes} min: {n * int(rate)} requests, {errors} violations")
    problems = [f"{errors} violations in the soak"] if errors else []
    if len(samples) >= 4 and samples[-1]["rss_mib"] > samples[1]["rss_mib"] * 1.10:
        problems.append(f"soak memory grew: {samples[1]['rss_mib']} -> {samples[-1]['rss_mib']}")
    return problems


def _flap(upstreams: list[ChaosUpstream], minute: int) -> None:
    flapping = minute % 2 == 1
    upstreams[0].faults = dict(FLAP_FAULTS if flapping else SOAK_FAULTS)


def _sample(at: float, latencies: list[float], runtime: Runtime) -> dict[str, Any]:
    return {
        "at_s": round(at),
        "rss_mib": round(settled_rss_mib(), 1),
        "fds": open_fds(),
        "tasks": len(other_tasks()),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "problem": runtime.problem,
    }


class _NoKeys:
    def get(self, name: str) -> str | None:
        return None

    def set(self, name: str, value: str) -> None:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        raise NotImplementedError


def fuzz(examples: int) -> list[str]:
    env = {**os.environ, "CCF_FUZZ_EXAMPLES": str(examples)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=0"]
    command.append(str(Path(__file__).with_name("test_fuzz.py")))
    done = subprocess.run(command, env=env, check=False)
    return [] if done.returncode == 0 else [f"fuzz campaign failed ({done.returncode})"]


async def main_async(args: argparse.Namespace) -> list[str]:
    problems = await full_chaos(args.streams)
    if args.minutes > 0:
        problems += await soak(args.minutes)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="soak length (0: skip)")
    parser.add_argument("--streams", type=int, default=1000, help="concurrent chaos streams")
    parser.add_argument("--fuzz", type=int, default=20000, help="examples per fuzz target")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (min(hard, max(soft, 8 * args.streams + 1024)), hard)
    )
    logging.basicConfig(level=logging.ERROR)
    started, rss = time.monotonic(), rss_mib()
    problems = asyncio.run(main_async(args))
    if args.fuzz > 0:
        problems += fuzz(args.fuzz)
    print(f"done in {time.monotonic() - started:.0f} s (RSS at start {rss:.0f} MiB)")
    for problem in problems:
        print("FAILED:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
