"""What the aiohttp application holds for its handlers."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from proxy.runtime import Runtime
from proxy.upstream import Sweeper

RUNTIME = web.AppKey("runtime", Runtime)
SESSION = web.AppKey("session", aiohttp.ClientSession)
SWEEPER = web.AppKey("sweeper", Sweeper)  # holds the loop too: each lookup costs a getpid()
