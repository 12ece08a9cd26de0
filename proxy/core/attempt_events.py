"""What the attempt machine (`proxy.core.attempt`) takes and gives: events and commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from proxy.core.config import Failover, Timeouts
from proxy.core.health import Failure
from proxy.core.ratelimit import Usage
from proxy.core.shaping import Headers


class StreamTranslator(Protocol):
    def feed(self, chunk: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class AnswerFormat(Protocol):
    """How an endpoint's answers become Anthropic's (see `proxy.formats`)."""

    @property
    def translates(self) -> bool: ...

    def success_body(self, body: bytes, model: str) -> bytes: ...

    def error_body(self, status: int, body: bytes) -> bytes: ...

    def translator(self, model: str) -> StreamTranslator | None: ...


# ---------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class ResponseStarted:
    status: int
    headers: Headers
    wall_now: float  # for a `retry-after` given as a date


@dataclass(frozen=True, slots=True)
class BodyChunk:
    data: bytes


@dataclass(frozen=True, slots=True)
class BodyEnded:
    pass


@dataclass(frozen=True, slots=True)
class TimedOut:
    phase: str  # what `wait` said the wait was for


@dataclass(frozen=True, slots=True)
class UpstreamFailed:
    kind: str  # connect | reset | protocol | timeout (an `UpstreamError.kind`)
    message: str


@dataclass(frozen=True, slots=True)
class ClientGone:
    pass


Event = ResponseStarted | BodyChunk | BodyEnded | TimedOut | UpstreamFailed | ClientGone


# ---------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer: what the client gets, or the last error if every endpoint fails."""

    status: int
    headers: Headers
    body: bytes


@dataclass(frozen=True, slots=True)
class Respond:
    """Send `answer` to the client: the attempt is over."""

    answer: Answer


@dataclass(frozen=True, slots=True)
class Commit:
    """Start the client's response with this status and these headers; `Send`s follow."""

    status: int
    headers: Headers


@dataclass(frozen=True, slots=True)
class Send:
    data: bytes


@dataclass(frozen=True, slots=True)
class Finish:
    """End the client's response normally."""


@dataclass(frozen=True, slots=True)
class Abort:
    """A committed answer that is not a stream broke: close the client's connection without
    ending the body, so the client sees it incomplete."""

    message: str


@dataclass(frozen=True, slots=True)
class FailOver:
    """This endpoint failed for this request: try the next one. `answer` is its error."""

    failure: Failure
    answer: Answer | None


@dataclass(frozen=True, slots=True)
class RetryWithoutThinking:
    """Send the request again to the same endpoint with thinking blocks stripped; where
    there is nothing to strip, `answer` (the 400) is the client's."""

    answer: Answer


@dataclass(frozen=True, slots=True)
class MarkHealthy:
    pass


@dataclass(frozen=True, slots=True)
class MarkFailed:
    """Cool the endpoint down (see `proxy.core.health.after_failure`)."""

    failure: Failure


@dataclass(frozen=True, slots=True)
class Note:
    """One step of the request's path, as `x-ccf-attempts` shows it (`name=result`)."""

    result: str


@dataclass(frozen=True, slots=True)
class CountTokens:
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """What the answer's headers said of the subscription's utilisation."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class Seals:
    """The thinking signatures a foreign endpoint made: the book notes them as its own."""

    seals: tuple[str, ...]


Command = (
    Respond | Commit | Send | Finish | Abort | FailOver | RetryWithoutThinking | MarkHealthy
    | MarkFailed | Note | CountTokens | RateLimits | Seals
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float
    phase: Literal["first_byte", "idle"]


@dataclass(frozen=True, slots=True)
class AttemptSpec:
    """What one attempt needs to decide."""

    endpoint: str
    policy: Failover
    timeouts: Timeouts
    format: AnswerFormat
    started: float  # on the clock `wait` is asked with
    model: str = ""  # the client's, for translated answers
    changes_health: bool = True  # only `/v1/messages` outcomes change health
    client_credentials: bool = False  # `auth: client`: a 401/403 is about the client's key
    may_retry_thinking: bool = True
    path: str = ""  # what a 2xx must answer (see `proxy.core.honest`); "": not judged
    streamed: bool = True  # the client asked for a stream: its headers come at once
    collect_seals: bool = False  # the endpoint's thinking signatures go in the book
