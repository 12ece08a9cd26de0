"""The ledger in the running proxy: opened with the app, fed by the request handler, counted
in `/metrics`, and summed for the tray's "Today" line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from proxy.app_state import RUNTIME
from proxy.core.attempt import Finished
from proxy.incoming import Incoming
from proxy.ledger.prices import bundled_prices
from proxy.ledger.schema import default_path
from proxy.ledger.writer import Ledger
from proxy.runtime import Runtime

LEDGER = web.AppKey("usage_ledger", Ledger)
USAGE = web.RequestKey("ccf_usage", object)  # the answer's `usage`, set by the handler


def add_ledger(app: web.Application, runtime: Runtime, path: Path | None = None) -> None:
    """Record every proxied request of `app` into the ledger at `path` (default: the user
    data dir's usage.sqlite3) while the app runs."""
    app.cleanup_ctx.append(lambda app: _ledger_ctx(app, runtime, path or default_path()))


async def _ledger_ctx(app: web.Application, runtime: Runtime, path: Path) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    prices = await loop.run_in_executor(None, bundled_prices)
    ledger = Ledger(path, lambda: runtime.config, prices)

    def tell_runtime() -> None:  # from the writer thread
        loop.call_soon_threadsafe(runtime.usage_changed)

    ledger.on_change = tell_runtime
    collector = LedgerCollector(ledger)
    runtime.metrics.registry.register(collector)
    runtime.usage_today = ledger.today
    app[LEDGER] = ledger
    ledger.start()
    yield
    runtime.usage_today = lambda: None
    runtime.metrics.registry.unregister(collector)
    await loop.run_in_executor(None, ledger.close)


def record_usage(request: web.Request, incoming: Incoming, finished: Finished) -> None:
    """Queue the ledger row of one finished request (a no-op without a ledger)."""
    ledger = request.app.get(LEDGER)
    if ledger is None:
        return
    runtime = request.app[RUNTIME]
    status, latency_ms = finished.status, finished.latency_ms
    committed = finished.trail.committed
    if committed is not None:  # a stream: its first content went out at commit
        ttft: float | None = (committed[1] - finished.started) * 1000
    else:  # a whole answer: its first token comes with the rest
        ttft = latency_ms if 200 <= status < 300 else None
    usage = request.get(USAGE, b"")
    ordered = runtime.ordered
    ledger.record(
        (runtime.clock.wall(), incoming.headers, incoming.model, finished.trail.mapped_model,
         finished.endpoint, status, finished.trail.steps, latency_ms, ttft,
         usage if isinstance(usage, bytes | Mapping) else b"",
         ordered[0].name if ordered else None)
    )  # fmt: skip


class LedgerCollector(Collector):
    """The ledger's counters for `/metrics`."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def collect(self) -> Iterator[Metric]:
        dropped = CounterMetricFamily(
            "ccf_usage_rows_dropped",
            "Requests the usage ledger could not record, by reason",
            labels=("reason",),
        )
        dropped.add_metric(["queue_full"], float(self.ledger.dropped_full))
        dropped.add_metric(["write_failed"], float(self.ledger.dropped_failed))
        yield dropped
        yield CounterMetricFamily(
            "ccf_usage_rows_written", "Requests recorded in the usage ledger",
            value=float(self.ledger.written),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "ccf_usage_ok", "1 while the usage ledger records, 0 while it drops rows",
            value=0.0 if self.ledger.warning else 1.0,
        )  # fmt: skip
