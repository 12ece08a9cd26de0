"""Shared fixtures: fake providers, an injectable clock, and the proxy on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, replace

import aiohttp
import pytest

from proxy.core.config import Config, Listen, Secret
from proxy.core.config_yaml import parse_config_text
from proxy.keys import ResolvedKeys
from proxy.runtime import Runtime
from proxy.server import RunningServer, start_server
from tests.fakes import FakesInThread, FakeUpstream


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.wall_now = 1_800_000_000.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.wall_now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall_now += seconds


@dataclass
class Proxy:
    runtime: Runtime
    server: RunningServer
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.server.url

    async def post(self, path: str = "/v1/messages", **kwargs: object) -> aiohttp.ClientResponse:
        return await self.session.post(self.url + path, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def upstreams() -> AsyncIterator[Callable[[str], Awaitable[FakeUpstream]]]:
    started: list[FakeUpstream] = []

    async def make(name: str) -> FakeUpstream:
        fake = await FakeUpstream(name).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        await fake.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def config_from_yaml(text: str, env: Mapping[str, str] | None = None) -> Config:
    config = parse_config_text(text, env or {})
    return replace(config, listen=Listen(host="127.0.0.1", port=0))


ProxyFactory = Callable[..., Awaitable[Proxy]]


@pytest.fixture
async def make_proxy(clock: FakeClock) -> AsyncIterator[ProxyFactory]:
    running: list[Proxy] = []

    async def make(config: Config | str, keys: Mapping[str, str] | None = None) -> Proxy:
        if isinstance(config, str):
            config = config_from_yaml(config)
        secrets = {name: Secret(value) for name, value in (keys or {}).items()}
        runtime = Runtime(config, ResolvedKeys(keys=secrets, problems={}), clock)
        server = await start_server(runtime, grace=0.5)
        session = aiohttp.ClientSession()
        proxy = Proxy(runtime, server, session)
        running.append(proxy)
        return proxy

    yield make
    for proxy in running:
        await proxy.session.close()
        await proxy.server.stop()


@pytest.fixture
def threaded_fakes() -> Iterator[FakesInThread]:
    fakes = FakesInThread()
    yield fakes
    fakes.close()
