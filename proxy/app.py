"""The aiohttp application: routes, guard, and the resources it owns."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from proxy import __version__
from proxy.admin import add_admin_routes
from proxy.admin.context import Admin
from proxy.app_state import RUNTIME, SESSION
from proxy.handler import MAX_BODY, proxy_handler
from proxy.runtime import Runtime
from proxy.security import guarding
from proxy.upstream import new_session


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    session = new_session()
    app[SESSION] = session
    yield
    await session.close()


async def health(request: web.Request) -> web.Response:
    snapshot = request.app[RUNTIME].snapshot()
    return web.json_response({**snapshot.to_json(), "version": __version__})


async def metrics(request: web.Request) -> web.Response:
    body = request.app[RUNTIME].metrics.render()
    return web.Response(body=body, content_type="text/plain", charset="utf-8")


def create_app(runtime: Runtime, admin: Admin | None = None) -> web.Application:
    """The proxy; with `admin`, also the settings page and its API under `/_ccf/`.

    Every route is registered through `guarded`, the security check of `proxy.security`.
    """
    app = web.Application(client_max_size=MAX_BODY)
    guarded = guarding(lambda: runtime.config)
    app[RUNTIME] = runtime
    app.cleanup_ctx.append(_client_session)
    app.router.add_get("/health", guarded(health))
    app.router.add_get("/metrics", guarded(metrics))
    add_admin_routes(app, admin, guarded)
    app.router.add_route("*", "/{tail:.*}", guarded(proxy_handler))
    return app
