"""The answers the proxy writes itself: whole ones, with who answered and the path taken."""

from __future__ import annotations

from aiohttp import web

from proxy.core import attempt_events as ev
from proxy.core.attempt import Trail
from proxy.core.redact import Redactor


def ccf_headers(endpoint: str | None, trail: Trail) -> dict[str, str]:
    """Who answered and the path taken (DESIGN §3.9)."""
    named = {"x-ccf-endpoint": endpoint} if endpoint is not None else {}
    return {**named, "x-ccf-attempts": str(trail)} if trail.steps else named


def answer_response(
    answer: ev.Answer, endpoint: str | None, trail: Trail, redactor: Redactor
) -> web.Response:
    """`answer` for the client; an error's body masked, as an upstream may echo a key."""
    body = redactor.redact_bytes(answer.body) if answer.status >= 400 else answer.body
    response = web.Response(status=answer.status, body=body, headers=answer.headers)
    response.headers.update(ccf_headers(endpoint, trail))
    return response
