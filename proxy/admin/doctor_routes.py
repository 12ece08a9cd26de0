"""The "Check set-up" page's API: the same checks as `ccf doctor`, and Stop using the proxy."""

from __future__ import annotations

from aiohttp import web

from proxy.admin.context import ADMIN
from proxy.admin.write_routes import json_object
from proxy.app_state import RUNTIME, SESSION
from proxy.config_changes import url_port
from proxy.core.config import Config
from proxy.core.doctor import diagnose, report_json
from proxy.core.errors import ApiError
from proxy.doctor.gather import gather, probe_with
from proxy.doctor.stop import StopUsingError, stop_using
from proxy.keys import ResolvedKeys
from proxy.tasks import off_loop

APP_ENVIRONMENT = "the environment Claude Code Fallback was started from"


async def get_doctor(request: web.Request) -> web.Response:
    """`?network=0` skips the one request per endpoint."""
    admin, runtime = request.app[ADMIN], request.app[RUNTIME]

    def keys(_: Config) -> ResolvedKeys:
        return runtime.keys

    network = request.query.get("network", "1") != "0"
    facts = await gather(
        config_path=admin.config_path,
        env=admin.env,
        claude_dir=admin.claude_dir,
        store=admin.store,
        keys=keys,
        probes=probe_with(request.app[SESSION]) if network else None,
        proxy_url=runtime.url,
        shell_label=APP_ENVIRONMENT,
    )
    return web.json_response(report_json(diagnose(facts)))


async def post_stop_using(request: web.Request) -> web.Response:
    admin, runtime = request.app[ADMIN], request.app[RUNTIME]
    if (await json_object(request)).get("confirm") is not True:
        raise ApiError(400, 'confirm with {"confirm": true}', "confirm")
    async with admin.changes.lock:
        try:
            restored = await off_loop(stop_using, admin.claude_dir, url_port(runtime.url))
        except StopUsingError as exc:
            raise ApiError(409, str(exc)) from None
    return web.json_response(restored.to_json())


def doctor_routes() -> list[web.RouteDef]:
    return [
        web.get("/_ccf/api/doctor", get_doctor),
        web.post("/_ccf/api/claude-code/restore", post_stop_using),
    ]
