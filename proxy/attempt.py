"""One attempt at one endpoint: send, classify, and for streams hold until commit, then relay."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from proxy.app_keys import SWEEPER
from proxy.core.body import usage_text
from proxy.core.classify import (
    STATUS_ERROR_TYPE,
    error_type_and_message,
    failure_from_exception,
    failure_from_sse_error,
    failure_from_status,
    is_invalid_thinking_signature,
)
from proxy.core.config import Endpoint
from proxy.core.errors import UpstreamError, UpstreamResetError, UpstreamTimeoutError
from proxy.core.health import Failure
from proxy.core.honest import answer_failure, blames_endpoint, stream_failure
from proxy.core.shaping import request_headers, response_headers, target_url
from proxy.core.sse import (
    AFTER_COMMIT,
    SseEvent,
    SseParser,
    error_body,
    error_frame,
    gate,
    is_event_stream,
    usage_of,
)
from proxy.core.thinking import seal_of_event, seals_of_answer
from proxy.runtime import Runtime
from proxy.upstream import (
    IdleBound,
    SweptDeadline,
    UpstreamErrors,
    open_response,
    read_all,
    read_chunk,
)
from proxy.wire import Incoming, Payload, StreamTranslator, Wire, request_data, wire_for

log = logging.getLogger("ccf.proxy")
JSON = "application/json"
Shaped = tuple[str, str, list[tuple[str, str]], bytes]


# Made for every request, so not frozen: a frozen dataclass takes 2.5× as long to create.
@dataclass(slots=True)
class Buffered:
    """A whole upstream answer, not yet sent to the client."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(slots=True)
class Answered:
    """The client's answer: `buffered` not yet sent, or a stream already relayed."""

    response: web.StreamResponse
    status: int
    buffered: Buffered | None = None
    usage: Mapping[str, object] | bytes = b""  # as reported, or its text: see count_tokens


@dataclass(slots=True)
class FellThrough:
    failure: Failure
    answer: Buffered | None = None


Outcome = Answered | FellThrough


@dataclass(slots=True)
class Trail:
    """The path a request took, for `x-ccf-attempts` and the activity view."""

    steps: list[str] = field(default_factory=list)
    mapped_model: str | None = None

    def add(self, endpoint: str, result: str) -> None:
        self.steps.append(f"{endpoint}={result}")

    def __str__(self) -> str:
        return ", ".join(self.steps)


def ccf_headers(endpoint: str, trail: Trail) -> list[tuple[str, str]]:
    return [("x-ccf-endpoint", endpoint), ("x-ccf-attempts", str(trail))]


def buffered_response(answer: Buffered, endpoint: str, trail: Trail) -> web.Response:
    headers = [*answer.headers, *ccf_headers(endpoint, trail)]
    return web.Response(status=answer.status, body=answer.body, headers=headers)


def answered(answer: Buffered, endpoint: str, trail: Trail, usage: bytes = b"") -> Answered:
    response = buffered_response(answer, endpoint, trail)
    return Answered(response, answer.status, answer, usage)


class Attempt:
    """Everything needed to try one endpoint for one request."""

    __slots__ = ("config", "incoming", "request", "runtime", "session", "sweeper", "trail")

    def __init__(
        self,
        runtime: Runtime,
        session: aiohttp.ClientSession,
        request: web.Request,
        incoming: Incoming,
        trail: Trail,
    ) -> None:
        self.runtime = runtime
        self.session = session
        self.request = request
        self.incoming = incoming
        self.trail = trail
        self.config = runtime.config
        self.sweeper = request.app[SWEEPER]

    async def run(self, endpoint: Endpoint) -> Outcome:
        data, mapped = request_data(self.incoming, endpoint, self.runtime.provenance)
        outcome = await self._try(endpoint, data, mapped)
        if not self._wants_thinking_retry(outcome):
            return outcome
        stripped, _ = request_data(self.incoming, endpoint, None)
        if stripped is None:
            return outcome
        log.info("%s rejected a thinking signature; retrying without thinking", endpoint.name)
        return await self._try(endpoint, stripped, mapped)

    @staticmethod
    def _wants_thinking_retry(outcome: Outcome) -> bool:
        if not isinstance(outcome, Answered) or outcome.buffered is None:
            return False
        return is_invalid_thinking_signature(outcome.status, outcome.buffered.body)

    async def _try(self, endpoint: Endpoint, data: Payload, mapped: str | None) -> Outcome:
        key = self.runtime.keys.keys.get(endpoint.name)
        if endpoint.needs_key and key is None:
            problem = self.runtime.keys.problems.get(endpoint.name, "no key")
            self.trail.add(endpoint.name, "no-key")
            return FellThrough(Failure(reason="no_key", message=problem))
        wire = wire_for(endpoint)
        self.trail.mapped_model = mapped
        shaped: Shaped = (
            self.incoming.method,
            target_url(endpoint, self.incoming.path, self.incoming.query),
            request_headers(self.incoming.headers, endpoint, key),
            wire.body(self.incoming, data),
        )
        started = self.runtime.clock.monotonic()
        try:
            outcome = await self._exchange(endpoint, wire, shaped, started)
        except UpstreamError as exc:
            self.trail.add(endpoint.name, exc.kind)
            outcome = FellThrough(failure_from_exception(exc.kind, str(exc)))
        self._record_health(endpoint, outcome, started)
        return outcome

    def _record_health(self, endpoint: Endpoint, outcome: Outcome, started: float) -> None:
        if not self.incoming.changes_health:
            return
        if isinstance(outcome, FellThrough):
            if blames_endpoint(outcome.failure):
                self.runtime.record_failure(endpoint.name, outcome.failure, started)
        elif 200 <= outcome.status < 300 and outcome.buffered is not None:
            self.runtime.record_success(endpoint.name, started)

    async def _exchange(
        self, endpoint: Endpoint, wire: Wire, shaped: Shaped, started: float
    ) -> Outcome:
        timeouts = self.config.timeouts
        try:
            within = timeouts.headers_within(self.incoming.streamed)
            with SweptDeadline(within, self.sweeper):
                response = await open_response(
                    self.session, endpoint.name, shaped, timeouts.connect
                )
        except TimeoutError:
            message = f"{endpoint.name}: no response within {within:g} s"
            raise UpstreamTimeoutError(message, phase="first_byte") from None
        elapsed = self.runtime.clock.monotonic() - started
        self.runtime.metrics.observe_latency(endpoint.name, elapsed)
        if self.incoming.changes_health:
            self.runtime.note_rate_limits(endpoint.name, response.headers, started)
        async with response:
            if not 200 <= response.status < 300:
                return await self._answer_error(endpoint, wire, response)
            if is_event_stream(response.headers.get("Content-Type", "")):
                return await self._stream(endpoint, wire, response, started)
            return await self._answer_whole(endpoint, wire, response)

    async def _answer_error(
        self, endpoint: Endpoint, wire: Wire, response: aiohttp.ClientResponse
    ) -> Outcome:
        status = response.status
        raw = await read_all(response, endpoint.name, self.config.timeouts.idle, self.sweeper.loop)
        body = wire.error_body(status, raw)
        answer = Buffered(status, response_headers(response.headers.items()), body)
        self.trail.add(endpoint.name, str(status))
        if self.config.failover.fails_over_on(status):
            _, detail = error_type_and_message(body)
            failure = failure_from_status(
                status, response.headers.get("retry-after"), self.runtime.clock.wall(), detail
            )
            return FellThrough(failure, answer)
        return answered(answer, endpoint.name, self.trail)

    async def _answer_whole(
        self, endpoint: Endpoint, wire: Wire, response: aiohttp.ClientResponse
    ) -> Outcome:
        body = await read_all(response, endpoint.name, self.config.timeouts.idle, self.sweeper.loop)
        body = wire.success_body(body, self.incoming.model or "")
        content_type = response.headers.get("Content-Type", "")
        if wrong := answer_failure(self.incoming.path, content_type, body):
            self.trail.add(endpoint.name, f"{response.status}(not-a-message)")
            return FellThrough(wrong)
        self.trail.add(endpoint.name, str(response.status))
        if self._is_foreign(endpoint):
            self.runtime.signatures.record(endpoint.signer, seals_of_answer(body))
        answer = Buffered(response.status, response_headers(response.headers.items()), body)
        return answered(answer, endpoint.name, self.trail, usage_text(body))

    def _is_foreign(self, endpoint: Endpoint) -> bool:
        """Whether the signatures `endpoint` makes are to be written in the book."""
        return self.incoming.changes_health and endpoint.signer != self.runtime.provenance.primary

    async def _stream(
        self, endpoint: Endpoint, wire: Wire, response: aiohttp.ClientResponse, started: float
    ) -> Outcome:
        translator = wire.translator(self.incoming.model or "")
        relay = StreamRelay(endpoint.name, response, translator, self.sweeper.loop)
        relay.seals = [] if self._is_foreign(endpoint) else None
        timeouts = self.config.timeouts
        within = timeouts.commit_within(streamed=True)
        left = started + (within or 0.0) - self.runtime.clock.monotonic()
        bound = nullcontext() if within is None else SweptDeadline(max(left, 0.0), self.sweeper)
        try:
            with bound:
                failure = await relay.hold(timeouts.idle)
        except TimeoutError:
            message = f"{endpoint.name}: no content within {within:g} s"
            raise UpstreamTimeoutError(message, phase="first_byte") from None
        if failure is not None:
            self.trail.add(endpoint.name, f"sse-{failure.status}")
            body = error_body_bytes(failure)
            answer = Buffered(failure.status or 502, [("content-type", JSON)], body)
            return FellThrough(failure, answer)
        if wrong := stream_failure(self.incoming.path, relay.started):
            self.trail.add(endpoint.name, f"{response.status}(not-a-message)")
            return FellThrough(wrong)
        self.trail.add(endpoint.name, str(response.status))
        out = web.StreamResponse(status=response.status)
        upstream = response_headers(response.headers.items())
        for name, value in [*upstream, *ccf_headers(endpoint.name, self.trail)]:
            out.headers.add(name, value)
        if self.incoming.changes_health:
            self.runtime.record_success(endpoint.name, started)
        await relay.commit(self.request, out, timeouts.idle)
        if relay.seals is not None:
            self.runtime.signatures.record(endpoint.signer, relay.seals)
        return Answered(out, response.status, usage=relay.usage)


def error_body_bytes(failure: Failure) -> bytes:
    kind = STATUS_ERROR_TYPE.get(failure.status or 0, "api_error")
    return json.dumps(error_body(kind, failure.message)).encode()


class StreamRelay:
    """Holds a stream until its first content block, then relays it byte for byte."""

    __slots__ = (
        "endpoint", "error_event", "finished", "held", "loop", "parser", "response", "seals",
        "started", "translator", "usage",
    )  # fmt: skip

    def __init__(
        self,
        endpoint: str,
        response: aiohttp.ClientResponse,
        translator: StreamTranslator | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.endpoint = endpoint
        self.loop = loop
        self.response = response
        self.translator = translator
        self.parser = SseParser()
        self.held: list[bytes] = []  # until commit; after it, the parser holds back only
        # the start of an event not yet whole, so an error frame never lands inside one
        self.usage: dict[str, int] = {}
        self.finished = False
        self.error_event: SseEvent | None = None
        self.seals: list[str] | None = None  # thinking signatures, when they are collected
        self.started = False  # a message_start was seen

    def _translate(self, chunk: bytes) -> bytes:
        return self.translator.feed(chunk) if self.translator else chunk

    def _observe(self, data: bytes) -> str:
        """Parse held bytes; return the strongest gate verdict seen."""
        return self._note(self.parser.feed(data))

    def _note(self, events: list[SseEvent]) -> str:
        """Take in the usage and end of `events`; return the strongest gate verdict seen."""
        verdict = "hold"
        for event in events:
            self.usage.update(usage_of(event))
            if self.seals is not None and (found := seal_of_event(event.event, event.data)):
                self.seals.append(found)
            if event.event == "message_stop":
                self.finished = True
            elif event.event == "message_start":
                self.started = True
            state = gate(event)
            if state == "error":
                self.error_event = event
                return "error"
            if state == "commit":
                verdict = "commit"
        return verdict

    async def hold(self, idle: float) -> Failure | None:
        """Read until commit; a failure if the stream errs or ends before that."""
        async with IdleBound(self.endpoint, idle, self.loop) as watch:
            while True:
                chunk = await read_chunk(self.response, self.endpoint)
                watch.touch()
                data = self._translate(chunk) if chunk else self._finish()
                if data:
                    self.held.append(data)
                    verdict = self._observe(data)
                    if verdict == "error" and self.error_event is not None:
                        return failure_from_sse_error(self.error_event.data)
                    if verdict == "commit":
                        return None
                if not chunk:
                    raise UpstreamResetError(f"{self.endpoint}: stream ended before any content")

    def _finish(self) -> bytes:
        return self.translator.finish() if self.translator else b""

    async def _relay(self, out: web.StreamResponse, idle: float) -> None:
        # Runs for every event, so with its lookups hoisted and no helper coroutines.
        content, reading = self.response.content, UpstreamErrors(self.endpoint, "data")
        translate = self.translator.feed if self.translator else None
        frame = self.parser.frame
        async with IdleBound(self.endpoint, idle, self.loop) as watch:
            while True:
                try:  # not `with reading`: a `try` costs nothing until something is raised
                    chunk = await content.readany()
                except Exception as exc:
                    reading.raise_translated(exc)
                    raise
                if not chunk:
                    break
                watch.touch()
                whole, events = frame(translate(chunk) if translate else chunk, AFTER_COMMIT)
                if events:
                    self._note(events)
                if whole:
                    await out.write(whole)

    async def commit(self, request: web.Request, out: web.StreamResponse, idle: float) -> None:
        await out.prepare(request)
        held = b"".join(self.held)  # parsed already: the parser holds back its unfinished end
        self.held.clear()
        await out.write(held[: len(held) - len(self.parser.pending)])
        try:
            # In a task of its own: resuming after each read then wakes the three coroutines
            # of the relay, not the dozen of the whole request handler above it.
            await self.loop.create_task(self._relay(out, idle))
            whole, events = self.parser.frame(self._finish())
            self._note(events)
            await out.write(whole)
            if not self.finished:
                raise UpstreamResetError(f"{self.endpoint}: stream ended without message_stop")
            await out.write(self.parser.pending)
        except UpstreamError as exc:
            log.warning("committed stream from %s broke: %s", self.endpoint, exc)
            await out.write(error_frame("api_error", f"upstream {exc}; the response is incomplete"))
        await out.write_eof()
