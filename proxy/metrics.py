"""Prometheus metrics, one registry per app (no module globals)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        """Hot path: each labelled child is looked up in prometheus-client once, then cached."""
        key = (metric, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def count_request(self, endpoint: str, status: int) -> None:
        self._child(self.requests, endpoint, str(status)).inc()

    def count_failover(self, endpoint: str, reason: str) -> None:
        self._child(self.failovers, endpoint, reason).inc()

    def observe_latency(self, endpoint: str, seconds: float) -> None:
        self._child(self.latency, endpoint).observe(seconds)

    def count_tokens(self, endpoint: str, usage: Mapping[str, int]) -> None:
        for kind, amount in usage.items():
            self._child(self.tokens, endpoint, kind).inc(amount)

    def render(self) -> bytes:
        return generate_latest(self.registry)
