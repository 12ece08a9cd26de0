"""Admin API writes: each one transactional (see `proxy.admin.transaction`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from proxy.admin.claude_code import write_settings
from proxy.admin.context import ADMIN
from proxy.admin.probe import ProbeResult, probe
from proxy.admin.read_routes import config_payload
from proxy.admin.transaction import change_config, change_keys
from proxy.admin.views import named_endpoint
from proxy.app_state import RUNTIME, SESSION
from proxy.config_changes import PlanKeys, url_port
from proxy.core import config_edit
from proxy.core.config import Config, Endpoint
from proxy.core.errors import ApiError
from proxy.keyplan import KeyPlan
from proxy.tasks import off_loop

MAX_SECRET = 4096


async def json_object(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "the body is not valid JSON (or nested too deeply)") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def secret_of(value: object, field: str = "secret") -> str | None:
    """A key typed by the user: None when not given; no blanks, line breaks or controls."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_SECRET:
        raise ApiError(400, "a key is a string of at most 4096 characters", field)
    value = value.strip()  # spaces around a pasted key are never part of it
    if not value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ApiError(
            400, "a key has no spaces at its ends, line breaks or control characters", field
        )
    if any(c.isspace() for c in value):
        raise ApiError(400, "A key has no spaces inside: check that you copied only the key", field)
    return value


def stored_in_keyring(endpoint: Endpoint | None) -> bool:
    return endpoint is not None and endpoint.needs_key and endpoint.key.kind == "keyring"


def keyring_endpoint(config: Config, name: str, field: str = "secret") -> Endpoint:
    endpoint = config.endpoint(name)
    if endpoint is None:
        raise ApiError(404, f"there is no endpoint named {name!r}", "name")
    if not stored_in_keyring(endpoint):
        raise ApiError(
            400,
            f"{name} takes no key from the keyring (auth: {endpoint.auth}, key: {endpoint.key}); "
            "choose auth x-api-key or bearer and key source keyring first",
            field,
        )
    return endpoint


def plan_endpoint_keys(old: str | None, new: str, secret: str | None) -> PlanKeys:
    def plan(keys: KeyPlan, config: Config) -> None:
        if secret is not None:
            keyring_endpoint(config, new)
            keys.to_set[new] = secret
        if old is not None:
            keys.move(old, new)

    return plan


async def answer(request: web.Request, **extra: Any) -> web.Response:
    return web.json_response({**(await config_payload(request)), **extra})


def endpoint_fields(data: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    fields = {k: v for k, v in data.items() if k != "secret"}
    return fields, secret_of(data.get("secret"))


async def add_endpoint(request: web.Request) -> web.Response:
    fields, secret = endpoint_fields(await json_object(request))
    name = str(fields.get("name", ""))
    plan = plan_endpoint_keys(None, name, secret)
    await change_config(request, lambda raw: config_edit.add_endpoint(raw, fields), plan)
    return await answer(request)


async def edit_endpoint(request: web.Request) -> web.Response:
    old = request.match_info["name"]
    fields, secret = endpoint_fields(await json_object(request))
    new = str(fields.get("name", old))
    plan = plan_endpoint_keys(old, new, secret)
    await change_config(request, lambda raw: config_edit.replace_endpoint(raw, old, fields), plan)
    return await answer(request)


async def delete_endpoint(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    had_key = stored_in_keyring(request.app[RUNTIME].config.endpoint(name))

    def plan(keys: KeyPlan, config: Config) -> None:
        if had_key:
            keys.delete_after.append(name)

    await change_config(request, lambda raw: config_edit.delete_endpoint(raw, name), plan)
    return await answer(request)


async def set_order(request: web.Request) -> web.Response:
    names = (await json_object(request)).get("names")
    if not isinstance(names, list):
        raise ApiError(400, "names must be a list of endpoint names", "order")
    await change_config(request, lambda raw: config_edit.reorder_endpoints(raw, names))
    return await answer(request)


async def set_enabled(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    enabled = (await json_object(request)).get("enabled")
    await change_config(request, lambda raw: config_edit.set_enabled(raw, name, enabled))
    return await answer(request)


async def set_routing(request: web.Request) -> web.Response:
    data = await json_object(request)
    changes: dict[str, Any] = {k: data[k] for k in ("pinned", "paused") if k in data}
    if len(changes) != len(data):
        raise ApiError(400, "routing takes pinned and paused only", "routing")
    await change_config(request, lambda raw: config_edit.set_routing(raw, changes))
    return await answer(request)


async def set_general(request: web.Request) -> web.Response:
    data = await json_object(request)
    await change_config(request, lambda raw: config_edit.set_general(raw, data))
    return await answer(request, url=request.app[RUNTIME].url)


async def put_key(request: web.Request) -> web.Response:
    admin, runtime = request.app[ADMIN], request.app[RUNTIME]
    name = request.match_info["name"]
    secret = secret_of((await json_object(request)).get("key"), "secret")
    if secret is None:
        raise ApiError(400, "type the key first", "secret")
    keyring_endpoint(runtime.config, name)
    await change_keys(request, lambda: admin.store.set(name, secret))
    return await answer(request)


async def delete_key(request: web.Request) -> web.Response:
    admin = request.app[ADMIN]
    name = request.match_info["name"]
    await change_keys(request, lambda: admin.store.delete(name))
    return await answer(request)


async def post_reload_keys(request: web.Request) -> web.Response:
    await change_keys(request)
    return await answer(request)


async def test_endpoint(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    name = request.match_info["name"]
    endpoint = named_endpoint(runtime, name)
    if endpoint.needs_key and name not in runtime.keys.keys:
        problem = runtime.keys.problems.get(name, "no key")
        return web.json_response(ProbeResult(False, None, 0.0, problem, "").to_json())
    key = runtime.keys.keys.get(name)
    result = await probe(request.app[SESSION], endpoint, key, runtime.config.timeouts)
    return web.json_response(result.to_json())


async def post_claude_settings(request: web.Request) -> web.Response:
    admin, runtime = request.app[ADMIN], request.app[RUNTIME]
    if (await json_object(request)).get("confirm") is not True:
        raise ApiError(400, 'confirm the write with {"confirm": true}', "confirm")
    port = url_port(runtime.url)
    async with admin.changes.lock:
        written = await off_loop(
            write_settings, runtime.config, runtime.url, port, admin.claude_dir
        )
    return web.json_response(written.to_json())


def write_routes() -> list[web.RouteDef]:
    return [
        web.post("/_ccf/api/endpoints", add_endpoint),
        web.put("/_ccf/api/endpoints/{name}", edit_endpoint),
        web.delete("/_ccf/api/endpoints/{name}", delete_endpoint),
        web.put("/_ccf/api/endpoints/{name}/enabled", set_enabled),
        web.post("/_ccf/api/endpoints/{name}/test", test_endpoint),
        web.put("/_ccf/api/order", set_order),
        web.put("/_ccf/api/routing", set_routing),
        web.put("/_ccf/api/general", set_general),
        web.put("/_ccf/api/keys/{name}", put_key),
        web.delete("/_ccf/api/keys/{name}", delete_key),
        web.post("/_ccf/api/keys/reload", post_reload_keys),
        web.post("/_ccf/api/claude-code/settings", post_claude_settings),
    ]
