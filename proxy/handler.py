"""The proxied route: read the request once, try endpoints in plan order, answer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from proxy.answers import answer_response, ccf_headers
from proxy.app_state import RUNTIME, SESSION
from proxy.attempt import Answered, Attempt
from proxy.core.attempt import Finished, Trail, all_failed
from proxy.core.attempt_events import FailOver
from proxy.core.honest import COUNT_TOKENS
from proxy.core.limits import needs_of
from proxy.core.plan import fails_over
from proxy.core.sse import error_body
from proxy.dispatch import TARGET
from proxy.formats import fitted_plan
from proxy.incoming import Incoming
from proxy.ledger.install import record_usage
from proxy.runtime import Activity, Runtime

log = logging.getLogger("ccf.proxy")
MAX_BODY = 32 * 1024 * 1024
BODY_SECONDS = 30.0  # the whole request body must arrive within this (a slow body is refused)
CLIENT_CLOSED = 499  # nginx's status for "the client went away before the answer"


def error_response(status: int, kind: str, message: str, *, close: bool = False) -> web.Response:
    response = web.json_response(error_body(kind, message), status=status)
    if close:
        response.force_close()
    return response


async def read_incoming(request: web.Request, seconds: float) -> Incoming:
    """The request, its body read whole within `seconds` (`TimeoutError` if not)."""
    # A body that came with the headers needs no timer: each one armed costs ~35,000 of the
    # ~1.3 million instructions the proxy spends on a request (tests.bench.instructions).
    if request.content.is_eof():
        body = await request.read()
    else:
        async with asyncio.timeout(seconds):
            body = await request.read()
    headers = list(request.headers.items())
    target = request[TARGET]  # the raw path and query: upstream URLs are never normalised
    return Incoming(request.method, target.raw, target.query, headers, body)


async def proxy_handler(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    try:
        incoming = await read_incoming(request, BODY_SECONDS)
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "request_too_large", "Request body is larger than 32 MiB.")
    except TimeoutError:
        message = f"The request body did not arrive within {BODY_SECONDS:g} s."
        return error_response(408, "timeout_error", message, close=True)
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
        endpoint_name = trail.committed[0] if trail.committed else None  # who was serving
        raise
    finally:
        runtime.metrics.in_flight -= 1
        # The books are kept once the answer is out: aiohttp writes a whole answer after this
        # returns, and keeping them first put their 26 us (median of 3,000 requests through the
        # benchmark's body, ledger on) on every answer's latency.
        asyncio.get_running_loop().call_soon(
            keep_books,
            request,
            incoming,
            Finished(trail, endpoint_name, status, started, runtime.clock.monotonic()),
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
    failures: list[tuple[str, FailOver]] = []
    for endpoint, skipped in fitted_plan(incoming, plan):
        if skipped:
            trail.steps.append(f"{endpoint.name}=skipped({skipped})")
            continue
        outcome = await Attempt(runtime, session, request, incoming, trail).run(endpoint)
        if isinstance(outcome, Answered):
            return outcome.response, endpoint.name
        runtime.metrics.count_failover(endpoint.name, outcome.failure.reason)
        failures.append((endpoint.name, outcome))
    if incoming.path == COUNT_TOKENS and incoming.data is not None:
        return counted_locally(incoming.data, trail), None
    answer, name = all_failed(failures, str(trail))
    return answer_response(answer, name, trail, runtime.redactor), name


def counted_locally(data: dict[str, Any], trail: Trail) -> web.Response:
    """count_tokens when no Anthropic-format endpoint could answer: an estimate, marked as
    one, so Claude Code's auto-compaction keeps working."""
    response = web.json_response({"input_tokens": needs_of(data).input_tokens})
    response.headers["x-ccf-estimate"] = "true"
    response.headers.update(ccf_headers(None, trail))
    return response


def keep_books(request: web.Request, incoming: Incoming, finished: Finished) -> None:
    """Metrics, the activity view, the log and the usage ledger learn how a request ended."""
    runtime = request.app[RUNTIME]
    runtime.metrics.count_request(finished.endpoint or "none", finished.status)
    record_activity(runtime, incoming, finished)
    record_usage(request, incoming, finished)  # the usage ledger (proxy/ledger)


def record_activity(runtime: Runtime, incoming: Incoming, finished: Finished) -> None:
    trail, status, endpoint = finished.trail, finished.status, finished.endpoint
    latency_ms = finished.latency_ms
    model = incoming.model
    runtime.activity.append(Activity(
        runtime.clock.wall(), incoming.method, incoming.path, model, trail.mapped_model,
        endpoint, status, round(latency_ms, 1), str(trail),
    ))  # fmt: skip
    # The activity view has every request; the log keeps what someone may need to look into.
    plain = len(trail.steps) == 1 and 200 <= status < 300
    level = logging.DEBUG if plain else logging.INFO
    log.log(level, "%s %s model=%s -> %s %d in %.0f ms [%s]", incoming.method, incoming.path,
            model, endpoint, status, latency_ms, trail)  # fmt: skip
