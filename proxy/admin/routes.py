"""The `/_ccf` routes, put on the proxy's app."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from proxy.admin.context import ADMIN, Admin
from proxy.admin.guard import admin_guarded
from proxy.admin.page import STATIC, fallback_routes, load_static, page_routes
from proxy.admin.read_routes import read_routes
from proxy.admin.setup_routes import setup_routes
from proxy.admin.usage_routes import usage_routes
from proxy.admin.write_routes import write_routes


def add_admin_routes(
    app: web.Application,
    router: web.UrlDispatcher,
    admin: Admin | None,
    outer: Callable[[Handler], Handler],
) -> None:
    """The `/_ccf` routes, into `router`, each behind `outer` (the app's guard) and the admin
    guard.

    Without `admin` only the fallback: `/_ccf/...` is a 404, never forwarded upstream.
    """
    routes = fallback_routes()
    if admin is not None:
        app[ADMIN] = admin
        app[STATIC] = load_static()
        routes = [
            *setup_routes(),
            *usage_routes(),
            *read_routes(),
            *write_routes(),
            *page_routes(),
            *routes,
        ]
    for route in routes:
        guarded = outer(admin_guarded(route.handler))
        web.RouteDef(route.method, route.path, guarded, route.kwargs).register(router)
