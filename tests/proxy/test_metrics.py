"""The metrics kept in plain counters and rendered by a custom collector."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from proxy.metrics import Metrics


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def tokens_of(metrics: Metrics) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        labels: v for (name, labels), v in samples(metrics).items() if name == "ccf_tokens_total"
    }


def test_token_counts_add_up_per_endpoint_and_kind() -> None:
    metrics = Metrics()
    metrics.count_tokens("a", {"input_tokens": 5, "output_tokens": 2})
    metrics.count_tokens("b", {"input_tokens": 1})
    metrics.count_tokens("a", {"input_tokens": 1})
    assert tokens_of(metrics) == {
        (("endpoint", "a"), ("kind", "input_tokens")): 6.0,
        (("endpoint", "a"), ("kind", "output_tokens")): 2.0,
        (("endpoint", "b"), ("kind", "input_tokens")): 1.0,
    }
    assert metrics.tokens == {
        "a": {"input_tokens": 6, "output_tokens": 2},
        "b": {"input_tokens": 1},
    }


def test_requests_failovers_latency_and_gauges_render_as_prometheus_text() -> None:
    metrics = Metrics()
    metrics.count_request("a", 200)
    metrics.count_request("a", 200)
    metrics.count_failover("a", "529")
    for seconds in (0.01, 0.3, 400):
        metrics.observe_latency("a", seconds)
    metrics.up = {"a": False, "b": True}
    metrics.in_flight = 2
    found = samples(metrics)
    assert found["ccf_requests_total", (("endpoint", "a"), ("status", "200"))] == 2
    assert found["ccf_failovers_total", (("endpoint", "a"), ("reason", "529"))] == 1
    latency = (("endpoint", "a"),)
    assert found["ccf_upstream_latency_seconds_count", latency] == 3
    assert found["ccf_upstream_latency_seconds_sum", latency] == 400.31
    assert found["ccf_upstream_latency_seconds_bucket", (("endpoint", "a"), ("le", "0.05"))] == 1
    assert found["ccf_upstream_latency_seconds_bucket", (("endpoint", "a"), ("le", "0.5"))] == 2
    assert found["ccf_upstream_latency_seconds_bucket", (("endpoint", "a"), ("le", "+Inf"))] == 3
    assert found["ccf_endpoint_up", (("endpoint", "a"),)] == 0
    assert found["ccf_endpoint_up", (("endpoint", "b"),)] == 1
    assert found["ccf_in_flight_requests", ()] == 2
