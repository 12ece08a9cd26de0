"""The model-mapping editor's list of the provider's own models, fetched on demand."""

from __future__ import annotations

import asyncio

from aiohttp import web

from proxy.admin.views import named_endpoint
from proxy.app_state import RUNTIME, SESSION
from proxy.core.config import Endpoint, Secret
from proxy.core.errors import ApiError, UpstreamError
from proxy.core.model_list import model_ids, models_url
from proxy.core.shaping import request_headers
from proxy.net import certificate_problem
from proxy.upstream import open_response, read_all

LIST_SECONDS = 20.0
REFUSED = {401: "the key was refused", 403: "the key was refused", 404: "it has no model list"}


def list_headers(endpoint: Endpoint, key: Secret | None) -> list[tuple[str, str]]:
    base = [("accept", "application/json")]
    if endpoint.format == "anthropic":
        base.append(("anthropic-version", "2023-06-01"))
    return request_headers(base, endpoint, key)


async def get_models(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    name = request.match_info["name"]
    endpoint = named_endpoint(runtime, name)
    if endpoint.needs_key and name not in runtime.keys.keys:
        raise ApiError(409, runtime.keys.problems.get(name, f"{name} has no key yet"), "secret")
    if endpoint.auth == "client":
        raise ApiError(409, f"{name} uses Claude Code's own login; its model list needs a key")
    key = runtime.keys.keys.get(name)
    shaped = ("GET", models_url(endpoint), list_headers(endpoint, key), b"")
    timeouts = runtime.config.timeouts
    try:
        async with asyncio.timeout(LIST_SECONDS):
            response = await open_response(request.app[SESSION], name, shaped, timeouts.connect)
            async with response:
                body = await read_all(response, name, timeouts.idle)
    except TimeoutError:
        raise ApiError(504, f"{name} did not answer within {LIST_SECONDS:g} s") from None
    except UpstreamError as exc:
        raise ApiError(502, certificate_problem(exc) or str(exc)) from None
    if response.status != 200:
        meaning = REFUSED.get(response.status, "it refused")
        raise ApiError(502, f"{name} answered {response.status}: {meaning}")
    try:
        return web.json_response({"models": model_ids(body)})
    except ValueError as exc:
        raise ApiError(502, f"{name}'s model list cannot be read: {exc}") from None


def models_routes() -> list[web.RouteDef]:
    return [web.get("/_ccf/api/endpoints/{name}/models", get_models)]
