"""What the read calls answer: settings, endpoints with live state and keys, activity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.core.config import Config, Endpoint
from proxy.core.errors import ApiError
from proxy.core.status import Snapshot
from proxy.keys import ResolvedKeys
from proxy.metrics import Metrics
from proxy.runtime import Runtime

ENV_OVERRIDES = {"CCF_HOST": "listen.host", "CCF_PORT": "listen.port"}


def named_endpoint(runtime: Runtime, name: str) -> Endpoint:
    """The running config's endpoint `name`; a 404 `ApiError` when there is none."""
    endpoint = runtime.config.endpoint(name)
    if endpoint is None:
        raise ApiError(404, f"there is no endpoint named {name!r}", "name")
    return endpoint


def key_info(config: Config, keys: ResolvedKeys) -> dict[str, dict[str, Any]]:
    """Per endpoint: whether it has a key and its last 4 characters. Never the key."""
    info: dict[str, dict[str, Any]] = {}
    for endpoint in config.endpoints:
        secret = keys.keys.get(endpoint.name)
        info[endpoint.name] = {
            "needed": endpoint.needs_key,
            "source": str(endpoint.key),
            "set": secret is not None,
            "last4": secret.last4 if secret else "",
            "problem": keys.problems.get(endpoint.name, "") if endpoint.needs_key else "",
        }
    return info


def overrides(env: Mapping[str, str]) -> dict[str, str]:
    return {field: var for var, field in ENV_OVERRIDES.items() if env.get(var)}


def endpoint_rows(runtime: Runtime, snapshot: Snapshot) -> list[dict[str, Any]]:
    keys = key_info(runtime.config, runtime.keys)
    redact = runtime.redactor.redact_json
    states = {row["name"]: redact(row) for row in snapshot.to_json()["endpoints"]}
    return [
        {
            **states[e.name],
            "base_url": e.base_url,
            "format": e.format,
            "auth": e.auth,
            "key": keys[e.name],
        }
        for e in runtime.config.endpoints
    ]


def counters(metrics: Metrics) -> dict[str, dict[str, Any]]:
    """Per endpoint since start: answered requests by status, failovers by reason."""
    out: dict[str, dict[str, Any]] = {}

    def row(name: str) -> dict[str, Any]:
        return out.setdefault(name, {"requests": 0, "by_status": {}, "failovers": {}})

    for (endpoint, status), count in sorted(metrics.requests.items()):
        entry = row(endpoint)
        entry["requests"] += count
        entry["by_status"][str(status)] = count
    for (endpoint, reason), count in sorted(metrics.failovers.items()):
        row(endpoint)["failovers"][reason] = count
    return out


def activity(runtime: Runtime, limit: int) -> list[dict[str, Any]]:
    """The last `limit` requests, newest first; paths and models masked like every exit."""
    items = list(runtime.activity)[-limit:]
    return [runtime.redactor.redact_json(item.to_json()) for item in reversed(items)]
