"""Shared pieces of the usage ledger's tests: a ledger file and the requests that fill it."""

from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes import FakesInThread, FakeUpstream, message, stream_events
from tests.proxy.handler.test_openai_endpoint import answer_chunks, completion

REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": "hi"}],
}
CACHED_USAGE = {
    "input_tokens": 12,
    "output_tokens": 3,
    "cache_read_input_tokens": 100,
    "cache_creation_input_tokens": 50,
}


def ledger_file(data_home: Path) -> Path:
    return data_home / "claude-code-fallback" / "usage.sqlite3"


def serve_env(data_home: Path) -> dict[str, str]:
    return {**os.environ, "XDG_DATA_HOME": str(data_home), "GPT_KEY": "sk-openai-test"}


def write_config(path: Path, a: FakeUpstream, b: FakeUpstream, o: FakeUpstream) -> Path:
    path.write_text(
        "endpoints:\n"
        f"  - {{name: a, base_url: '{a.url}'}}\n"
        f"  - {{name: b, base_url: '{b.url}'}}\n"
        f"  - name: o\n    base_url: '{o.url}/v1'\n    format: openai\n"
        "    auth: bearer\n    key: 'env:GPT_KEY'\n    models: {'*': gpt-5}\n"
        "failover: {cooldown_seconds: 0, max_cooldown_seconds: 0}\n"
    )
    return path


def rows(path: Path, query: str = "SELECT * FROM requests ORDER BY id") -> list[sqlite3.Row]:
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(query).fetchall()


def wait_for_rows(path: Path, count: int, timeout: float = 20) -> list[sqlite3.Row]:
    deadline = time.monotonic() + timeout
    found: list[sqlite3.Row] = []
    while time.monotonic() < deadline:
        if path.exists():
            try:
                found = rows(path)
            except sqlite3.Error:
                found = []
            if len(found) >= count:
                return found
        time.sleep(0.1)
    raise AssertionError(f"the ledger has {len(found)} rows, not {count}")


async def openai_whole(_: web.Request) -> web.Response:
    return web.json_response(completion({"role": "assistant", "content": "Hi"}, "stop"))


async def openai_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    for part in answer_chunks():
        await response.write(part)
    return response


async def cached_answer(_: web.Request) -> web.Response:
    return web.json_response({**message("cached"), "usage": CACHED_USAGE})


# (what the fakes do, stream?, expected status, endpoint, rescued, tokens in/out/cr/cw)
Case = tuple[str, bool, int, str | None, bool, tuple[int, int, int, int]]
CASES: list[Case] = [
    ("a whole, cache tokens", False, 200, "a", False, (12, 3, 100, 50)),
    ("a streamed", True, 200, "a", False, (12, 2, 0, 0)),
    ("a 529, b whole", False, 200, "b", True, (12, 3, 0, 0)),
    ("a 529, b 529, o whole", False, 200, "o", True, (20, 9, 0, 0)),
    ("a 529, b 529, o streamed", True, 200, "o", True, (40, 5, 0, 0)),
    ("all failed", False, 500, "o", False, (0, 0, 0, 0)),
    ("a 400", False, 400, "a", False, (0, 0, 0, 0)),
    ("client aborted", False, 499, None, False, (0, 0, 0, 0)),
    ("a stream, client aborted", True, 499, "a", False, (12, 1, 0, 0)),
]


def arrange(case: str, a: FakeUpstream, b: FakeUpstream, o: FakeUpstream) -> None:
    a.ok()
    b.ok()
    o.behaviour = openai_whole
    if case.startswith("a whole"):
        a.behaviour = cached_answer
    if "a 529" in case or case == "all failed":
        a.status(529)
    if "b 529" in case or case == "all failed":
        b.status(529)
    if case == "all failed":
        o.status(500)
    if case == "a 529, b 529, o streamed":
        o.behaviour = openai_stream
    if case == "a 400":
        a.status(400)
    if case == "client aborted":
        a.hang()
    if case == "a stream, client aborted":  # the stream's start, then nothing more
        a.stream(stream_events(["Hel", "lo"])[:4], then="hang")


def send(url: str, case: str, stream: bool, session: str) -> int:
    body = json.dumps({**REQUEST, "stream": stream})
    headers = {
        "content-type": "application/json",
        "x-api-key": "sk-ant-client",
        "anthropic-version": "2023-06-01",
        "x-claude-code-session-id": session,
    }
    timeout = 0.5 if case.endswith("client aborted") else 10
    request = urllib.request.Request(f"{url}/v1/messages", data=body.encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except TimeoutError:
        return 499


def get(url: str, headers: dict[str, str] | None = None) -> str:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.read().decode())


def run_cases(url: str, fakes: FakesInThread, session: str = "session-1") -> None:
    a, b, o = fakes.fakes
    for case, stream, status, *_ in CASES:
        arrange(case, a, b, o)
        assert send(url, case, stream, session) == status, case


def expected_totals() -> dict[str, int]:
    tokens = [case[5] for case in CASES]
    return {
        "requests": len(CASES),
        "input": sum(t[0] for t in tokens),
        "output": sum(t[1] for t in tokens),
        "cache_read": sum(t[2] for t in tokens),
        "cache_write": sum(t[3] for t in tokens),
        "rescued": sum(case[4] for case in CASES),
    }


def summary_of(table: dict[str, Any]) -> dict[str, int]:
    return {name: table[name] for name in expected_totals()}
