"""Upstreams that echo keys into their errors: no key may come out of `ccf serve` anywhere.

The stored key, the client's own `x-api-key` and bearer token, and a key-shaped string the
proxy was never told about are echoed in JSON errors, a plain-text error and an SSE error
event; then /health, /metrics, every answer the client got, the log files and stderr are
searched for them.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web

from tests.fakes import FakesInThread, FakeUpstream, sse
from tests.serve import CCF, stop, wait_for_url

pytestmark = pytest.mark.slow

STORED = "stored-Key-for-a-7f3a9c0d2e4b"  # not key-shaped: only being told catches it
CLIENT_KEY = "client-own-key-51b2e0aa97c3"
CLIENT_BEARER = "client-bearer-93d1c4e8f0a2"
UNTOLD = "sk-ant-api03-UntoldKeyEchoed0123456789"
SECRETS = [STORED, CLIENT_KEY, CLIENT_BEARER, UNTOLD]
SPLIT = b"\n--body--\n"
BODY = {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": []}


def echoed(request: web.Request) -> str:
    key = request.headers.get("x-api-key", "")
    auth = request.headers.get("authorization", "")
    return f"invalid x-api-key {key}; authorization {auth}; also {UNTOLD}"


def echo_json(upstream: FakeUpstream, status: int) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        error = {"type": "authentication_error", "message": echoed(request)}
        return web.json_response({"type": "error", "error": error}, status=status)

    upstream.behaviour = answer


def echo_text(upstream: FakeUpstream, status: int) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, text=echoed(request))

    upstream.behaviour = answer


def echo_sse(upstream: FakeUpstream) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        error = {"type": "overloaded_error", "message": echoed(request)}
        await response.write(sse("error", {"type": "error", "error": error}))
        await response.write_eof()
        return response

    upstream.behaviour = answer


def call(url: str, path: str, body: object = None) -> tuple[int, bytes]:
    """Status, and headers and body as one text to search."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data)
    request.add_header("Content-Type", "application/json")
    request.add_header("x-api-key", CLIENT_KEY)
    request.add_header("Authorization", f"Bearer {CLIENT_BEARER}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, str(response.headers).encode() + SPLIT + response.read()
    except urllib.error.HTTPError as error:
        return error.code, str(error.headers).encode() + SPLIT + error.read()


def found(data: bytes) -> list[str]:
    return [secret for secret in SECRETS if secret.encode() in data]


@pytest.mark.timeout(60)
def test_echoed_keys_leave_no_trace(tmp_path: Path, threaded_fakes: FakesInThread) -> None:
    a, b = threaded_fakes.start("a"), threaded_fakes.start("b")
    config = tmp_path / "config.yaml"
    config.write_text(
        "endpoints:\n"
        f"  - {{name: a, base_url: '{a.url}', auth: x-api-key, key: 'env:STORED_KEY'}}\n"
        f"  - {{name: b, base_url: '{b.url}', auth: client}}\n"
        "failover: {cooldown_seconds: 0}\n"
    )
    state = tmp_path / "state"
    env = {**os.environ, "STORED_KEY": STORED, "XDG_STATE_HOME": str(state)}
    answers: list[bytes] = []
    with tempfile.TemporaryFile("w+", dir=tmp_path) as stderr:
        process = subprocess.Popen(
            [*CCF, "serve", "--config", str(config), "--port", "0"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
        )  # fmt: skip
        try:
            url = wait_for_url(process, stderr)
            for a_does, b_does in [
                (lambda: echo_json(a, 401), lambda: echo_json(b, 401)),
                (lambda: echo_text(a, 529), lambda: echo_text(b, 400)),
                (lambda: echo_sse(a), lambda: echo_json(b, 403)),
                (lambda: echo_json(a, 500), lambda: echo_sse(b)),
            ]:
                a_does()
                b_does()
                for body in (BODY, {**BODY, "stream": True}):
                    status, answer = call(url, "/v1/messages", body)
                    assert status >= 400
                    answers.append(answer)
            for path in ("/health", "/metrics"):
                status, answer = call(url, path)
                assert status == 200
                answers.append(answer)
        finally:
            stop(process)
        stderr.seek(0)
        err = stderr.read().encode()
    received = [r.headers.get("x-api-key", "") for r in a.received + b.received]
    assert STORED in received
    assert CLIENT_KEY in received
    health = json.loads(answers[-2].split(SPLIT, 1)[1])
    assert {e["name"]: "***" in e["last_error"] for e in health["endpoints"]} == {
        "a": True,
        "b": True,
    }
    logs = [p.read_bytes() for p in state.rglob("*.log*")]
    assert logs
    assert b"***" in b"".join(logs)
    assert b"***" in err
    leaks = {f"answer {i}": found(x) for i, x in enumerate(answers)}
    leaks |= {f"log {i}": found(x) for i, x in enumerate(logs)}
    leaks["stderr"] = found(err)
    assert {where: kinds for where, kinds in leaks.items() if kinds} == {}
