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
_DROPPED_RESPONSE = HOP_BY_HOP | {"content-length", "content-encoding"}
_CREDENTIALS = frozenset({"x-api-key", "authorization"})
_DROPPED_WITH_CREDENTIALS = _DROPPED_REQUEST | _CREDENTIALS
# What a third party (an OpenAI-format provider) never gets: Anthropic's protocol headers,
# Claude Code's session and SDK headers, and the client's (Anthropic) credentials.
THIRD_PARTY_PREFIXES = ("x-ccf-", "anthropic-", "x-claude-code-", "x-stainless-")

Headers = list[tuple[str, str]]


def _relayable(
    headers: Collection[tuple[str, str]],
    dropped: frozenset[str],
    prefixes: tuple[str, ...] = ("x-ccf-",),
) -> Headers:
    """`headers` without `dropped`, those a Connection header names, and those that begin
    with one of `prefixes` (our own x-ccf-*, at least)."""
    listed = [value for name, value in headers if name.lower() == "connection"]
    if listed:
        dropped = dropped | {t.strip().lower() for value in listed for t in value.split(",")}
    return [
        pair
        for pair in headers
        if (lower := pair[0].lower()) not in dropped and not lower.startswith(prefixes)
    ]


KEEP, DROP, CONNECTION = "keep", "drop", "connection"


class HeaderFilter:
    """`_relayable` for one fixed `dropped` set, remembering each header name's verdict.

    Clients send the same few names on every request, and lower-casing and testing each
    of them again cost three times the rest of the filtering. A Connection header that
    names anything not already dropped sends the request down the general path.
    """

    MAX_NAMES = 512  # a client inventing names cannot grow the memory without bound

    def __init__(self, dropped: frozenset[str], prefixes: tuple[str, ...] = ("x-ccf-",)) -> None:
        self.dropped = dropped
        self.prefixes = prefixes
        self.verdicts: dict[str, str] = {}

    def __call__(self, headers: Collection[tuple[str, str]]) -> Headers:
        verdicts = self.verdicts
        kept = []
        for pair in headers:
            verdict = verdicts.get(pair[0]) or self._learn(pair[0])
            if verdict is KEEP:
                kept.append(pair)
            elif verdict is CONNECTION and not self._names_only_dropped(pair[1]):
                return _relayable(headers, self.dropped, self.prefixes)
        return kept

    def _learn(self, name: str) -> str:
        lower = name.lower()
        if lower == "connection":
            verdict = CONNECTION
        elif lower in self.dropped or lower.startswith(self.prefixes):
            verdict = DROP
        else:
            verdict = KEEP
        if len(self.verdicts) < self.MAX_NAMES:
            self.verdicts[name] = verdict
        return verdict

    def _names_only_dropped(self, connection: str) -> bool:
        return all(token.strip().lower() in self.dropped for token in connection.split(","))


_REQUEST_FILTERS = {
    "client": HeaderFilter(_DROPPED_REQUEST),
    "own": HeaderFilter(_DROPPED_WITH_CREDENTIALS),
    "third-party": HeaderFilter(_DROPPED_WITH_CREDENTIALS, THIRD_PARTY_PREFIXES),
}


def _filter_for(endpoint: Endpoint) -> HeaderFilter:
    if endpoint.format == "openai":
        return _REQUEST_FILTERS["third-party"]
    return _REQUEST_FILTERS["client" if endpoint.auth == "client" else "own"]


_RESPONSE_FILTER = HeaderFilter(_DROPPED_RESPONSE)


def request_headers(client: Headers, endpoint: Endpoint, key: Secret | None) -> Headers:
    """The headers an attempt at `endpoint` sends, from the client's headers."""
    own = _filter_for(endpoint)
    if endpoint.headers:  # overridden or removed by the endpoint's config
        dropped = own.dropped | {name for name, _ in endpoint.headers}
        shaped = _relayable(client, dropped, own.prefixes)
    else:
        shaped = own(client)
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
    """Upstream response headers fit to relay: no hop-by-hop, length or encoding."""
    return _RESPONSE_FILTER(upstream)


def target_url(endpoint: Endpoint, path: str, query: str) -> str:
    """Where an attempt goes: the API root plus path and query, or OpenAI's chat endpoint."""
    if endpoint.format == "openai":
        return f"{endpoint.base_url}/chat/completions"
    return f"{endpoint.base_url}{path}" + (f"?{query}" if query else "")
