"""Header shaping per endpoint and the target URL."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.config import Endpoint, Secret, parse_endpoint
from proxy.core.shaping import (
    HOP_BY_HOP,
    Headers,
    request_headers,
    response_headers,
    target_url,
)

KEY = Secret("sk-endpoint-key-1234")

CLIENT: Headers = [
    ("Host", "127.0.0.1:8765"),
    ("Content-Length", "123"),
    ("Accept-Encoding", "gzip, br"),
    ("Connection", "keep-alive, X-Trace"),
    ("Keep-Alive", "timeout=5"),
    ("X-Trace", "abc"),
    ("Transfer-Encoding", "chunked"),
    ("TE", "trailers"),
    ("Upgrade", "h2c"),
    ("Proxy-Authorization", "Basic eA=="),
    ("X-Ccf-Token", "local-access-token"),
    ("x-ccf-debug", "1"),
    ("Content-Type", "application/json"),
    ("Anthropic-Version", "2023-06-01"),
    ("anthropic-beta", "interleaved-thinking-2025-05-14"),
    ("x-api-key", "sk-client"),
    ("Authorization", "Bearer client-oauth"),
    ("User-Agent", "claude-cli/2.0"),
]
KEPT = [
    ("Content-Type", "application/json"),
    ("Anthropic-Version", "2023-06-01"),
    ("anthropic-beta", "interleaved-thinking-2025-05-14"),
    ("User-Agent", "claude-cli/2.0"),
]


def endpoint(**fields: object) -> Endpoint:
    """Through the parser, so header names are normalised as in real configs."""
    return parse_endpoint({"name": "e", "base_url": "https://e.example", **fields}, "endpoints[0]")


def test_client_auth_keeps_the_clients_credentials() -> None:
    shaped = request_headers(CLIENT, endpoint(auth="client"), None)
    assert shaped == [
        *KEPT[:3],
        ("x-api-key", "sk-client"),
        ("Authorization", "Bearer client-oauth"),
        KEPT[3],
    ]


def test_client_auth_ignores_a_key() -> None:
    shaped = request_headers(CLIENT, endpoint(auth="client"), KEY)
    assert KEY.value not in str(shaped)


def test_x_api_key_auth_replaces_the_clients_credentials() -> None:
    shaped = request_headers(CLIENT, endpoint(auth="x-api-key"), KEY)
    assert shaped == [*KEPT, ("x-api-key", KEY.value)]


def test_bearer_auth_replaces_the_clients_credentials() -> None:
    shaped = request_headers(CLIENT, endpoint(auth="bearer"), KEY)
    assert shaped == [*KEPT, ("authorization", f"Bearer {KEY.value}")]


@pytest.mark.parametrize("auth", ["x-api-key", "bearer"])
def test_keyed_auth_without_a_key_sends_no_credentials(auth: str) -> None:
    shaped = request_headers(CLIENT, endpoint(auth=auth), None)
    assert shaped == KEPT


@pytest.mark.parametrize(
    "name",
    [
        *sorted(HOP_BY_HOP),
        "host",
        "content-length",
        "accept-encoding",
        "x-ccf-token",
        "x-ccf-anything",
    ],
)
def test_dropped_request_headers_in_any_case(name: str) -> None:
    for spelling in (name, name.upper(), name.title()):
        assert request_headers([(spelling, "v")], endpoint(), None) == []


def test_headers_named_in_connection_are_dropped() -> None:
    client = [
        ("connection", "close, X-One ,x-two"),
        ("X-One", "1"),
        ("x-Two", "2"),
        ("x-three", "3"),
    ]
    assert request_headers(client, endpoint(), None) == [("x-three", "3")]


def test_endpoint_headers_override_add_and_remove() -> None:
    shaped = request_headers(
        CLIENT,
        endpoint(headers={"User-Agent": "ccf", "X-Title": "Claude Code", "anthropic-beta": None}),
        None,
    )
    assert ("User-Agent", "claude-cli/2.0") not in shaped
    assert ("user-agent", "ccf") in shaped
    assert ("x-title", "Claude Code") in shaped
    assert not [name for name, _ in shaped if name.lower() == "anthropic-beta"]
    assert ("Anthropic-Version", "2023-06-01") in shaped


def test_endpoint_can_remove_anthropic_version() -> None:
    shaped = request_headers(CLIENT, endpoint(headers={"anthropic-version": None}), None)
    assert not [name for name, _ in shaped if name.lower() == "anthropic-version"]


def test_repeated_client_headers_are_kept() -> None:
    client = [("anthropic-beta", "a"), ("anthropic-beta", "b")]
    assert request_headers(client, endpoint(), None) == client


def test_the_key_is_added_once_after_overrides() -> None:
    shaped = request_headers([], endpoint(auth="bearer", headers={"x-title": "t"}), KEY)
    assert shaped == [("x-title", "t"), ("authorization", f"Bearer {KEY.value}")]


# ---------------------------------------------------------------- properties

NAMES = st.sampled_from(
    ["Host", "content-length", "Connection", "x-ccf-token", "X-Api-Key", "authorization",
     "anthropic-beta", "anthropic-version", "x-custom", "Keep-Alive", "TE", "user-agent"]
)  # fmt: skip
CLIENT_HEADERS = st.lists(st.tuples(NAMES, st.sampled_from(["a", "x-custom", "user-agent, te"])))


@settings(max_examples=300, deadline=None)
@given(CLIENT_HEADERS, st.sampled_from(["client", "x-api-key", "bearer"]), st.booleans())
def test_shaped_headers_never_leak(client: Headers, auth: str, with_key: bool) -> None:
    key = KEY if with_key else None
    shaped = request_headers(client, endpoint(auth=auth), key)
    names = [name.lower() for name, _ in shaped]
    named_in_connection = {
        token.strip().lower()
        for name, value in client
        if name.lower() == "connection"
        for token in value.split(",")
    }
    assert not set(names) & (HOP_BY_HOP | {"host", "content-length"} | named_in_connection)
    assert not [n for n in names if n.startswith("x-ccf-")]
    if auth != "client":
        credentials = [
            value for name, value in shaped if name.lower() in ("x-api-key", "authorization")
        ]
        assert credentials == (
            [KEY.value if auth == "x-api-key" else f"Bearer {KEY.value}"] if key else []
        )
    else:
        assert KEY.value not in str(shaped)


# ---------------------------------------------------------------- responses


def test_response_headers_drop_hop_by_hop_length_encoding_and_ccf() -> None:
    upstream = [
        ("Content-Type", "text/event-stream"),
        ("Content-Length", "10"),
        ("Content-Encoding", "gzip"),
        ("Transfer-Encoding", "chunked"),
        ("Connection", "keep-alive, X-Hop"),
        ("X-Hop", "1"),
        ("x-ccf-endpoint", "spoofed"),
        ("request-id", "req_1"),
        ("retry-after", "30"),
        ("anthropic-ratelimit-requests-remaining", "0"),
    ]
    assert response_headers(upstream) == [
        ("Content-Type", "text/event-stream"),
        ("request-id", "req_1"),
        ("retry-after", "30"),
        ("anthropic-ratelimit-requests-remaining", "0"),
    ]


@pytest.mark.parametrize("connection", [None, "keep-alive, X-Hop"])
def test_response_headers_drop_upstream_cookies_and_cors(connection: str | None) -> None:
    upstream = [
        ("Content-Type", "application/json"),
        ("Access-Control-Allow-Origin", "*"),
        ("access-control-allow-credentials", "true"),
        ("Access-Control-Allow-Headers", "x-api-key"),
        ("Access-Control-Allow-Methods", "POST"),
        ("Access-Control-Expose-Headers", "request-id"),
        ("Access-Control-Max-Age", "600"),
        ("Set-Cookie", "session=abc; Path=/"),
        ("set-cookie", "other=1"),
        ("Set-Cookie2", "old=1"),
        ("request-id", "req_1"),
        *([("Connection", connection)] if connection else []),
    ]
    for _ in range(2):  # the second time from remembered verdicts
        assert response_headers(upstream) == [
            ("Content-Type", "application/json"),
            ("request-id", "req_1"),
        ]


# ---------------------------------------------------------------- target URL


@pytest.mark.parametrize(
    ("fields", "path", "query", "url"),
    [
        ({}, "/v1/messages", "", "https://e.example/v1/messages"),
        ({}, "/v1/messages", "beta=true", "https://e.example/v1/messages?beta=true"),
        ({}, "/v1/messages/count_tokens", "", "https://e.example/v1/messages/count_tokens"),
        ({"base_url": "https://openrouter.ai/api/"}, "/v1/messages", "beta=true",
         "https://openrouter.ai/api/v1/messages?beta=true"),
        ({"format": "openai", "base_url": "https://api.openai.com/v1"}, "/v1/messages", "beta=true",
         "https://api.openai.com/v1/chat/completions"),
        ({}, "/v1/%6dessages", "a=%26b", "https://e.example/v1/%6dessages?a=%26b"),
    ],
)  # fmt: skip
def test_target_url(fields: dict[str, str], path: str, query: str, url: str) -> None:
    assert target_url(endpoint(**fields), path, query) == url


CLAUDE_CODE: Headers = [
    *CLIENT,
    ("X-Claude-Code-Session-Id", "4f1c"),
    ("x-stainless-lang", "js"),
    ("X-Stainless-Retry-Count", "0"),
    ("anthropic-dangerous-direct-browser-access", "true"),
]
THIRD_PARTY_BANNED = ("anthropic-", "x-claude-code-", "x-stainless-", "x-ccf-")


@pytest.mark.parametrize("auth", ["client", "bearer", "x-api-key"])
@pytest.mark.parametrize("extra", [{}, {"headers": {"x-extra": "1"}}])
def test_an_openai_provider_gets_no_anthropic_or_claude_code_headers(
    auth: str, extra: dict[str, object]
) -> None:
    target = endpoint(format="openai", auth=auth, **extra)
    shaped = request_headers(CLAUDE_CODE, target, KEY)
    names = [name.lower() for name, _ in shaped]
    assert not [n for n in names if n.startswith(THIRD_PARTY_BANNED)]
    assert "sk-client" not in str(shaped)
    assert "client-oauth" not in str(shaped)
    assert ("Content-Type", "application/json") in shaped
    assert ("User-Agent", "claude-cli/2.0") in shaped
    if auth == "bearer":
        assert ("authorization", f"Bearer {KEY.value}") in shaped


def test_an_anthropic_format_provider_still_gets_the_anthropic_headers() -> None:
    shaped = request_headers(CLAUDE_CODE, endpoint(auth="bearer"), KEY)
    assert ("X-Claude-Code-Session-Id", "4f1c") in shaped
    assert ("anthropic-beta", "interleaved-thinking-2025-05-14") in shaped


def test_an_openai_providers_own_header_config_still_applies() -> None:
    target = endpoint(format="openai", auth="client", headers={"anthropic-version": "x"})
    assert request_headers(CLAUDE_CODE, target, None)[-1] == ("anthropic-version", "x")
