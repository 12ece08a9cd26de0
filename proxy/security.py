"""Who may use the proxy: loopback Host (DNS-rebinding guard), no browsers, optional token."""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from proxy.core.config import LOOPBACK_NAMES, Config
from proxy.core.sse import error_body
from proxy.dispatch import TARGET

ConfigGetter = Callable[[], Config]


def refuse(status: int, kind: str, message: str) -> web.Response:
    return web.json_response(error_body(kind, message), status=status)


def host_allowed(host: str, port: int) -> bool:
    return host.lower() in loopback_hosts(port)


@functools.lru_cache(maxsize=8)
def loopback_hosts(port: int) -> frozenset[str]:
    """Every `Host` value that names this machine's loopback and `port`."""
    return frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES)


def local_port(request: web.Request) -> int:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return int(sockname[1]) if sockname else 0


def check(request: web.Request, config: Config) -> web.Response | None:
    """A refusal for a request that must not pass, else None.

    The settings page and admin API (`/_ccf/`) are for this machine only: loopback `Host`
    always, and their own admin token instead of `x-ccf-token`. What the request is comes
    from `proxy.dispatch`, the decision the router made too.
    """
    kind = request[TARGET].kind
    admin = kind == "admin"
    if admin and not from_this_machine(request.remote):
        return refuse(403, "permission_error", "The settings page answers this computer only.")
    token = None if admin else config.security.access_token
    if token is not None:
        given = request.headers.get("x-ccf-token", "")
        if not hmac.compare_digest(given.encode(), token.value.encode()):
            return refuse(401, "authentication_error", "Missing or wrong x-ccf-token header.")
    elif not host_allowed(request.headers.get("Host", ""), local_port(request)):
        message = "Host must be localhost or 127.0.0.1 with the proxy's port."
        return refuse(403, "permission_error", message)
    if kind == "proxied" and from_a_web_page(request):
        return refuse(403, "permission_error", "Requests from web pages are refused.")
    return None


def from_this_machine(peer: str | None) -> bool:
    """Whether the peer address is loopback (an IPv4-mapped IPv6 loopback too). `Host` can
    be forged from the LAN; the address the connection came from cannot."""
    try:
        address = ipaddress.ip_address((peer or "").partition("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def from_a_web_page(request: web.Request) -> bool:
    """Browsers mark what pages send (an Origin, or Sec-Fetch-Site other than "none", which
    a typed address gets); Claude Code's clients send neither. Same-site counts too: a page
    on another port of 127.0.0.1 is same-site with the proxy."""
    site = request.headers.get("Sec-Fetch-Site", "none").lower()
    return "Origin" in request.headers or site != "none"


def guarding(config_of: ConfigGetter) -> Callable[[Handler], Handler]:
    """Wraps each route's handler in `check` (a wrapper per route, not a middleware: aiohttp
    runs no middleware code at all for an app without any, a few µs per proxied request)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            refusal = check(request, config_of())
            return refusal if refusal is not None else await handler(request)

        return guarded

    return wrap
