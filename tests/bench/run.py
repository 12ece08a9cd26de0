"""Benchmark: direct vs. a minimal aiohttp reference proxy vs. ``ccf serve``.

Run from the repository root (the only supported form)::

    .venv/bin/python -m tests.bench [--rounds 5] [--quick] [--stand-in]

Starts a fake Anthropic upstream, the reference proxy and ``ccf serve`` as subprocesses,
drives all three targets interleaved for several rounds, prints the table against the
targets and writes it as JSON (default ``test-artifacts/bench/results.json``). Exits 0 when
the measurement ran, whatever it found; 2 when a target could not be started or checked.
docs/performance.md explains the method and how to read the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.bench import loadgen, payload, procs, report

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CCF = ""  # this checkout's ccf, whatever checkout the environment has installed


def ccf_command(ccf: str) -> list[str]:
    """How to run ``ccf``: the given program, or this checkout's through this Python."""
    return [ccf] if ccf else [sys.executable, "-m", "tray_app"]


def ccf_env() -> dict[str, str]:
    """The environment for ``ccf serve``: no CCF_* settings, no keyring, this checkout first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCF_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["PYTHONPATH"] = str(ROOT)
    return env


TARGETS = ("direct", "reference", "proxy")
N_EVENTS = 100
INTERVAL_MS = 5.0
CONCURRENT_STREAMS = 200
QUIET = 0.10  # cores other programs may use before a sample starts
DISTURBED = 0.20  # cores other programs took during a sample that make us redo it

Sample = dict[str, Any]
Round = dict[str, dict[str, Sample]]


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    pid: int


@dataclass(frozen=True)
class Plan:
    rounds: int
    wrk_seconds: int
    single_streams: int  # sequential single streams per sample
    warmup: bool


@dataclass(frozen=True)
class Layout:
    """CPU sets: the fake upstream's, which the stream client shares, and the server under
    test's, which wrk shares."""

    upstream: set[int] | None
    test: set[int] | None


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Benchmark ccf serve against a direct connection and a reference proxy.",
    )
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported")
    p.add_argument("--quick", action="store_true", help="1 short round: checks the machinery")
    p.add_argument(
        "--stand-in", action="store_true", help="run a second reference as 'proxy' (debug aid)"
    )
    p.add_argument("--ccf", default=DEFAULT_CCF, help="ccf program (default: this checkout's)")
    p.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    p.add_argument(
        "--out", type=Path, default=ROOT / "test-artifacts" / "bench", help="logs, results.json"
    )
    return p.parse_args(argv)


def _start_bench_server(
    fleet: procs.Fleet, name: str, module: str, args: list[str], cpus: set[int] | None
) -> tuple[subprocess.Popen[bytes], str]:
    proc = fleet.start(
        name, [sys.executable, "-m", module, *args], cpus=cpus, cwd=ROOT, port_on_stdout=True
    )
    return proc, f"http://127.0.0.1:{fleet.read_port(name, proc)}"


def _start_ccf(
    fleet: procs.Fleet, ccf: str, up_url: str, cpus: set[int] | None
) -> tuple[subprocess.Popen[bytes], str]:
    """``ccf serve`` with a config whose only endpoint is the fake, isolated from the user's
    own config, state and keyring."""
    env = ccf_env()
    for sub in ("config", "data", "state", "cache"):
        (fleet.log_dir / "ccf-home" / sub).mkdir(parents=True, exist_ok=True)
        env[f"XDG_{sub.upper()}_HOME"] = str(fleet.log_dir / "ccf-home" / sub)
    cfg = fleet.log_dir / "ccf-config.yaml"
    cfg.write_text(f"endpoints:\n  - {{name: fake, base_url: '{up_url}', auth: client}}\n")
    port = procs.free_port()
    argv = [*ccf_command(ccf), "serve", "--config", str(cfg), "--port", str(port)]
    proc = fleet.start("proxy", argv, cpus=cpus, env=env, cwd=fleet.log_dir)
    url = f"http://127.0.0.1:{port}"
    procs.wait_http_ok(url + "/health", proc, "proxy", fleet)
    return proc, url


def start_targets(
    fleet: procs.Fleet, layout: Layout, *, stand_in: bool = False, ccf: str = DEFAULT_CCF
) -> dict[str, Target]:
    """The fake upstream ("direct"), the reference and the proxy (or a stand-in reference)."""
    up_args = ["--events", str(N_EVENTS), "--interval-ms", str(INTERVAL_MS)]
    up, up_url = _start_bench_server(
        fleet, "upstream", "tests.bench.upstream", up_args, layout.upstream
    )
    ref, ref_url = _start_bench_server(
        fleet, "reference", "tests.bench.reference", [up_url], layout.test
    )
    if stand_in:
        prx, prx_url = _start_bench_server(
            fleet, "proxy", "tests.bench.reference", [up_url], layout.test
        )
    else:
        prx, prx_url = _start_ccf(fleet, ccf, up_url, layout.test)
    return {
        "direct": Target("direct", up_url, up.pid),
        "reference": Target("reference", ref_url, ref.pid),
        "proxy": Target("proxy", prx_url, prx.pid),
    }


class Sampler:
    """Takes one measurement with CPU accounting. The machine may be shared, so it waits (a
    little) for other programs to go quiet first and redoes a sample they disturbed; the
    budgets for both are per round, so a busy spell cannot use them all up in round one."""

    WAIT_PER_ROUND = 12.0  # seconds
    REDO_PER_ROUND = 3

    def __init__(self, targets: dict[str, Target]) -> None:
        self.pids = {("upstream" if n == "direct" else n): t.pid for n, t in targets.items()}
        self.new_round()

    def new_round(self) -> None:
        self.wait_budget = self.WAIT_PER_ROUND
        self.redo_budget = self.REDO_PER_ROUND

    def __call__(self, server: str, fn: Callable[[], Sample]) -> Sample:
        for attempt in range(1, 4):
            t0 = time.monotonic()
            procs.wait_quiet(self.pids, threshold=QUIET, max_wait=min(3.0, self.wait_budget))
            self.wait_budget = max(0.0, self.wait_budget - (time.monotonic() - t0))
            meter = procs.CpuMeter(self.pids)
            meter.start()
            data = fn()
            cpu = meter.stop()
            data.update(cpu=cpu, server_cpu_s=cpu[server], attempts=attempt)
            if cpu["foreign_cores"] < DISTURBED or self.redo_budget <= 0 or attempt == 3:
                return data
            self.redo_budget -= 1
        raise AssertionError("unreachable")


class Driver:
    """Runs the scenarios against one target at a time."""

    def __init__(self, plan: Plan, layout: Layout, body_file: Path) -> None:
        self.plan = plan
        self.layout = layout
        self.body_file = body_file
        self.stream_body = payload.request_body(stream=True)

    def wrk(self, t: Target, connections: int, seconds: int | None = None) -> Sample:
        r = loadgen.run_wrk(
            t.url,
            connections=connections,
            seconds=seconds or self.plan.wrk_seconds,
            body_file=self.body_file,
            cpus=self.layout.test,
        )
        return {
            "p50_ms": r.p50_ms,
            "p99_ms": r.p99_ms,
            "rps": r.rps,
            "errors": r.errors,
            "n": r.requests,
        }

    def streams(self, t: Target, n_streams: int, sequential: int = 1) -> Sample:
        s = loadgen.run_streams(
            t.url, self.stream_body, n_streams=n_streams, n_events=N_EVENTS, sequential=sequential
        )
        return {
            "p50_ms": s.latency_ms(0.5),
            "p99_ms": s.latency_ms(0.99),
            "events_per_s": s.events_per_s,
            "n": s.deltas,
            "deltas_alone": s.deltas_alone,
            "streams": s.streams,
            "expected": s.streams * N_EVENTS,
            "errors": len(s.errors),
            "error_samples": s.errors[:3],
            "seconds": s.seconds,
        }

    def scenarios(self) -> dict[str, Callable[[Target], Sample]]:
        return {
            "nonstream_1": lambda t: self.wrk(t, 1),
            "nonstream_50": lambda t: self.wrk(t, 50),
            "stream_1": lambda t: self.streams(t, 1, self.plan.single_streams),
            "stream_200": lambda t: self.streams(t, CONCURRENT_STREAMS),
        }

    def warm_up(self, targets: dict[str, Target]) -> None:
        for t in targets.values():
            self.wrk(t, 50, seconds=1)
            self.streams(t, 50)


def _round(targets: dict[str, Target], order: list[str], driver: Driver, sample: Sampler) -> Round:
    """Every scenario against every target, in ``order``: scenario -> target -> sample."""
    out: Round = {}
    sample.new_round()
    for scenario, fn in driver.scenarios().items():
        out[scenario] = {}
        for name in order:
            server = "upstream" if name == "direct" else name
            out[scenario][name] = sample(server, lambda f=fn, t=targets[name]: f(t))
    return out


def machine() -> dict[str, Any]:
    import aiohttp

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "wrk": (wrk.stdout + wrk.stderr).split("[", 1)[0].strip(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def source() -> dict[str, Any]:
    """The commit measured, and whether the proxy's sources had uncommitted changes."""

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "proxy")),
    }


def _check(targets: dict[str, Target], body: bytes, stand_in: bool) -> list[str]:
    problems = []
    for name, t in targets.items():
        expect = ["x-ccf-endpoint", "x-ccf-attempts"] if name == "proxy" and not stand_in else []
        problems += [f"{name} at {t.url}: {p}" for p in loadgen.check_target(t.url, body, expect)]
    return problems


def _measure(
    fleet: procs.Fleet, args: argparse.Namespace, plan: Plan, layout: Layout, body_file: Path
) -> tuple[list[Round], dict[str, float | None]]:
    targets = start_targets(fleet, layout, stand_in=args.stand_in, ccf=args.ccf)
    problems = _check(targets, body_file.read_bytes(), args.stand_in)
    if problems:
        raise procs.StartError("; ".join(problems))
    print("targets: " + ", ".join(f"{t.name} {t.url}" for t in targets.values()), flush=True)
    print(
        f"CPUs: upstream + stream client {layout.upstream or 'any'}, "
        f"server + wrk {layout.test or 'any'}"
    )
    driver, sample = Driver(plan, layout, body_file), Sampler(targets)
    if plan.warmup:
        driver.warm_up(targets)
    rounds: list[Round] = []
    started = time.monotonic()
    for r in range(plan.rounds):
        order = list(TARGETS[r % 3 :] + TARGETS[: r % 3])
        rounds.append(_round(targets, order, driver, sample))
        print(f"round {r + 1}/{plan.rounds} done ({time.monotonic() - started:.0f} s)", flush=True)
    return rounds, {n: procs.peak_rss_mb(t.pid) for n, t in targets.items()}


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.quick:
        plan = Plan(rounds=1, wrk_seconds=1, single_streams=1, warmup=False)
    else:
        plan = Plan(rounds=args.rounds, wrk_seconds=2, single_streams=3, warmup=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so children are stopped
    layout = Layout(None, None) if args.no_pin else Layout(*procs.cpu_layout())
    if layout.upstream:
        os.sched_setaffinity(0, layout.upstream)  # this process is the stream client
    work: Path = args.out
    work.mkdir(parents=True, exist_ok=True)
    body_file = work / "request.json"
    body_file.write_bytes(payload.request_body(stream=False))
    started = time.monotonic()
    try:
        with procs.Fleet(work) as fleet:
            rounds, rss = _measure(fleet, args, plan, layout, body_file)
    except procs.StartError as exc:
        print(f"benchmark not run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; every process the benchmark started is stopped", file=sys.stderr)
        return 130
    rows = report.rows(rounds, rss)
    result = {
        "command": " ".join(["python -m tests.bench", *(sys.argv[1:] if argv is None else argv)]),
        "machine": machine(),
        "source": source(),
        "plan": {
            **asdict(plan),
            "events": N_EVENTS,
            "interval_ms": INTERVAL_MS,
            "concurrent_streams": CONCURRENT_STREAMS,
            "request_bytes": payload.REQUEST_BYTES,
            "cpus": {"upstream": sorted(layout.upstream or []), "test": sorted(layout.test or [])},
            "stand_in": args.stand_in,
        },
        "seconds": round(time.monotonic() - started, 1),
        "rows": rows,
        "peak_rss_mb": rss,
        "rounds": rounds,
    }
    (work / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print("\n" + report.render(rows))
    print(f"\nresults: {work / 'results.json'} ({result['seconds']} s)")
    if args.stand_in:
        print("NOTE: --stand-in: the 'proxy' column is a second reference, not ccf serve.")
    return 0
