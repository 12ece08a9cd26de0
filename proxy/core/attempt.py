"""One attempt at one endpoint, as a sans-io state machine: events in, commands out.

The shell (`proxy.attempt`) sends the request, then feeds what happens to `AttemptMachine.
handle` and carries out the commands it returns; before each wait it asks `wait` how long
it may take. Every failover rule of one attempt (DESIGN §3) is decided here:

- a status in `failover.on_status`, a connection error, a reset or a timeout fails over;
  other statuses go back to the client unchanged;
- a 400 that says a thinking signature is invalid asks for one retry without thinking;
- a stream is held until its first `content_block_start` (or `message_stop`); an error
  before that fails over; after it the stream is committed and relayed as it comes, and a
  break ends it with a well-formed `event: error` frame;
- health is recorded for `/v1/messages` only, never for a client's own credentials (401/403
  with `auth: client`), a fault of the request itself (400/413/422) nor for a client that
  went away;
- a 2xx that is not what was asked for (not a message) fails over (`proxy.core.honest`);
- rate-limit headers that say the limit is used up cool the endpoint down at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from proxy.core.attempt_events import (
    Abort,
    Answer,
    AttemptSpec,
    BodyChunk,
    BodyEnded,
    ClientGone,
    Command,
    Commit,
    CountTokens,
    Event,
    FailOver,
    Finish,
    MarkFailed,
    MarkHealthy,
    Note,
    RateLimits,
    Respond,
    ResponseStarted,
    RetryWithoutThinking,
    Seals,
    Send,
    StreamTranslator,
    TimedOut,
    UpstreamFailed,
    Wait,
)
from proxy.core.body import find_usage
from proxy.core.classify import (
    STATUS_ERROR_TYPE,
    error_type_and_message,
    failure_from_sse_error,
    failure_from_status,
    is_invalid_thinking_signature,
)
from proxy.core.health import Failure
from proxy.core.honest import (
    answer_failure,
    blames_endpoint,
    content_type_failure,
    stream_failure,
)
from proxy.core.ratelimit import MARKERS, anthropic_headers, failure_from_headers, unified_usage
from proxy.core.shaping import Headers, response_headers
from proxy.core.sse import AFTER_COMMIT, SseEvent, SseParser, error_body, error_frame, gate
from proxy.core.sse import is_event_stream as _is_event_stream
from proxy.core.thinking import seal_of_event, seals_of_answer

MiB = 1024 * 1024
ERROR_BODY_CAP = MiB  # an error body is read this far to classify it; the rest dropped
HOLD_CAP = MiB  # a larger success answer is relayed as it arrives instead of whole
TRANSLATE_CAP = 64 * MiB  # a translated answer must be whole: larger ones fail over
USAGE_TAIL = 64 * 1024  # a relayed answer's `usage` is looked for in its last bytes
JSON: Headers = [("content-type", "application/json")]


@dataclass(slots=True)
class Trail:
    """The path a request took, for `x-ccf-attempts` and the activity view."""

    steps: list[str] = field(default_factory=list)
    mapped_model: str | None = None
    committed: tuple[str, float] | None = None  # the endpoint whose answer began to go out
    # to the client, and when (monotonic seconds): set at commit (a stream, or an answer too
    # large to hold whole)

    def __str__(self) -> str:
        return ", ".join(self.steps)


@dataclass(frozen=True, slots=True)
class Finished:
    """How a proxied request ended, for the books: metrics, activity, log, usage ledger."""

    trail: Trail
    endpoint: str | None  # the one that answered
    status: int
    started: float  # monotonic seconds
    ended: float

    @property
    def latency_ms(self) -> float:
        return (self.ended - self.started) * 1000


State = Literal["headers", "error", "answer", "stream", "relaying", "streaming", "done"]


class AttemptMachine:
    """The attempt from sending to its end; see the module docstring for the rules."""

    def __init__(self, spec: AttemptSpec) -> None:
        self.spec = spec
        self.state: State = "headers"
        self.status = 0
        self.headers: Headers = []
        self.wall_now = 0.0
        self.held = bytearray()
        self.parser = SseParser()
        self.translator: StreamTranslator | None = None
        self.usage: dict[str, int] = {}
        self.finished = False  # a `message_stop` was seen
        self.message_started = False  # a `message_start` was seen
        self.seals: list[str] = []  # thinking signatures, when `spec.collect_seals`

    @property
    def done(self) -> bool:
        return self.state == "done"

    @property
    def committed(self) -> bool:
        return self.state in ("relaying", "streaming")

    def wait(self, now: float) -> Wait:
        """How long the shell may wait for the next event, and what the wait is for."""
        within = self._first_byte_within()
        if within is not None:
            left = max(self.spec.started + within - now, 0.0)
            if self.state == "headers" or left <= self.spec.timeouts.idle:
                return Wait(left, "first_byte")
        return Wait(self.spec.timeouts.idle, "idle")

    def _first_byte_within(self) -> float | None:
        """The bound from sending on the present wait (None: only `idle` bounds it)."""
        if self.state == "headers":
            return self.spec.timeouts.headers_within(self.spec.streamed)
        if self.state == "stream":
            return self.spec.timeouts.commit_within(streamed=True)
        return None

    def handle(self, event: Event) -> list[Command]:
        if self.state == "done":
            return []
        if isinstance(event, BodyChunk):  # the usual event
            return self._chunk(event.data)
        return self._other(event)

    def _other(self, event: Event) -> list[Command]:
        if isinstance(event, ClientGone):  # never counts against the endpoint
            counted = self._count(self.usage) if self.state == "streaming" else []
            self.state = "done"
            return counted  # the tokens a stream had used when its client left are billed
        if isinstance(event, ResponseStarted):
            return self._started(event)
        if isinstance(event, BodyEnded):
            return self._ended()
        if isinstance(event, TimedOut):
            return self._broke("timeout", self._timeout_message(event.phase))
        assert isinstance(event, UpstreamFailed)
        return self._broke(event.kind, event.message)

    # ------------------------------------------------------------ response headers

    def _started(self, event: ResponseStarted) -> list[Command]:
        self.status, self.wall_now = event.status, event.wall_now
        self.headers = response_headers(event.headers)
        noted = self._rate_limits(event.headers) if self.spec.changes_health else []
        if not 200 <= event.status < 300:
            self.state = "error"
        elif is_event_stream(event.headers):
            self.state = "stream"
            self.translator = self.spec.format.translator(self.spec.model)
        else:
            self.state = "answer"
        return noted

    def _rate_limits(self, headers: Headers) -> list[Command]:
        """What an answer's rate-limit headers say; a limit used up cools the endpoint now,
        before the 429 that would follow."""
        found = anthropic_headers(headers)
        if not any(marker in found for marker in MARKERS):
            return []  # the usual answer of a non-Anthropic provider: nothing to read
        usage = unified_usage(found)
        failure = failure_from_headers(found, self.wall_now)
        return [*([RateLimits(usage)] if usage else []), *self._mark_failed(failure)]

    # ------------------------------------------------------------ body

    def _chunk(self, data: bytes) -> list[Command]:
        if self.state == "streaming":
            return self._relay_stream(data)
        if self.state == "relaying":
            self._keep_tail(data)
            return [Send(data)]
        if self.state == "stream":
            return self._hold_stream(data)
        self.held += data
        return self._hold_error() if self.state == "error" else self._hold_answer()

    def _hold_error(self) -> list[Command]:
        if len(self.held) < ERROR_BODY_CAP:
            return []
        del self.held[ERROR_BODY_CAP:]  # enough to classify: the rest is not read
        return self._error_answered()

    def _hold_answer(self) -> list[Command]:
        if self.spec.format.translates:
            if len(self.held) <= TRANSLATE_CAP:
                return []
            limit = TRANSLATE_CAP // MiB
            return self._fail_over("protocol", f"answer larger than {limit} MiB to translate")
        return self._relay_answer() if len(self.held) > HOLD_CAP else []

    def _ended(self) -> list[Command]:
        if self.state == "error":
            return self._error_answered()
        if self.state == "answer":
            return self._answered()
        if self.state == "relaying":
            self.state = "done"
            return [*self._count(find_usage(bytes(self.held))), *self._sealed([]), Finish()]
        commands = self._feed_stream(self._translator_finish())
        if self.state == "stream":
            message = f"{self.spec.endpoint}: stream ended before any content"
            return [*commands, *self._fail_over("reset", message)]
        if self.state == "streaming":
            return [*commands, *self._stream_ended()]
        return commands  # the last bytes decided it

    def _broke(self, kind: str, message: str) -> list[Command]:
        if self.state == "streaming":
            self.state = "done"
            frame = error_frame("api_error", f"upstream {message}; the response is incomplete")
            return [Send(frame), *self._count(self.usage), *self._sealed(self.seals), Finish()]
        if self.state == "relaying":
            self.state = "done"
            return [Abort(message)]
        return self._fail_over(kind, message)

    def _timeout_message(self, phase: str) -> str:
        if phase == "first_byte":
            waited = "response" if self.state == "headers" else "content"
            within = self._first_byte_within() or 0.0
            return f"{self.spec.endpoint}: no {waited} within {within:g} s"
        idle = self.spec.timeouts.idle
        return f"{self.spec.endpoint}: timed out waiting for data (idle for {idle:g} s)"

    # ------------------------------------------------------------ whole answers

    def _error_answered(self) -> list[Command]:
        self.state = "done"
        body = self.spec.format.error_body(self.status, bytes(self.held))
        answer = Answer(self.status, self.headers, body)
        note = Note(str(self.status))
        if self.spec.policy.fails_over_on(self.status):
            _, detail = error_type_and_message(body)
            retry_after = _header(self.headers, "retry-after")
            failure = failure_from_status(self.status, retry_after, self.wall_now, detail)
            return [note, *self._mark_failed(failure), FailOver(failure, answer)]
        if self.spec.may_retry_thinking and is_invalid_thinking_signature(self.status, body):
            return [note, RetryWithoutThinking(answer)]
        return [note, Respond(answer)]

    def _answered(self) -> list[Command]:
        self.state = "done"
        body = self.spec.format.success_body(bytes(self.held), self.spec.model)
        content_type = _header(self.headers, "content-type") or ""
        if wrong := answer_failure(self.spec.path, content_type, body):
            return self._not_a_message(wrong)
        seals = seals_of_answer(body) if self.spec.collect_seals else []  # parsed only then
        answer = Answer(self.status, self.headers, body)
        return [
            Note(str(self.status)),
            *self._mark_healthy(),
            *self._count(find_usage(body)),
            *self._sealed(seals),
            Respond(answer),
        ]

    def _not_a_message(self, failure: Failure) -> list[Command]:
        self.state = "done"
        note = Note(f"{self.status}(not-a-message)")
        return [note, *self._mark_failed(failure), FailOver(failure, None)]

    def _relay_answer(self) -> list[Command]:
        content_type = _header(self.headers, "content-type") or ""  # too large to judge more
        if wrong := content_type_failure(self.spec.path, content_type):
            return self._not_a_message(wrong)
        self.state = "relaying"
        held = bytes(self.held)
        self.held.clear()
        self._keep_tail(held)
        return [
            Note(str(self.status)),
            *self._mark_healthy(),
            Commit(self.status, self.headers),
            Send(held),
        ]

    def _keep_tail(self, data: bytes) -> None:
        self.held += data
        if len(self.held) > 2 * USAGE_TAIL:
            del self.held[:-USAGE_TAIL]

    # ------------------------------------------------------------ streams

    def _hold_stream(self, data: bytes) -> list[Command]:
        try:
            data = self.translator.feed(data) if self.translator else data
        except ValueError as exc:  # an event too large to frame, say
            return self._fail_over("protocol", f"{self.spec.endpoint}: broken stream ({exc})")
        return self._feed_stream(data)

    def _feed_stream(self, data: bytes) -> list[Command]:
        """Held bytes before commit (and the translator's last ones at the end)."""
        if self.state != "stream":
            return self._relay_stream(data, translated=True) if data else []
        self.held += data
        try:
            events = self.parser.feed(data)
        except ValueError as exc:
            return self._fail_over("protocol", f"{self.spec.endpoint}: broken stream ({exc})")
        for event in events:
            self._take(event)
        verdicts = {gate(event): event for event in reversed(events)}  # the first of each
        if "error" in verdicts:
            return self._stream_error(verdicts["error"])
        if "commit" in verdicts:
            return self._commit_stream()
        if len(self.held) > HOLD_CAP:  # a stream holds only its start: this is no stream
            message = f"{self.spec.endpoint}: no content in the first {HOLD_CAP // MiB} MiB"
            return self._fail_over("protocol", message)
        return []

    def _stream_error(self, event: SseEvent) -> list[Command]:
        failure = failure_from_sse_error(event.data)
        status = failure.status or 502
        kind = STATUS_ERROR_TYPE.get(status, "api_error")
        answer = _error_answer(status, failure.message, kind)
        self.state = "done"
        return [Note(f"sse-{status}"), *self._mark_failed(failure), FailOver(failure, answer)]

    def _commit_stream(self) -> list[Command]:
        if wrong := stream_failure(self.spec.path, self.message_started):
            return self._not_a_message(wrong)
        self.state = "streaming"
        pending = len(self.parser.pending)  # the start of an event not yet whole
        held = bytes(self.held[: len(self.held) - pending])
        self.held.clear()
        commit = Commit(self.status, self.headers)
        return [Note(str(self.status)), *self._mark_healthy(), commit, Send(held)]

    def _relay_stream(self, data: bytes, translated: bool = False) -> list[Command]:
        """A committed stream: whole events go on as they are; the parser keeps back the
        start of an unfinished one, so an error frame never lands inside it."""
        try:
            if self.translator and not translated:
                data = self.translator.feed(data)
            whole, events = self.parser.frame(
                data, b"" if self.spec.collect_seals else AFTER_COMMIT
            )
        except ValueError as exc:
            return self._broke("protocol", f"{self.spec.endpoint}: broken stream ({exc})")
        for event in events:
            self._take(event)
        return [Send(whole)] if whole else []

    def _stream_ended(self) -> list[Command]:
        if not self.finished:
            return self._broke("reset", f"{self.spec.endpoint}: stream ended without message_stop")
        self.state = "done"
        rest = self.parser.pending
        sealed = self._sealed(self.seals)
        return [*([Send(rest)] if rest else []), *self._count(self.usage), *sealed, Finish()]

    def _translator_finish(self) -> bytes:
        try:
            return self.translator.finish() if self.translator else b""
        except ValueError:
            return b""

    def _take(self, event: SseEvent) -> None:
        if event.event in ("message_start", "message_delta"):
            self.usage.update(find_usage(event.data.encode()))
            self.message_started = self.message_started or event.event == "message_start"
        elif event.event == "message_stop":
            self.finished = True
        elif self.spec.collect_seals and (found := seal_of_event(event.event, event.data)):
            self.seals.append(found)

    # ------------------------------------------------------------ outcomes

    def _fail_over(self, kind: str, message: str) -> list[Command]:
        self.state = "done"
        failure = Failure(reason=kind, message=message)
        return [Note(kind), *self._mark_failed(failure), FailOver(failure, None)]

    def _mark_failed(self, failure: Failure | None) -> list[Command]:
        if failure is None or not self.spec.changes_health or not blames_endpoint(failure):
            return []
        if failure.is_auth and self.spec.client_credentials:
            return []  # the client's key was refused, not the endpoint: others may pass
        return [MarkFailed(failure)]

    def _mark_healthy(self) -> list[Command]:
        return [MarkHealthy()] if self.spec.changes_health else []

    @staticmethod
    def _count(usage: dict[str, int]) -> list[Command]:
        return [CountTokens(usage)] if usage else []

    def _sealed(self, seals: list[str]) -> list[Command]:
        """Even none: that a foreign endpoint answered tells the book to look at histories."""
        return [Seals(tuple(seals))] if self.spec.collect_seals else []


def is_event_stream(headers: Headers) -> bool:
    return _is_event_stream(_header(headers, "content-type") or "")


def _header(headers: Headers, name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def all_failed(
    failures: Sequence[tuple[str, FailOver]], attempts: str
) -> tuple[Answer, str | None]:
    """The client's answer when no endpoint answered, and the endpoint it came from.

    The last upstream error response as it came; else 502 (504 after a timeout) naming
    every attempt; 503 when no endpoint could be tried at all.
    """
    answered = [(name, step.answer) for name, step in failures if step.answer is not None]
    if answered:
        name, answer = answered[-1]
        return answer, name
    if not failures:
        return _error_answer(503, "Claude Code Fallback: no endpoint is enabled."), None
    last = failures[-1][1].failure
    message = f"Claude Code Fallback: every endpoint failed ({attempts}). Last: {last.message}"
    return _error_answer(504 if last.reason == "timeout" else 502, message), None


def _error_answer(status: int, message: str, kind: str = "api_error") -> Answer:
    return Answer(status, JSON, json.dumps(error_body(kind, message)).encode())
