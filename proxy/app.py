"""The aiohttp application: routes, guard, and the resources it owns."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from proxy import __version__
from proxy.admin import add_admin_fallback, add_admin_routes, admin_guard
from proxy.admin.context import Admin
from proxy.handler import MAX_BODY, RUNTIME, SESSION, proxy_handler
from proxy.runtime import Runtime
from proxy.security import guard
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
    """The proxy; with `admin`, also the settings page and its API under `/_ccf/`."""
    app = web.Application(
        client_max_size=MAX_BODY, middlewares=[guard(lambda: runtime.config), admin_guard()]
    )
    app[RUNTIME] = runtime
    app.cleanup_ctx.append(_client_session)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    if admin is not None:
        add_admin_routes(app, admin)
    add_admin_fallback(app)
    app.router.add_route("*", "/{tail:.*}", proxy_handler)
    return app
