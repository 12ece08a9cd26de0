"""One attempt at one endpoint: the I/O that drives `proxy.core.attempt.AttemptMachine`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from proxy.answers import answer_response, ccf_headers
from proxy.core import attempt_events as ev
from proxy.core.attempt import AttemptMachine, Trail
from proxy.core.config import Endpoint
from proxy.core.health import Failure
from proxy.formats import Payload, format_for, request_data, shaped_request
from proxy.incoming import Incoming
from proxy.ledger.install import USAGE
from proxy.runtime import Runtime
from proxy.upstream import next_event, send

log = logging.getLogger("ccf.proxy")


@dataclass(frozen=True, slots=True)
class Answered:
    response: web.StreamResponse  # sent already if it was committed; else to return


Result = Answered | ev.FailOver | ev.RetryWithoutThinking | None  # None: the attempt goes on


class Attempt:
    """Try one endpoint for one request: send it, then carry out what the machine says."""

    def __init__(self, runtime: Runtime, session: aiohttp.ClientSession, request: web.Request,
                 incoming: Incoming, trail: Trail) -> None:  # fmt: skip
        self.runtime, self.session, self.request = runtime, session, request
        self.incoming, self.trail = incoming, trail
        self.out: web.StreamResponse | None = None
        self.started = 0.0
        self.provenance = runtime.provenance  # the config's, for the whole request
        self.signer = ""  # the endpoint tried now: who made the signatures it answers

    async def run(self, endpoint: Endpoint) -> Answered | ev.FailOver:
        if endpoint.needs_key and endpoint.name not in self.runtime.keys.keys:
            self.trail.steps.append(f"{endpoint.name}=no-key")
            problem = self.runtime.keys.problems.get(endpoint.name, "no key")
            return ev.FailOver(Failure(reason="no_key", message=problem), None)
        data, self.trail.mapped_model = request_data(self.incoming, endpoint, self.provenance)
        result = await self._try(endpoint, data, True)
        if isinstance(result, ev.RetryWithoutThinking):
            stripped, _ = request_data(self.incoming, endpoint, None)
            if stripped is not None:
                log.info("%s refused a thinking signature; retrying without it", endpoint.name)
                result = await self._try(endpoint, stripped, False)
        if isinstance(result, ev.RetryWithoutThinking):  # nothing to strip: the 400 it is
            redactor = self.runtime.redactor
            return Answered(answer_response(result.answer, endpoint.name, self.trail, redactor))
        assert result is not None
        return result

    async def _try(self, endpoint: Endpoint, data: Payload, retry: bool) -> Result:
        config, incoming, loop = self.runtime.config, self.incoming, asyncio.get_running_loop()
        foreign = incoming.changes_health and endpoint.signer != self.provenance.primary
        machine = AttemptMachine(ev.AttemptSpec(
            endpoint.name, config.failover, config.timeouts, format_for(endpoint), loop.time(),
            incoming.model or "", incoming.changes_health, endpoint.auth == "client", retry,
            incoming.path, incoming.streamed, foreign,
        ))  # fmt: skip
        self.signer = endpoint.signer
        shaped = shaped_request(incoming, endpoint, self.runtime.keys.keys.get(endpoint.name), data)
        self.started = self.runtime.clock.monotonic()
        wait = machine.wait(loop.time())
        sent = await send(self.session, endpoint.name, shaped, config.timeouts.connect, wait)
        if not isinstance(sent, aiohttp.ClientResponse):
            return await self._carry_out(machine.handle(sent), endpoint.name)
        clock = self.runtime.clock
        self.runtime.metrics.observe_latency(endpoint.name, clock.monotonic() - self.started)
        async with sent:
            head = ev.ResponseStarted(sent.status, list(sent.headers.items()), clock.wall())
            result = await self._carry_out(machine.handle(head), endpoint.name)
            while result is None:
                try:
                    event = await next_event(sent, endpoint.name, machine.wait(loop.time()))
                except asyncio.CancelledError:
                    for command in machine.handle(ev.ClientGone()):
                        self._book(command, endpoint.name)
                    raise
                result = await self._carry_out(machine.handle(event), endpoint.name)
        return result

    async def _carry_out(self, commands: list[ev.Command], endpoint: str) -> Result:
        try:
            for command in commands:
                if (result := await self._do(command, endpoint)) is not None:
                    return result
        except ConnectionResetError:  # the client went away while we wrote to it
            return Answered(self._committed())
        return None

    async def _do(self, command: ev.Command, endpoint: str) -> Result:
        match command:
            case ev.Send(data):
                await self._committed().write(data)
            case ev.Note(result):
                self.trail.steps.append(f"{endpoint}={result}")
            case ev.Commit(status, headers):
                self.out = web.StreamResponse(status=status, headers=headers)
                self.out.headers.update(ccf_headers(endpoint, self.trail))
                await self.out.prepare(self.request)
                self.trail.committed = (endpoint, self.runtime.clock.monotonic())
            case ev.Finish():
                await self._committed().write_eof()
                return Answered(self._committed())
            case ev.Abort(message):
                log.warning("the answer from %s broke: %s", endpoint, message)
                assert self.request.transport is not None
                self.request.transport.abort()  # so the client sees the answer cut short
                return Answered(self._committed())
            case ev.Respond(answer):
                return Answered(
                    answer_response(answer, endpoint, self.trail, self.runtime.redactor)
                )
            case ev.FailOver() | ev.RetryWithoutThinking():
                return command
            case _:
                self._book(command, endpoint)
        return None

    def _book(self, command: ev.Command, endpoint: str) -> None:
        """Carry out a command that only records: health, tokens, limits, signatures."""
        match command:
            case ev.MarkHealthy():
                self.runtime.record_success(endpoint, self.started)
            case ev.MarkFailed(failure):
                self.runtime.record_failure(endpoint, failure, self.started)
            case ev.CountTokens(counts):
                self.runtime.metrics.count_tokens(endpoint, counts)
                self.request[USAGE] = counts  # for the usage ledger
            case ev.RateLimits(usage):
                self.runtime.ratelimits[endpoint] = usage
            case ev.Seals(seals):
                self.runtime.signatures.record(self.signer, seals)

    def _committed(self) -> web.StreamResponse:
        assert self.out is not None, "the machine sends only after it commits"
        return self.out
