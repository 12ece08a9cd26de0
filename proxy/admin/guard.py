"""Who may use the settings page and the admin API.

On top of the app-wide guard (loopback `Host`): every `/_ccf/` response carries a strict CSP
and may not be framed; `/_ccf/api/` needs the admin token (`Authorization: Bearer`) or a
session cookie, refuses cross-site and same-site browser requests and foreign `Origin`s,
and takes JSON bodies only, so no form post or no-cors fetch from a web page can drive it.
"""

from __future__ import annotations

import functools
import hmac
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from proxy.admin.context import ADMIN, Admin, error_response
from proxy.admin.sessions import LockedOut
from proxy.core.errors import ApiError

log = logging.getLogger("ccf.admin")
API_PREFIX = "/_ccf/api/"
SESSION_COOKIE = "ccf_session"
READ_METHODS = frozenset({"GET", "HEAD"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def refuse_browser_context(request: web.Request) -> None:
    site = request.headers.get("Sec-Fetch-Site", "").lower()
    if site in ("cross-site", "same-site"):
        raise ApiError(403, "Requests from other web sites are refused.")
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        raise ApiError(403, "Requests from other web pages are refused.")


async def is_authorized(request: web.Request, admin: Admin) -> bool:
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() == "bearer" and token:
        admin.sessions.check_lockout()
        expected = await admin.token.get()
        valid = expected is not None and hmac.compare_digest(
            token.strip().encode(), expected.encode()
        )
        if not valid:
            admin.sessions.attempt_failed("admin tokens")
        return valid
    session = request.cookies.get(SESSION_COOKIE, "")
    return bool(session) and admin.sessions.is_valid(session)


def require_json(request: web.Request) -> None:
    if request.method not in READ_METHODS and request.content_type != "application/json":
        raise ApiError(
            415, "The admin API takes JSON bodies only (Content-Type: application/json)."
        )


async def check_api(request: web.Request) -> None:
    refuse_browser_context(request)
    admin = request.app.get(ADMIN)
    if admin is None:
        raise ApiError(404, "The settings API is not served by this process.")
    try:
        authorized = await is_authorized(request, admin)
    except LockedOut as locked:
        raise ApiError(429, str(locked)) from None
    if not authorized:
        raise ApiError(
            401,
            "Not signed in. Open Settings from the tray menu, or run `ccf settings`.",
        )
    require_json(request)


def admin_guarded(handler: Handler) -> Handler:
    """`handler`, an admin route, behind the checks above and with the page headers."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            if request.path.startswith(API_PREFIX):
                await check_api(request)
            response = await handler(request)
        except ApiError as exc:
            response = error_response(exc)
        except web.HTTPException as exc:
            response = web.Response(
                status=exc.status, reason=exc.reason, text=exc.text, headers=exc.headers
            )
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            response = error_response(ApiError(500, "Internal error; the details are in the log."))
        response.headers.update(PAGE_HEADERS)
        return response

    return guarded
