"""What the aiohttp application holds for its handlers."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from proxy.runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)
SESSION = web.AppKey("session", aiohttp.ClientSession)
LOOP = web.AppKey("loop", asyncio.AbstractEventLoop)  # kept: each lookup costs a getpid()
