"""The settings page and its admin JSON API, served by the running proxy under `/_ccf/`.

guard.py          who may call (admin token or session cookie, no web pages, JSON only)
page.py           the static page and the single-use login links
read_routes.py    settings, endpoints with live state, activity, Claude Code setup
write_routes.py   transactional changes, keys, the Test button, settings.json
usage_routes.py   the usage ledger: summaries, the request log, CSV
transaction.py    validate the whole config, persist atomically, swap
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from proxy.admin.context import ADMIN, Admin, claude_config_dir
from proxy.admin.guard import admin_guarded
from proxy.admin.page import STATIC, fallback_routes, load_static, page_routes
from proxy.admin.read_routes import read_routes
from proxy.admin.sessions import Sessions
from proxy.admin.usage_routes import usage_routes
from proxy.admin.write_routes import write_routes
from proxy.clock import Clock
from proxy.keys import KeyStore

__all__ = ["Admin", "add_admin_routes", "make_admin"]


def add_admin_routes(
    app: web.Application, admin: Admin | None, outer: Callable[[Handler], Handler]
) -> None:
    """The `/_ccf` routes, each behind `outer` (the app's guard) and the admin guard.

    Without `admin` only the fallback: `/_ccf/...` is a 404, never forwarded upstream.
    """
    routes = fallback_routes()
    if admin is not None:
        app[ADMIN] = admin
        app[STATIC] = load_static()
        routes = [*read_routes(), *write_routes(), *page_routes(), *routes]
        routes = [*usage_routes(), *routes]  # the usage ledger (proxy/ledger)
    for route in routes:
        guarded = outer(admin_guarded(route.handler))
        web.RouteDef(route.method, route.path, guarded, route.kwargs).register(app.router)


def make_admin(
    config_path: Path,
    env: Mapping[str, str],
    store: KeyStore,
    clock: Clock,
    secret_sink: Callable[[str], None] | None = None,
) -> Admin:
    """The admin API's state. The admin token is read when a caller first presents one
    (openers such as `ccf settings` make it), so starting never waits for the keyring."""
    return Admin(
        config_path=config_path,
        env=dict(env),
        store=store,
        sessions=Sessions(clock),
        claude_dir=claude_config_dir(env),
        secret_sink=secret_sink,
    )
