"""Prometheus metrics, one registry per app (no module globals)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 90, 180)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "ccf_requests", "Proxied requests by answering endpoint and status",
            ["endpoint", "status"], registry=r,
        )  # fmt: skip
        self.failovers = Counter(
            "ccf_failovers", "Attempts that moved on to the next endpoint, by reason",
            ["endpoint", "reason"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "ccf_upstream_latency_seconds", "Time from sending to response headers",
            ["endpoint"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.up = Gauge(
            "ccf_endpoint_up", "1 when the endpoint is not cooling down", ["endpoint"], registry=r
        )
        self.in_flight = Gauge("ccf_in_flight_requests", "Requests being proxied", registry=r)
        self.tokens = Counter(
            "ccf_tokens", "Tokens reported in responses' usage", ["endpoint", "kind"], registry=r
        )

    def count_tokens(self, endpoint: str, usage: Mapping[str, int]) -> None:
        for kind, amount in usage.items():
            self.tokens.labels(endpoint, kind).inc(amount)

    def render(self) -> bytes:
        return generate_latest(self.registry)
