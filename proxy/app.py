"""The aiohttp application: routes, guard, and the resources it owns."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

from proxy import __version__
from proxy.admin.context import Admin
from proxy.admin.routes import add_admin_routes
from proxy.app_state import RUNTIME, SESSION
from proxy.core.paths import LOCAL_METHODS
from proxy.core.redact import CREDENTIAL_HEADERS, credentials_in
from proxy.dispatch import ByKind
from proxy.handler import MAX_BODY, proxy_handler
from proxy.ledger.install import add_ledger
from proxy.runtime import Runtime
from proxy.security import guarding
from proxy.upstream import new_session


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    session = new_session(lambda: app[RUNTIME].config)
    app[SESSION] = session
    yield
    await session.close()


async def health(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    status = runtime.redactor.redact_json(runtime.snapshot().to_json())
    return web.json_response({**status, "version": __version__})


async def metrics(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = runtime.redactor.redact_bytes(runtime.metrics.render())
    return web.Response(body=body, content_type="text/plain", charset="utf-8")


_CREDENTIAL_NAMES = tuple(sorted(CREDENTIAL_HEADERS))


def learning_credentials(handler: Handler) -> Handler:
    """`handler`, after the redactor learned the request's own credentials: an upstream
    may echo them into an error that /health or the log would otherwise show."""

    async def learn(request: web.Request) -> web.StreamResponse:
        # four case-insensitive lookups, not a pass over every header: 2.6 -> 1.3 us a request
        # with Claude Code's 15 headers
        headers = request.headers
        sent = [(name, value) for name in _CREDENTIAL_NAMES for value in headers.getall(name, ())]
        if sent:
            request.app[RUNTIME].redactor.learn(credentials_in(sent))
        return await handler(request)

    return learn


def reads_only(handler: Handler) -> Handler:
    """A local path answers GET and HEAD; anything else is a 405, never proxied."""

    async def answer(request: web.Request) -> web.StreamResponse:
        if request.method not in LOCAL_METHODS:
            raise web.HTTPMethodNotAllowed(request.method, sorted(LOCAL_METHODS))
        return await handler(request)

    return answer


def create_app(runtime: Runtime, admin: Admin | None = None) -> web.Application:
    """The proxy; with `admin`, also the settings page and its API under `/_ccf/`.

    The router holds one resource, `ByKind`: each request is classified once from its raw
    target and resolved among the routes of its kind. Every route is registered through
    `guarded`, the security check of `proxy.security`.
    """
    app = web.Application(client_max_size=MAX_BODY)
    guarded = guarding(lambda: runtime.config)
    app[RUNTIME] = runtime
    app.cleanup_ctx.append(_client_session)
    local, admin_routes = web.UrlDispatcher(), web.UrlDispatcher()
    local.add_route("*", "/health", guarded(reads_only(health)))
    local.add_route("*", "/metrics", guarded(reads_only(metrics)))
    add_admin_routes(app, admin_routes, admin, guarded)
    if admin is not None:  # the tray and `ccf serve`: record usage (proxy/ledger)
        add_ledger(app, runtime)
    proxied = guarded(learning_credentials(proxy_handler))
    app.router.register_resource(ByKind(local, admin_routes, proxied))
    return app
