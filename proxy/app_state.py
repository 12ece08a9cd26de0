"""The state the aiohttp application holds for its handlers, as typed keys."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from proxy.runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)
SESSION = web.AppKey("session", aiohttp.ClientSession)
