"""The app's one resource: a request is classified once, then resolved among its kind's routes.

`proxy.core.paths.classify` reads the raw request target and says what the request is;
the guard (`proxy.security`) reads the same answer from `request[TARGET]`. Refused targets
get a 400 before anything else; local paths resolve among the local routes only (another
method is a 405), admin paths among the admin routes only (a miss is their 404), and only
what is neither reaches the proxied handler. No spelling of a path can land on a route of
another kind, because the kind is never decided twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler
from yarl import URL

from proxy.core.paths import Target, classify
from proxy.core.sse import error_body

if TYPE_CHECKING:
    from aiohttp.web_urldispatcher import _InfoDict  # the abstract method's return type

TARGET = web.RequestKey("target", Target)
Resolved = tuple[web.UrlMappingMatchInfo | None, set[str]]


async def refuse_target(request: web.Request) -> web.Response:
    problem = request[TARGET].problem
    message = f"Refused: {problem}. Send the path in its plain form."
    return web.json_response(error_body("invalid_request_error", message), status=400)


class ByKind(web.AbstractResource):
    """Matches every request; hands it to the routes of its kind."""

    def __init__(self, local: web.UrlDispatcher, admin: web.UrlDispatcher, proxied: Handler):
        super().__init__()
        self.local = local
        self.admin = admin
        self.proxied = web.ResourceRoute("*", proxied, self)
        self.refused = web.ResourceRoute("*", refuse_target, self)

    async def resolve(self, request: web.Request) -> Resolved:
        target = classify(request.raw_path)
        request[TARGET] = target
        if target.kind == "local":
            return await self.local.resolve(request), set()
        if target.kind == "admin":
            return await self.admin.resolve(request), set()
        route = self.proxied if target.kind == "proxied" else self.refused
        return web.UrlMappingMatchInfo({}, route), set()

    @property
    def canonical(self) -> str:
        return "/"

    def url_for(self, **kwargs: str) -> URL:
        return URL.build(path="/")

    def add_prefix(self, prefix: str) -> None:
        raise RuntimeError("the proxy's routes cannot move under a prefix")

    def get_info(self) -> _InfoDict:
        return {"path": "/"}

    def raw_match(self, path: str) -> bool:
        return False

    def freeze(self) -> None:
        self.local.freeze()
        self.admin.freeze()

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __iter__(self) -> Iterator[web.AbstractRoute]:
        """Every route a request can reach through the guard (the 400 is not one)."""
        yield from self.local.routes()
        yield from self.admin.routes()
        yield self.proxied
