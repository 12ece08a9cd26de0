"""One chaos round: a warm-up, the measured load, and what the proxy still holds afterwards."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from proxy.app_state import SESSION
from tests.reliability.chaos import ChaosRig, Outcome, run_clients
from tests.reliability.leaks import Sampler, other_tasks, python_blocks, settle, settled_rss_mib


@dataclass
class RoundResult:
    outcomes: list[Outcome]
    rss_base: float
    rss_after: float
    peak_rss: float
    peak_fds: int
    seconds: float
    blocks_base: int = 0
    blocks_after: int = 0
    left_connections: int = 0
    left_in_flight: int = 0
    left_upstream_acquired: int = 0
    violations: list[str] = field(default_factory=list)


def proxy_connections(rig: ChaosRig) -> int:
    server = rig.server.runner.server
    return len(server.connections) if server is not None else 0


def upstream_acquired(rig: ChaosRig) -> int:
    session = rig.server.runner.app[SESSION]
    connector = session.connector
    return len(getattr(connector, "_acquired", ()))


async def drop_idle(rig: ChaosRig, tasks: int) -> None:
    """Close the proxy's idle keep-alive connections to the providers (aiohttp would after
    15 s), so memory is compared with equally empty pools rather than with pool sizes."""
    connector = rig.server.runner.app[SESSION].connector
    pools = getattr(connector, "_conns", {})
    for key in list(pools):
        for protocol, _ in pools.pop(key):
            protocol.close()
    await settle(lambda: all(not u.runner.server.connections for u in rig.upstreams if u.runner))
    await settle(lambda: len(other_tasks()) <= tasks)  # every handler has wound down


def in_flight(rig: ChaosRig) -> int:
    return int(rig.runtime.metrics.in_flight)


@contextlib.contextmanager
def quiet_warnings() -> Iterator[None]:
    """Thousands of expected failover warnings, kept by pytest's log capture, would read as
    a leak and slow the loop; errors still show."""
    logger = logging.getLogger("ccf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


async def chaos_round(rig: ChaosRig, streams: int, warmup: int | None = None) -> RoundResult:
    with quiet_warnings():
        return await _chaos_round(rig, streams, warmup)


async def _chaos_round(rig: ChaosRig, streams: int, warmup: int | None) -> RoundResult:
    """A warm-up round of the same size (pools and caches fill), then the measured round."""
    tasks = len(other_tasks())
    await run_clients(rig.server.url, warmup if warmup is not None else streams, "w")
    await settle(lambda: proxy_connections(rig) == 0)
    await drop_idle(rig, tasks)
    base, blocks_base = settled_rss_mib(), python_blocks()
    started = time.monotonic()
    with Sampler() as sampler:
        outcomes = await run_clients(rig.server.url, streams, "r")
    seconds = time.monotonic() - started
    await settle(lambda: proxy_connections(rig) == 0 and upstream_acquired(rig) == 0)
    await drop_idle(rig, tasks)
    return RoundResult(
        outcomes=outcomes,
        rss_base=base,
        rss_after=settled_rss_mib(),
        blocks_base=blocks_base,
        blocks_after=python_blocks(),
        peak_rss=max(sampler.peak_rss, base),
        peak_fds=sampler.peak_fds,
        seconds=seconds,
        left_connections=proxy_connections(rig),
        left_in_flight=in_flight(rig),
        left_upstream_acquired=upstream_acquired(rig),
        violations=[o.verdict for o in outcomes if o.verdict.startswith("VIOLATION")],
    )
