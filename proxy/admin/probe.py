"""The Test button: one minimal real request to an endpoint, never touching health.

It goes through the same shaping as proxied requests (headers, credentials, target URL,
model map) and reports status, latency and the upstream's error text.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp

from proxy.core.body import dump, with_model
from proxy.core.classify import error_type_and_message
from proxy.core.config import Endpoint, Secret, Timeouts
from proxy.core.errors import UpstreamError
from proxy.core.shaping import request_headers, target_url
from proxy.net import certificate_problem
from proxy.upstream import open_response, read_all

TEST_MODEL = "claude-haiku-4-5"
TEST_SECONDS = 30.0
BASE_HEADERS = [
    ("content-type", "application/json"),
    ("accept", "application/json"),
    ("anthropic-version", "2023-06-01"),
]
CLIENT_AUTH_NOTE = (
    "This endpoint uses Claude Code's own credentials, which a test from Settings does not "
    "have: 401 means it is reachable."
)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    status: int | None
    latency_ms: float
    error: str
    model: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def probe_body(endpoint: Endpoint) -> tuple[bytes, str]:
    data: dict[str, Any] = {
        "model": TEST_MODEL,
        "max_tokens": 1,
        "messages": [{"role": "user", "content": "Reply with OK."}],
    }
    data, mapped = with_model(data, endpoint.models)
    if endpoint.format == "openai":
        data = to_openai(data)
    return dump(data), mapped or TEST_MODEL


def to_openai(data: dict[str, Any]) -> dict[str, Any]:
    try:
        from proxy.core.openai.request import anthropic_to_openai
    except ImportError:
        return {"model": data["model"], "max_tokens": 1, "messages": data["messages"]}
    return anthropic_to_openai(data)


def error_text(status: int, body: bytes) -> str:
    if 200 <= status < 300:
        return ""
    _, message = error_type_and_message(body)
    if message:
        return message
    try:
        return json.dumps(json.loads(body))[:300]
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:300] or f"HTTP {status}"


async def probe(
    session: aiohttp.ClientSession, endpoint: Endpoint, key: Secret | None, timeouts: Timeouts
) -> ProbeResult:
    body, model = probe_body(endpoint)
    note = CLIENT_AUTH_NOTE if endpoint.auth == "client" else ""
    headers = request_headers(BASE_HEADERS, endpoint, key)
    shaped = ("POST", target_url(endpoint, "/v1/messages", ""), headers, body)
    started = time.monotonic()
    try:
        async with asyncio.timeout(min(timeouts.headers_within(streamed=False), TEST_SECONDS)):
            response = await open_response(session, endpoint.name, shaped, timeouts.connect)
            async with response:
                answer = await read_all(response, endpoint.name, timeouts.idle)
    except TimeoutError:
        return ProbeResult(False, None, _since(started), "no answer in time", model, note)
    except UpstreamError as exc:
        text = certificate_problem(exc) or str(exc)
        return ProbeResult(False, None, _since(started), text, model, note)
    status = response.status
    text = error_text(status, answer)
    return ProbeResult(200 <= status < 300, status, _since(started), text, model, note)


def _since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
