"""Request and response shaping per endpoint: headers, credentials, target URL."""

from __future__ import annotations

from collections.abc import Iterable

from proxy.core.config import Endpoint, Secret

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_DROPPED_REQUEST = HOP_BY_HOP | {"host", "content-length", "accept-encoding"}
_DROPPED_RESPONSE = HOP_BY_HOP | {"content-length", "content-encoding"}
_CREDENTIALS = frozenset({"x-api-key", "authorization"})

Headers = list[tuple[str, str]]


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }


def request_headers(client: Headers, endpoint: Endpoint, key: Secret | None) -> Headers:
    """The headers an attempt at `endpoint` sends, from the client's headers."""
    dropped = _DROPPED_REQUEST | _connection_tokens(client)
    if endpoint.auth != "client":
        dropped = dropped | _CREDENTIALS
    overrides = dict(endpoint.headers)
    shaped = [
        (name, value)
        for name, value in client
        if (lower := name.lower()) not in dropped
        and not lower.startswith("x-ccf-")
        and lower not in overrides
    ]
    shaped.extend(
        (name, value)
        for name, value in endpoint.headers
        if value is not None
        and not (key is not None and name in _CREDENTIALS and endpoint.needs_key)
    )
    if key is not None and endpoint.auth == "x-api-key":
        shaped.append(("x-api-key", key.value))
    elif key is not None and endpoint.auth == "bearer":
        shaped.append(("authorization", f"Bearer {key.value}"))
    return shaped


def response_headers(upstream: Iterable[tuple[str, str]]) -> Headers:
    """Upstream response headers fit to relay: no hop-by-hop, length or encoding."""
    pairs = list(upstream)
    dropped = _DROPPED_RESPONSE | _connection_tokens(pairs)
    return [
        (name, value)
        for name, value in pairs
        if (lower := name.lower()) not in dropped and not lower.startswith("x-ccf-")
    ]


def target_url(endpoint: Endpoint, path: str, query: str) -> str:
    """Where an attempt goes: the API root plus path and query, or OpenAI's chat endpoint."""
    if endpoint.format == "openai":
        return f"{endpoint.base_url}/chat/completions"
    return f"{endpoint.base_url}{path}" + (f"?{query}" if query else "")
