"""Request and response shaping per endpoint: headers, credentials, target URL."""

from __future__ import annotations

from collections.abc import Collection

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
# An upstream's cookies and CORS grants are for its own site, never for the proxy's origin.
_DROPPED_RESPONSE = HOP_BY_HOP | {"content-length", "content-encoding", "set-cookie", "set-cookie2"}
_CREDENTIALS = frozenset({"x-api-key", "authorization"})
_DROPPED_WITH_CREDENTIALS = _DROPPED_REQUEST | _CREDENTIALS
# What a third party (an OpenAI-format provider) never gets: Anthropic's protocol headers,
# Claude Code's session and SDK headers, and the client's (Anthropic) credentials.
THIRD_PARTY_PREFIXES = ("x-ccf-", "anthropic-", "x-claude-code-", "x-stainless-")

_OWN_PREFIXES = ("x-ccf-",)
_RESPONSE_PREFIXES = ("x-ccf-", "access-control-")

Headers = list[tuple[str, str]]


def _relayable(
    headers: Collection[tuple[str, str]],
    dropped: frozenset[str],
    prefixes: tuple[str, ...] = _OWN_PREFIXES,
) -> Headers:
    """`headers` without `dropped`, those a Connection header names, and those starting
    with one of `prefixes` (our own x-ccf-*, and for responses access-control-*)."""
    listed = [value for name, value in headers if name.lower() == "connection"]
    if listed:
        dropped = dropped | {t.strip().lower() for value in listed for t in value.split(",")}
    return [
        pair
        for pair in headers
        if (lower := pair[0].lower()) not in dropped and not lower.startswith(prefixes)
    ]


def request_headers(client: Headers, endpoint: Endpoint, key: Secret | None) -> Headers:
    """The headers an attempt at `endpoint` sends, from the client's headers."""
    dropped = _DROPPED_REQUEST if endpoint.auth == "client" else _DROPPED_WITH_CREDENTIALS
    prefixes: tuple[str, ...] = _OWN_PREFIXES
    if endpoint.format == "openai":
        dropped, prefixes = _DROPPED_WITH_CREDENTIALS, THIRD_PARTY_PREFIXES
    overridden = {name for name, _ in endpoint.headers}  # or removed by the config
    shaped = _relayable(client, dropped | overridden if overridden else dropped, prefixes)
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


def response_headers(upstream: Collection[tuple[str, str]]) -> Headers:
    """Upstream response headers fit to relay: no hop-by-hop, length or encoding, and no
    cookies or CORS headers."""
    return _relayable(upstream, _DROPPED_RESPONSE, _RESPONSE_PREFIXES)


def target_url(endpoint: Endpoint, path: str, query: str) -> str:
    """Where an attempt goes: the API root plus path and query, or OpenAI's chat endpoint."""
    if endpoint.format == "openai":
        return f"{endpoint.base_url}/chat/completions"
    return f"{endpoint.base_url}{path}" + (f"?{query}" if query else "")
