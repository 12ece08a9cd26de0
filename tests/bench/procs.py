"""Child processes for the benchmark: started pinned to CPUs, always cleaned up.

Every child gets ``PR_SET_PDEATHSIG = SIGTERM`` (it dies with the benchmark even if the
benchmark is killed) and its own session (Ctrl-C reaches only the benchmark, which then
stops the children in order). ``Fleet`` is the context manager that owns them.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

_PR_SET_PDEATHSIG = 1


def _preexec(cpus: set[int] | None) -> Callable[[], None]:
    def setup() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if cpus:
            os.sched_setaffinity(0, cpus)

    return setup


class StartError(RuntimeError):
    """A child did not come up; the message says which and shows the end of its log."""


class Fleet:
    """Owns every process the benchmark starts; stops all of them on exit, whatever happened."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def __enter__(self) -> Fleet:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cpus: set[int] | None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        port_on_stdout: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv``; its stderr (and stdout unless it reports a port there) goes to a log."""
        log = self.log_path(name).open("wb")
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if port_on_stdout else log,
            stderr=log,
            cwd=cwd,
            env=env,
            preexec_fn=_preexec(cpus),  # noqa: PLW1509 - the benchmark starts no threads
            start_new_session=True,
        )
        log.close()
        self.procs.append((name, proc))
        return proc

    def read_port(self, name: str, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
        """The ``PORT <n>`` line a bench server prints once it listens."""
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else b""
        if not line.startswith(b"PORT "):
            raise StartError(
                f"{name} did not report its port within {timeout:.0f} s" + self.tail(name)
            )
        return int(line.split()[1])

    def tail(self, name: str, lines: int = 25) -> str:
        try:
            text = self.log_path(name).read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return f"\n--- last lines of {self.log_path(name)} ---\n" + "\n".join(text)

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for _, proc in reversed(self.procs):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs.clear()


def wait_http_ok(
    url: str, proc: subprocess.Popen[bytes], name: str, fleet: Fleet, timeout: float = 30.0
) -> None:
    """Poll ``url`` (every 50 ms, at most ``timeout`` s) until it answers 200."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartError(f"{name} exited with code {proc.returncode}" + fleet.tail(name))
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.05)
    raise StartError(f"{name}: {url} not 200 within {timeout:.0f} s ({last})" + fleet.tail(name))


def free_port() -> int:
    """A loopback port that was free a moment ago (for servers that cannot report port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float | None:
    """``VmHWM`` (peak resident set) of ``pid`` in MB, or None if it cannot be read."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def cpu_layout() -> tuple[set[int] | None, set[int] | None]:
    """(upstream side, test side). The server under test gets one CPU, which it shares with
    wrk, as the proxy shares a laptop with Claude Code. The fake upstream, which stands for
    the internet, gets the other, and the stream client shares it: at 200 streams the client
    takes almost half as much CPU per event as a server, and next to the server it made the
    test CPU the bottleneck (docs/performance.md, "Session 4"). None, None with one CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return {cpus[0]}, {cpus[1]}


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (all its threads); 0.0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _machine_busy_s() -> tuple[float, float]:
    """CPU seconds all CPUs spent in user, nice and system since boot (no irq, no idle), and
    the seconds the hypervisor gave to other guests (steal)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    user, nice, system, steal = int(fields[1]), int(fields[2]), int(fields[3]), int(fields[8])
    return (user + nice + system) / _TICK, steal / _TICK


def _own_cpu_s() -> float:
    t = os.times()  # this process plus waited-for children (wrk)
    return t.user + t.system + t.children_user + t.children_system


class CpuMeter:
    """CPU used by our processes, and by everything else, over one measurement.

    ``foreign_cores`` is how many cores' worth of CPU other programs took meanwhile (another
    test run on a shared machine, say); samples taken while that is high are redone.
    """

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._t0 = 0.0
        self._mine0: dict[str, float] = {}
        self._own0 = self._busy0 = self._steal0 = 0.0

    def start(self) -> None:
        self._mine0 = {n: _proc_cpu_s(p) for n, p in self.pids.items()}
        self._own0, (self._busy0, self._steal0) = _own_cpu_s(), _machine_busy_s()
        self._t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        """CPU seconds per named process and ``self`` (client + wrk); cores used by other
        programs (``foreign_cores``) and by other guests of the hypervisor (``steal_cores``)."""
        wall = time.monotonic() - self._t0
        used = {n: _proc_cpu_s(p) - self._mine0[n] for n, p in self.pids.items()}
        used["self"] = _own_cpu_s() - self._own0
        busy, steal = _machine_busy_s()
        foreign = busy - self._busy0 - sum(used.values())
        return {
            **used,
            "foreign_cores": max(0.0, foreign) / wall,
            "steal_cores": (steal - self._steal0) / wall,
            "wall": wall,
        }


def wait_quiet(meter_pids: dict[str, int], *, threshold: float, max_wait: float) -> float:
    """Wait (at most ``max_wait`` s) until other programs use under ``threshold`` cores over a
    0.5 s window; returns the last window's figure."""
    deadline = time.monotonic() + max_wait
    while True:
        meter = CpuMeter(meter_pids)
        meter.start()
        time.sleep(0.5)
        foreign = meter.stop()["foreign_cores"]
        if foreign < threshold or time.monotonic() >= deadline:
            return foreign
