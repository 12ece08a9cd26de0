"""The settings page: a fixed set of static files, and the login that sets the cookie."""

from __future__ import annotations

import logging
from importlib import resources

from aiohttp import web

from proxy import PRODUCT_NAME
from proxy.admin.context import ADMIN
from proxy.admin.guard import SESSION_COOKIE
from proxy.admin.sessions import SESSION_SECONDS, LockedOut

log = logging.getLogger("ccf.admin")
STATIC_FILES = {
    "index.html": "text/html",
    "app.css": "text/css",
    "app.js": "text/javascript",
    "api.js": "text/javascript",
    "dom.js": "text/javascript",
    "endpoints.js": "text/javascript",
    "editor.js": "text/javascript",
    "presets.js": "text/javascript",
    "general.js": "text/javascript",
    "claude.js": "text/javascript",
    "activity.js": "text/javascript",
    "doctor.js": "text/javascript",
    "models.js": "text/javascript",
    "movein.js": "text/javascript",
    "usage.js": "text/javascript",
    "usage.css": "text/css",
    "icon.svg": "image/svg+xml",
}
STATIC = web.AppKey("static", dict)
EXPIRED = f"""<!doctype html><meta charset="utf-8"><title>{PRODUCT_NAME}</title>
<link rel="stylesheet" href="/_ccf/app.css"><main class="notice"><h1>This sign-in link was
used or has expired</h1><p>Open <b>Settings…</b> from the tray menu, or run
<code>ccf settings</code>, for a fresh one.</p></main>"""
LOCKED = """<!doctype html><meta charset="utf-8"><title>Claude Code Fallback</title>
<link rel="stylesheet" href="/_ccf/app.css"><main class="notice"><h1>Too many sign-in
attempts</h1><p id="lockout">Too many attempts, try again in {seconds} s.</p><p>Something on
this computer tried many wrong sign-in links. When the wait is over, open <b>Settings…</b>
from the tray menu, or run <code>ccf settings</code>, for a fresh one.</p></main>"""


def load_static() -> dict[str, bytes]:
    """The page's files, read once (an installed package or a frozen build alike)."""
    folder = resources.files("ui").joinpath("static")
    return {name: folder.joinpath(name).read_bytes() for name in STATIC_FILES}


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info.get("name") or "index.html"
    if name not in STATIC_FILES:
        raise web.HTTPNotFound(text="not found")
    body = request.app[STATIC][name]
    return web.Response(body=body, content_type=STATIC_FILES[name], charset="utf-8")


async def to_page(request: web.Request) -> web.Response:
    return web.Response(status=303, headers={"Location": "/_ccf/"})


async def login(request: web.Request) -> web.Response:
    """`/_ccf/login?code=…`: a valid code becomes a session cookie. Never logs the code."""
    site = request.headers.get("Sec-Fetch-Site", "none").lower()
    session = None
    if site not in ("cross-site", "same-site"):
        try:
            session = request.app[ADMIN].sessions.redeem(request.query.get("code", ""))
        except LockedOut as locked:
            return locked_page(locked)
    if session is None:
        log.info("a settings sign-in link was refused (used, expired or from a web page)")
        return web.Response(status=403, text=EXPIRED, content_type="text/html")
    response = web.Response(status=303, headers={"Location": "/_ccf/"})
    response.set_cookie(
        SESSION_COOKIE,
        session,
        path="/_ccf",
        httponly=True,
        samesite="Strict",
        max_age=int(SESSION_SECONDS),
    )
    return response


def locked_page(locked: LockedOut) -> web.Response:
    return web.Response(
        status=429,
        text=LOCKED.format(seconds=locked.seconds),
        content_type="text/html",
        headers={"Retry-After": str(locked.seconds)},
    )


async def not_found(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "error": {
                "field": "",
                "message": f"{request.method} {request.path} is not an admin call",
            }
        },
        status=404,
    )


def page_routes() -> list[web.RouteDef]:
    return [
        web.get("/_ccf", to_page),
        web.get("/_ccf/", static_file),
        web.get("/_ccf/login", login),
        web.get("/_ccf/{name:[a-z]+\\.[a-z]+}", static_file),
    ]


def fallback_routes() -> list[web.RouteDef]:
    """Anything else under `/_ccf` is a 404 here, never forwarded upstream."""
    return [web.route("*", "/_ccf", not_found), web.route("*", "/_ccf/{tail:.*}", not_found)]
