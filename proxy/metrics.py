"""Prometheus metrics, one registry per app (no module globals).

Counted in plain dictionaries on the event loop, which is the only writer; a custom
collector turns them into metric families when `/metrics` is scraped.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 90, 180)


class LatencyHistogram:
    """One endpoint's upstream latencies: a count per bucket (not cumulative) and their sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        bounds = [*map(floatToGoString, LATENCY_BUCKETS), "+Inf"]
        running, out = 0, []
        for bound, count in zip(bounds, self.counts, strict=True):
            running += count
            out.append((bound, float(running)))
        return out


class Metrics(Collector):
    """Counters read by `/metrics` and by the settings page. Mutated on the event loop only."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, int]] = Counter()  # (endpoint, status)
        self.failovers: Counter[tuple[str, str]] = Counter()  # (endpoint, reason)
        self.tokens: dict[str, dict[str, int]] = {}  # endpoint: {kind: tokens}
        self.latency: dict[str, LatencyHistogram] = {}
        self.up: dict[str, bool] = {}  # endpoint: not cooling down
        self.in_flight = 0
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def count_request(self, endpoint: str, status: int) -> None:
        self.requests[endpoint, status] += 1

    def count_failover(self, endpoint: str, reason: str) -> None:
        self.failovers[endpoint, reason] += 1

    def observe_latency(self, endpoint: str, seconds: float) -> None:
        histogram = self.latency.get(endpoint)
        if histogram is None:
            histogram = self.latency[endpoint] = LatencyHistogram()
        histogram.observe(seconds)

    def count_tokens(self, endpoint: str, counts: Mapping[str, int]) -> None:
        """Adds the token counts of one answer's `usage` (see `proxy.core.body.find_usage`)."""
        totals = self.tokens.setdefault(endpoint, {})
        for kind, amount in counts.items():
            totals[kind] = totals.get(kind, 0) + amount

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def collect(self) -> Iterator[Metric]:
        by_status = Counter({(name, str(status)): n for (name, status), n in self.requests.items()})
        yield _counter(
            "ccf_requests", "Proxied requests by answering endpoint and status",
            ("endpoint", "status"), by_status,
        )  # fmt: skip
        yield _counter(
            "ccf_failovers", "Attempts that moved on to the next endpoint, by reason",
            ("endpoint", "reason"), self.failovers,
        )  # fmt: skip
        latency = HistogramMetricFamily(
            "ccf_upstream_latency_seconds", "Time from sending to response headers",
            labels=("endpoint",),
        )  # fmt: skip
        for endpoint, histogram in sorted(self.latency.items()):
            latency.add_metric([endpoint], histogram.cumulative(), histogram.total)
        yield latency
        up = GaugeMetricFamily(
            "ccf_endpoint_up", "1 when the endpoint is not cooling down", labels=("endpoint",)
        )
        for endpoint, is_up in self.up.items():
            up.add_metric([endpoint], 1.0 if is_up else 0.0)
        yield up
        yield GaugeMetricFamily(
            "ccf_in_flight_requests", "Requests being proxied", value=self.in_flight
        )
        tokens = Counter(
            {
                (endpoint, kind): n
                for endpoint, kinds in self.tokens.items()
                for kind, n in kinds.items()
            }
        )
        yield _counter(
            "ccf_tokens", "Tokens reported in responses' usage", ("endpoint", "kind"), tokens
        )


def _counter(
    name: str, documentation: str, labels: tuple[str, str], counts: Counter[tuple[str, str]]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for values, count in sorted(counts.items()):
        family.add_metric(list(values), float(count))
    return family
