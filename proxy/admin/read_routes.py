"""Admin API reads: settings, endpoints with live state, activity, Claude Code setup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from proxy.admin.claude_code import setup_view
from proxy.admin.context import ADMIN
from proxy.admin.views import activity, counters, endpoint_rows, key_info, overrides
from proxy.app_state import RUNTIME
from proxy.config_file import read_raw
from proxy.core.config import FieldError, parse_config
from proxy.core.config_edit import editable_view
from proxy.core.errors import ApiError, ConfigError
from proxy.tasks import off_loop

ACTIVITY_LIMIT = 300


async def config_payload(request: web.Request) -> dict[str, Any]:
    """The settings as the file has them, for the page to edit."""
    admin, runtime = request.app[ADMIN], request.app[RUNTIME]
    problem = ""
    lines: list[str] = []
    try:
        raw = await off_loop(read_raw, admin.config_path)
        view = editable_view(raw, parse_config(raw, admin.env))
    except (ConfigError, FieldError) as exc:
        problem = f"{admin.config_path} cannot be used ({exc}); showing the running settings."
        view = editable_view({}, runtime.config)
        lines = await off_loop(file_lines, admin.config_path)
    return {
        "file_lines": lines,  # the broken file, for the page to show the bad line (no keys)
        "config": view,
        "file": str(admin.config_path),
        "problem": problem,
        "overrides": overrides(admin.env),
        "url": runtime.url,
        "keys": key_info(runtime.config, runtime.keys),
    }


def file_lines(path: Path, limit: int = 2000) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[:limit]
    except OSError:
        return []


async def get_config(request: web.Request) -> web.Response:
    return web.json_response(await config_payload(request))


async def get_endpoints(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    snapshot = runtime.snapshot()
    status = {k: v for k, v in snapshot.to_json().items() if k != "endpoints"}
    return web.json_response({**status, "endpoints": endpoint_rows(runtime, snapshot)})


async def get_activity(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    try:
        limit = min(int(request.query.get("limit", ACTIVITY_LIMIT)), ACTIVITY_LIMIT)
    except ValueError:
        raise ApiError(400, "limit must be a number", "limit") from None
    return web.json_response(
        {"items": activity(runtime, limit), "counters": counters(runtime.metrics)}
    )


async def get_claude_code(request: web.Request) -> web.Response:
    admin, runtime = request.app[ADMIN], request.app[RUNTIME]
    view = await off_loop(setup_view, runtime.config, runtime.url, admin.claude_dir)
    return web.json_response(view)


async def post_login_code(request: web.Request) -> web.Response:
    """A single-use sign-in link, on the address the caller reached this proxy at."""
    code = request.app[ADMIN].sessions.new_code()
    url = f"{request.scheme}://{request.host}/_ccf/login?code={code}"
    return web.json_response({"code": code, "url": url})


def read_routes() -> list[web.RouteDef]:
    return [
        web.get("/_ccf/api/config", get_config),
        web.get("/_ccf/api/endpoints", get_endpoints),
        web.get("/_ccf/api/activity", get_activity),
        web.get("/_ccf/api/claude-code", get_claude_code),
        web.post("/_ccf/api/login-codes", post_login_code),
    ]
