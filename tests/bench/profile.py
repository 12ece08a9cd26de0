"""Where does the server's time go? ``python -m tests.bench.profile [--scenario S] [--target T]``

Starts the fake upstream and one target (``proxy`` = ``ccf serve``, or ``reference``), drives
one scenario and samples the target with py-spy (``.venv/bin/pip install py-spy``; it is not a
project dependency), native frames included so the garbage collector and C parsers show up.
As in the benchmark's stream scenarios (but unlike its wrk ones), the target gets a CPU to
itself (load and fake share the other), so a sample of a busy target is a sample of its CPU
time, not of a neighbour it woke up.

Prints the target's CPU time per request (or per event) from /proc, then the busy samples by
category (GC, JSON, logging, ...; each sample counted once, innermost match wins) in percent
and in microseconds per item, then the top functions, self and inclusive.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.bench import loadgen, payload, procs, run

_LINE = re.compile(r":\d+\)$")  # py-spy names frames "func (short/path.py:line)"
# A stack with one of these is a parked thread or the event loop waiting: not busy.
_IDLE = ("PyThread_acquire_lock_timed", "EpollSelector.select", "epoll_wait")
# (category, substrings of a frame); the innermost frame that matches decides.
CATEGORIES = (
    ("garbage collector", ("gc_collect", "visit_decref", "visit_reachable", "subtract_refs")),
    ("json parse/dump", ("json/", "_json.c")),
    ("logging", ("logging/", "tray_app/logs.py")),
    ("prometheus metrics", ("prometheus_client/",)),
    ("socket syscalls", ("send (libc", "recv (libc", "sendmsg", "recvfrom", "write (libc")),
    ("aiohttp client", ("aiohttp/client", "aiohttp/connector", "aiohttp/streams.py")),
    ("aiohttp server", ("aiohttp/web", "aiohttp/http_")),
    ("ccf proxy code", ("proxy/", "tray_app/")),
    ("asyncio loop", ("asyncio/", "_asynciomodule")),
    ("reference proxy", ("bench/reference.py",)),
)


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in CATEGORIES:
            if any(n in frame for n in needles):
                return name
    return "other"


def summarize(raw: Path, top: int, cpu_us_per_item: float) -> str:
    """Busy samples by category and by function, from py-spy's collapsed-stack output."""
    own: collections.Counter[str] = collections.Counter()
    anywhere: collections.Counter[str] = collections.Counter()
    by_category: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_LINE.sub(")", f) for f in stack.split(";")]
        if any(i in f for f in frames for i in _IDLE):
            continue
        n = int(count)
        total += n
        own[frames[-1]] += n
        by_category[_category(frames)] += n
        for f in set(frames):
            anywhere[f] += n
    total = max(total, 1)
    out = [f"{total} busy samples; share of busy time and estimated us per item:", ""]
    out += [
        f"  {100 * n / total:5.1f}%  {cpu_us_per_item * n / total:7.1f} us  {name}"
        for name, n in by_category.most_common()
    ]
    out += ["", "self:"]
    out += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    out += ["", "inclusive:"]
    out += [f"  {100 * n / total:5.1f}%  {f}" for f, n in anywhere.most_common(top)]
    return "\n".join(out)


def _drive(
    target: run.Target, scenario: str, seconds: float, body_file: Path, cpus: set[int] | None
) -> int:
    """Load for about ``seconds``; returns requests or events served."""
    items = 0
    deadline = time.monotonic() + seconds
    stream_body = payload.request_body(stream=True)
    while time.monotonic() < deadline:
        if scenario == "nonstream_50":
            r = loadgen.run_wrk(
                target.url, connections=50, seconds=2, body_file=body_file, cpus=cpus
            )
            items += r.requests
        else:
            s = loadgen.run_streams(
                target.url, stream_body, n_streams=run.CONCURRENT_STREAMS, n_events=run.N_EVENTS
            )
            items += s.deltas
    return items


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.profile", description=__doc__)
    p.add_argument("--scenario", choices=("nonstream_50", "stream_200"), default="nonstream_50")
    p.add_argument("--target", choices=("proxy", "reference"), default="proxy")
    p.add_argument("--seconds", type=int, default=8)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--out", type=Path, default=run.ROOT / "test-artifacts" / "bench-profile")
    args = p.parse_args()
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        print("py-spy not found: .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    load_cpus, target_cpus = procs.cpu_layout()
    if load_cpus:
        os.sched_setaffinity(0, load_cpus)  # load and fake on one CPU, the target alone
    body_file = args.out / "request.json"
    body_file.write_bytes(payload.request_body(stream=False))
    raw = args.out / f"{args.target}-{args.scenario}.txt"
    with procs.Fleet(args.out) as fleet:
        layout = run.Layout(load_cpus, target_cpus)
        target = run.start_targets(fleet, layout, stand_in=args.target == "reference")["proxy"]
        _drive(target, args.scenario, 2, body_file, load_cpus)  # warm up
        meter = procs.CpuMeter({"target": target.pid})
        meter.start()
        spy_argv = [spy, "record", "--native", "-r", "150", "-d", str(args.seconds), "-f", "raw"]
        recorder = subprocess.Popen(
            [*spy_argv, "-o", str(raw), "-p", str(target.pid)], stdout=subprocess.DEVNULL
        )
        items = _drive(target, args.scenario, args.seconds, body_file, load_cpus)
        recorder.wait(args.seconds + 60)
        cpu = meter.stop()
    per_item = 1e6 * cpu["target"] / max(items, 1)
    unit = "request" if args.scenario == "nonstream_50" else "event"
    print(f"{args.target}, {args.scenario}: {per_item:.1f} us CPU per {unit} (py-spy attached)")
    if cpu["foreign_cores"] > 0.2:
        print(f"note: other programs used {cpu['foreign_cores']:.1f} cores meanwhile")
    print()
    print(summarize(raw, args.top, per_item))
    print(f"\nraw stacks: {raw}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
