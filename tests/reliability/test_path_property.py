"""Property: no spelling of a path and no method reaches an upstream unless the same request,
in its plain form, would pass the guard as a proxied request; and what does reach it is the
path exactly as the client sent it.

A real proxy on loopback, a fake upstream that records the raw targets it receives, and raw
sockets (an HTTP client would tidy the paths up before sending them). The oracle below is
written from the rules, not from `proxy.core.paths`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.parse
from collections import Counter
from dataclasses import dataclass

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.clock import SystemClock
from proxy.core.config import Secret
from proxy.keys import ResolvedKeys
from proxy.runtime import Runtime
from proxy.server import RunningServer, start_server
from tests.conftest import config_from_yaml
from tests.fakes import FakesInThread, message
from tests.reliability.figures import save_figures

KEY = "sk-ant-api03-the-users-stored-key-000"
WORDS = ["health", "metrics", "_ccf", "v1", "messages", "api", "config", "models", ".", "..", ""]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
BROWSER = [
    {},
    {"Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Content-Type": "text/plain"},
]
BODY = json.dumps({"model": "m", "max_tokens": 1, "messages": []}).encode()


@dataclass
class Sent:
    method: str
    target: str
    headers: dict[str, str]


@st.composite
def targets(draw: st.DrawFn) -> str:
    """A path of plausible words, each character maybe percent-encoded (either case), `/`
    maybe as %2F or `\\`, and maybe a query."""
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5))
    plain = "/" + "/".join(words)
    out = []
    for char in plain:
        how = draw(st.sampled_from(["as is"] * 6 + ["upper", "lower", "backslash"]))
        if how == "backslash" and char == "/":
            out.append("\\")
        elif how in ("upper", "lower") and char != "%":
            escape = f"%{ord(char):02X}"
            out.append(escape if how == "upper" else escape.lower())
        else:
            out.append(char)
    query = draw(st.sampled_from(["", "?beta=true", "?a=%2F..%2F"]))
    return "".join(out) + query


def would_pass_in_plain_form(sent: Sent) -> bool:
    """The oracle: the request with its escapes undone is a proxied path the guard lets by."""
    path = sent.target.partition("?")[0]
    plain = urllib.parse.unquote(path)
    segments = plain.split("/")
    return (
        not any(name in sent.headers for name in ("Origin", "Sec-Fetch-Site"))
        and "." not in segments
        and ".." not in segments
        and "\\" not in plain
        and plain not in ("/health", "/metrics")
        and plain != "/_ccf"
        and not plain.startswith("/_ccf/")
    )


def send_raw(port: int, sent: Sent) -> int:
    lines = [f"{sent.method} {sent.target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in sent.headers.items()]
    lines += [f"Content-Length: {len(BODY)}", "Connection: close", "", ""]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode() + BODY)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@pytest.mark.timeout(120)
def test_only_plain_proxied_requests_reach_the_upstream(threaded_fakes: FakesInThread) -> None:
    upstream = threaded_fakes.start("a")
    reached: list[tuple[str, str]] = []

    async def record(request: web.Request) -> web.StreamResponse:
        reached.append((request.method, request.raw_path))
        return web.json_response(message())

    upstream.behaviour = record
    yaml = f'endpoints: [{{name: a, base_url: "{upstream.url}", auth: x-api-key, key: "env:K"}}]'
    keys = ResolvedKeys(keys={"a": Secret(KEY)}, problems={})
    runtime = Runtime(config_from_yaml(yaml, {"K": KEY}), keys, SystemClock())
    loop = threaded_fakes.loop
    server: RunningServer = asyncio.run_coroutine_threadsafe(
        start_server(runtime, grace=0.5), loop
    ).result(10)
    counts: Counter[str] = Counter()

    @settings(
        max_examples=400,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(targets(), st.sampled_from(METHODS), st.sampled_from(BROWSER))
    def check(target: str, method: str, headers: dict[str, str]) -> None:
        sent = Sent(method, target, headers)
        before = len(reached)
        status = send_raw(server.port, sent)
        arrived = reached[before:]
        if arrived:
            counts["reached the upstream"] += 1
            assert would_pass_in_plain_form(sent), (sent, status)
            assert arrived == [(method, target)], "the upstream must get the raw target"
        else:
            counts["refused or answered here"] += 1
            assert status < 500, (sent, status)
        if not would_pass_in_plain_form(sent):
            assert status >= 400 or method in ("GET", "HEAD"), (sent, status)

    try:
        check()
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    save_figures("path_property", dict(counts))
    assert counts["reached the upstream"] > 20
    assert counts["refused or answered here"] > 100
