"""The proxied route: read the request once, try endpoints in plan order, answer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from proxy.app_keys import RUNTIME, SESSION
from proxy.attempt import Answered, Attempt, FellThrough, Trail, buffered_response
from proxy.core.honest import COUNT_TOKENS
from proxy.core.limits import needs_of
from proxy.core.plan import fails_over
from proxy.core.sse import error_body
from proxy.runtime import Runtime
from proxy.wire import Incoming, fitted_plan

log = logging.getLogger("ccf.proxy")
MAX_BODY = 32 * 1024 * 1024
CLIENT_CLOSED = 499  # nginx's status for "the client went away before the answer"


def error_response(
    status: int, kind: str, message: str, trail: Trail | None = None
) -> web.Response:
    response = web.json_response(error_body(kind, message), status=status)
    if trail is not None and trail.steps:
        response.headers["x-ccf-attempts"] = str(trail)
    return response


async def read_incoming(request: web.Request) -> Incoming:
    body = await request.read()
    headers = list(request.headers.items())
    return Incoming(request.method, request.path, request.query_string, headers, body)


async def proxy_handler(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    try:
        incoming = await read_incoming(request)
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "request_too_large", "Request body is larger than 32 MiB.")
    started = runtime.clock.monotonic()
    runtime.metrics.in_flight += 1
    trail = Trail()
    status = 502
    endpoint_name: str | None = None
    try:
        response, endpoint_name = await failover(runtime, request, incoming, trail)
        status = response.status
        return response
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        runtime.metrics.in_flight -= 1
        runtime.metrics.count_request(endpoint_name or "none", status)
        record_activity(
            runtime, incoming, trail=trail, endpoint=endpoint_name, status=status, started=started
        )


async def failover(
    runtime: Runtime, request: web.Request, incoming: Incoming, trail: Trail
) -> tuple[web.StreamResponse, str | None]:
    plan = runtime.plan(incoming.path)
    if incoming.body and not incoming.is_json:
        plan = plan[:1]  # not JSON: no model to map, so no translation; forward to one endpoint
    elif not fails_over(incoming.path):
        plan = plan[:1]
    session = request.app[SESSION]
    failures: list[tuple[FellThrough, str]] = []
    for endpoint, skipped in fitted_plan(incoming, plan):
        if skipped:
            trail.add(endpoint.name, f"skipped({skipped})")
            continue
        outcome = await Attempt(runtime, session, request, incoming, trail).run(endpoint)
        if isinstance(outcome, Answered):
            runtime.metrics.count_tokens(endpoint.name, outcome.usage)
            return outcome.response, endpoint.name
        runtime.metrics.count_failover(endpoint.name, outcome.failure.reason)
        failures.append((outcome, endpoint.name))
    if incoming.path == COUNT_TOKENS and incoming.data is not None:
        return counted_locally(incoming.data, trail), None
    return all_failed(failures, trail)


def counted_locally(data: dict[str, Any], trail: Trail) -> web.Response:
    """count_tokens when no Anthropic-format endpoint could answer: an estimate, marked as
    one, so Claude Code's auto-compaction keeps working."""
    response = web.json_response({"input_tokens": needs_of(data).input_tokens})
    response.headers["x-ccf-estimate"] = "true"
    response.headers["x-ccf-attempts"] = str(trail)
    return response


def all_failed(
    failures: list[tuple[FellThrough, str]], trail: Trail
) -> tuple[web.Response, str | None]:
    """The last upstream error response as it came, else 502/504 naming every attempt."""
    if not failures:
        return error_response(
            503, "api_error", "Claude Code Fallback: no endpoint is enabled."
        ), None
    answered = [(outcome.answer, name) for outcome, name in failures if outcome.answer]
    if answered:
        answer, name = answered[-1]
        return buffered_response(answer, name, trail), name
    last = failures[-1][0].failure
    status = 504 if last.reason == "timeout" else 502
    message = f"Claude Code Fallback: every endpoint failed ({trail}). Last: {last.message}"
    return error_response(status, "api_error", message, trail), None


def record_activity(
    runtime: Runtime,
    incoming: Incoming,
    *,
    trail: Trail,
    endpoint: str | None,
    status: int,
    started: float,
) -> None:
    latency_ms = (runtime.clock.monotonic() - started) * 1000
    model = incoming.model
    runtime.activity.append(
        (runtime.clock.wall(), incoming.method, incoming.path, model, trail.mapped_model,
         endpoint, status, latency_ms, trail.steps)
    )  # fmt: skip
    # The activity view has every request; the log keeps what someone may need to look into.
    plain = len(trail.steps) == 1 and 200 <= status < 300
    level = logging.DEBUG if plain else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, "%s %s model=%s -> %s %d in %.0f ms [%s]", incoming.method, incoming.path,
                model, endpoint, status, latency_ms, trail)  # fmt: skip
