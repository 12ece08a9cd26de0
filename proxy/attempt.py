"""One attempt at one endpoint: the I/O that drives `proxy.core.attempt.AttemptMachine`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from proxy.core import attempt as core
from proxy.core.body import strip_thinking
from proxy.core.config import Endpoint
from proxy.core.errors import UpstreamError
from proxy.core.health import Failure
from proxy.core.shaping import request_headers, target_url
from proxy.formats import format_for, request_data
from proxy.incoming import Incoming
from proxy.runtime import Runtime
from proxy.upstream import open_response, translate

log = logging.getLogger("ccf.proxy")


@dataclass(slots=True)
class Trail:
    """The path a request took, for `x-ccf-attempts` and the activity view."""

    steps: list[str] = field(default_factory=list)
    mapped_model: str | None = None

    def add(self, endpoint: str, result: str) -> None:
        self.steps.append(f"{endpoint}={result}")

    def __str__(self) -> str:
        return ", ".join(self.steps)


@dataclass(frozen=True, slots=True)
class Answered:
    response: web.StreamResponse  # sent already if it was streamed; else to return
    status: int


@dataclass(frozen=True, slots=True)
class FellThrough:
    failure: Failure
    answer: core.Answer | None = None  # the endpoint's error answer, if it gave one


Outcome = Answered | FellThrough
Result = Outcome | core.RetryWithoutThinking | None  # None: the attempt goes on


def ccf_headers(endpoint: str, trail: Trail) -> list[tuple[str, str]]:
    return [("x-ccf-endpoint", endpoint), ("x-ccf-attempts", str(trail))]


def answer_response(answer: core.Answer, endpoint: str, trail: Trail) -> web.Response:
    headers = [*answer.headers, *ccf_headers(endpoint, trail)]
    return web.Response(status=answer.status, body=answer.body, headers=headers)


class Attempt:
    """Try one endpoint for one request: shape it, send it, carry out the machine's commands."""

    def __init__(self, runtime: Runtime, session: aiohttp.ClientSession, request: web.Request,
                 incoming: Incoming, trail: Trail) -> None:  # fmt: skip
        self.runtime, self.session, self.request = runtime, session, request
        self.incoming, self.trail = incoming, trail
        self.out: web.StreamResponse | None = None
        self.started = 0.0

    async def run(self, endpoint: Endpoint) -> Outcome:
        key = self.runtime.keys.keys.get(endpoint.name)
        if endpoint.needs_key and key is None:
            self.trail.add(endpoint.name, "no-key")
            problem = self.runtime.keys.problems.get(endpoint.name, "no key")
            return FellThrough(Failure(reason="no_key", message=problem))
        data, self.trail.mapped_model = request_data(self.incoming, endpoint)
        shaped = format_for(endpoint).body(self.incoming, data)
        result = await self._try(endpoint, shaped, True)
        sent = data if data is not None else self.incoming.data
        if isinstance(result, core.RetryWithoutThinking) and sent is not None:
            log.info("%s refused a thinking signature; retrying without thinking", endpoint.name)
            result = await self._try(endpoint, format_for(endpoint).body(
                self.incoming, strip_thinking(sent)), False)  # fmt: skip
        if isinstance(result, core.RetryWithoutThinking):
            return Answered(answer_response(result.answer, endpoint.name, self.trail), 400)
        assert result is not None
        return result

    def _machine(self, endpoint: Endpoint, may_retry: bool) -> core.AttemptMachine:
        config, incoming = self.runtime.config, self.incoming
        return core.AttemptMachine(core.AttemptSpec(
            endpoint.name, config.failover, config.timeouts, format_for(endpoint),
            asyncio.get_running_loop().time(), incoming.model or "", incoming.changes_health,
            client_credentials=endpoint.auth == "client", may_retry_thinking=may_retry,
        ))  # fmt: skip

    async def _try(self, endpoint: Endpoint, body: bytes, may_retry: bool) -> Result:
        machine, key = self._machine(endpoint, may_retry), self.runtime.keys.keys.get(endpoint.name)
        headers = request_headers(self.incoming.headers, endpoint, key)
        url = target_url(endpoint, self.incoming.path, self.incoming.query)
        self.started = self.runtime.clock.monotonic()
        timeouts = self.runtime.config.timeouts
        event: core.Event
        try:
            async with asyncio.timeout(machine.wait(machine.spec.started).seconds):
                response = await open_response(self.session, endpoint.name,
                    (self.incoming.method, url, headers, body), timeouts.connect)  # fmt: skip
        except TimeoutError:
            event = core.TimedOut("first_byte")
        except UpstreamError as exc:
            event = core.UpstreamFailed(exc.kind, str(exc))
        else:
            elapsed = self.runtime.clock.monotonic() - self.started
            self.runtime.metrics.observe_latency(endpoint.name, elapsed)
            async with response:
                return await self._drive(machine, endpoint, response)
        return await self._carry_out(machine.handle(event), endpoint)

    async def _drive(self, machine: core.AttemptMachine, endpoint: Endpoint,
                     response: aiohttp.ClientResponse) -> Result:  # fmt: skip
        headers = list(response.headers.items())
        started = core.ResponseStarted(response.status, headers, self.runtime.clock.wall())
        result = await self._carry_out(machine.handle(started), endpoint)
        loop, content = asyncio.get_running_loop(), response.content
        while result is None:
            wait = machine.wait(loop.time())
            event: core.Event
            try:
                async with asyncio.timeout(wait.seconds):
                    chunk = await content.readany()
                event = core.BodyChunk(chunk) if chunk else core.BodyEnded()
            except TimeoutError:
                event = core.TimedOut(wait.phase)
            except (aiohttp.ClientError, OSError) as exc:
                failed = translate(exc, endpoint.name, "data")
                event = core.UpstreamFailed(failed.kind if failed else "reset", str(failed or exc))
            except asyncio.CancelledError:
                machine.handle(core.ClientGone())
                raise
            result = await self._carry_out(machine.handle(event), endpoint)
        return result

    async def _carry_out(self, commands: list[core.Command], endpoint: Endpoint) -> Result:
        try:
            for command in commands:
                result = await self._do(command, endpoint)
                if result is not None:
                    return result
        except ConnectionResetError:  # the client went away while we wrote to it
            assert self.out is not None
            return Answered(self.out, self.out.status)
        return None

    async def _do(self, command: core.Command, endpoint: Endpoint) -> Result:
        match command:
            case core.Send(data):
                assert self.out is not None
                await self.out.write(data)
            case core.Note(result):
                self.trail.add(endpoint.name, result)
            case core.Commit(status, headers):
                self.out = web.StreamResponse(status=status)
                self.out.headers.extend([*headers, *ccf_headers(endpoint.name, self.trail)])
                await self.out.prepare(self.request)
            case core.Finish() | core.Abort():
                assert self.out is not None
                if isinstance(command, core.Abort):
                    log.warning("answer from %s broke: %s", endpoint.name, command.message)
                    assert self.request.transport is not None
                    self.request.transport.abort()  # the client sees the answer cut short
                else:
                    await self.out.write_eof()
                return Answered(self.out, self.out.status)
            case core.Respond(answer):
                return Answered(answer_response(answer, endpoint.name, self.trail), answer.status)
            case core.FailOver(failure, answer):
                return FellThrough(failure, answer)
            case core.RetryWithoutThinking():
                return command
            case core.MarkHealthy():
                self.runtime.record_success(endpoint.name, self.started)
            case core.MarkFailed(failure):
                self.runtime.record_failure(endpoint.name, failure, self.started)
            case core.CountTokens(counts):
                self.runtime.metrics.count_tokens(endpoint.name, counts)
        return None
