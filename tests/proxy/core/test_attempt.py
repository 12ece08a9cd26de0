"""Every failover rule of one attempt (DESIGN §3), driven through the machine with no sockets."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.core.attempt import (
    ERROR_BODY_CAP,
    HOLD_CAP,
    TRANSLATE_CAP,
    AttemptMachine,
    all_failed,
)
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
    Respond,
    ResponseStarted,
    RetryWithoutThinking,
    Send,
    StreamTranslator,
    TimedOut,
    UpstreamFailed,
    Wait,
)
from proxy.core.config import Failover, Timeouts
from proxy.core.errors import SseEventTooLargeError
from proxy.core.health import Failure
from proxy.core.sse import SseParser
from tests.fakes import error_event, message, sse, stream_events

JSON_HEADERS = [("Content-Type", "application/json"), ("request-id", "req_1")]
SSE_HEADERS = [("Content-Type", "text/event-stream; charset=utf-8")]
WALL = 1_800_000_000.0


class PassThrough:
    """Anthropic's own format: answers are relayed as they are."""

    translates = False

    def success_body(self, body: bytes, model: str) -> bytes:
        return body

    def error_body(self, status: int, body: bytes) -> bytes:
        return body

    def translator(self, model: str) -> StreamTranslator | None:
        return None


class Wrapping(PassThrough):
    """A translated format: whole answers wrapped, streams through a translator."""

    translates = True

    def success_body(self, body: bytes, model: str) -> bytes:
        return b"[" + body + b"]"

    def translator(self, model: str) -> StreamTranslator | None:
        return Unchanged()


class Unchanged:
    def feed(self, chunk: bytes) -> bytes:
        return chunk

    def finish(self) -> bytes:
        return b""


def spec(**changes: Any) -> AttemptSpec:
    base = AttemptSpec(
        endpoint="a",
        policy=Failover(),
        timeouts=Timeouts(connect=10, first_byte=90, idle=180),
        format=PassThrough(),
        started=100.0,
        model="claude-sonnet-4-5",
    )
    return replace(base, **changes)


def drive(machine: AttemptMachine, *events: Event) -> list[Command]:
    commands: list[Command] = []
    for event in events:
        commands += machine.handle(event)
    return commands


def answered(status: int, body: bytes, headers: list[tuple[str, str]] | None = None,
             **changes: Any) -> tuple[AttemptMachine, list[Command]]:  # fmt: skip
    machine = AttemptMachine(spec(**changes))
    started = ResponseStarted(status, headers or JSON_HEADERS, WALL)
    return machine, drive(machine, started, BodyChunk(body), BodyEnded())


def error_json(kind: str = "overloaded_error", text: str = "busy") -> bytes:
    return json.dumps({"type": "error", "error": {"type": kind, "message": text}}).encode()


def sent(commands: list[Command]) -> bytes:
    return b"".join(c.data for c in commands if isinstance(c, Send))


def only(kind: type[Any], commands: list[Command]) -> Any:
    found = [c for c in commands if isinstance(c, kind)]
    assert len(found) == 1, commands
    return found[0]


# ---------------------------------------------------------------- eligible failures (§3.3)


@pytest.mark.parametrize("status", [401, 403, 404, 408, 409, 429, 500, 502, 503, 529])
def test_a_failover_status_fails_over_and_marks_the_endpoint(status: int) -> None:
    machine, commands = answered(status, error_json())
    fail = only(FailOver, commands)
    assert fail.failure.status == status
    assert fail.answer == Answer(status, JSON_HEADERS, error_json())
    assert only(MarkFailed, commands).failure == fail.failure
    assert commands[0] == Note(str(status))
    assert machine.done
    assert not any(isinstance(c, Send | Commit | Respond) for c in commands)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (UpstreamFailed("connect", "a: cannot connect to h:1"), "connect"),
        (UpstreamFailed("connect", "a: DNS lookup of h failed"), "connect"),
        (UpstreamFailed("reset", "a: connection broke"), "reset"),
        (UpstreamFailed("protocol", "a: bad HTTP response"), "protocol"),
        (TimedOut("first_byte"), "timeout"),
    ],
)
def test_no_response_at_all_fails_over_with_nothing_to_show(event: Event, reason: str) -> None:
    machine = AttemptMachine(spec())
    commands = machine.handle(event)
    assert commands == [Note(reason), MarkFailed(only(FailOver, commands).failure),
                        FailOver(only(FailOver, commands).failure, None)]  # fmt: skip
    assert only(FailOver, commands).failure.reason == reason


def test_a_first_byte_timeout_names_the_limit() -> None:
    commands = AttemptMachine(spec()).handle(TimedOut("first_byte"))
    assert only(FailOver, commands).failure.message == "a: no response within 90 s"


@pytest.mark.parametrize("status", [200, 400, 529])
def test_a_reset_or_stall_while_reading_a_body_fails_over(status: int) -> None:
    for broken in (UpstreamFailed("reset", "a: connection broke"), TimedOut("idle")):
        machine = AttemptMachine(spec())
        commands = drive(machine, ResponseStarted(status, JSON_HEADERS, WALL), BodyChunk(b"{"))
        commands += machine.handle(broken)
        assert only(FailOver, commands).answer is None
        assert not any(isinstance(c, Send | Respond | Commit) for c in commands)


def test_a_custom_on_status_list_is_the_policy() -> None:
    policy = Failover(on_status=(418,))
    _, teapot = answered(418, b"{}", policy=policy)
    assert only(FailOver, teapot).failure.status == 418
    _, overloaded = answered(529, error_json(), policy=policy)
    assert only(Respond, overloaded).answer.status == 529


# ---------------------------------------------------------------- returned unchanged (§3.3)


@pytest.mark.parametrize("status", [400, 413, 422])
def test_other_statuses_are_returned_unchanged_and_change_no_health(status: int) -> None:
    body = error_json("invalid_request_error", "bad field")
    machine, commands = answered(status, body)
    assert commands == [Note(str(status)), Respond(Answer(status, JSON_HEADERS, body))]
    assert machine.done


def test_hop_by_hop_and_length_headers_are_not_relayed() -> None:
    headers = [*JSON_HEADERS, ("Content-Length", "3"), ("Connection", "close"), ("x-ccf-x", "1")]
    _, commands = answered(400, b"bad", headers)
    assert only(Respond, commands).answer.headers == JSON_HEADERS


# ---------------------------------------------------------------- the thinking signature (§3.3)


SIGNATURE_400 = error_json("invalid_request_error", "Invalid `signature` in `thinking` block")


def test_a_thinking_signature_400_asks_for_one_retry_without_thinking() -> None:
    _, commands = answered(400, SIGNATURE_400)
    retry = only(RetryWithoutThinking, commands)
    assert retry.answer == Answer(400, JSON_HEADERS, SIGNATURE_400)
    assert not any(isinstance(c, MarkFailed | FailOver | Respond) for c in commands)


def test_the_retry_itself_is_not_retried() -> None:
    _, commands = answered(400, SIGNATURE_400, may_retry_thinking=False)
    assert only(Respond, commands).answer.body == SIGNATURE_400


def test_another_400_is_not_retried() -> None:
    _, commands = answered(400, error_json("invalid_request_error", "max_tokens too large"))
    assert not any(isinstance(c, RetryWithoutThinking) for c in commands)


# ---------------------------------------------------------------- whole answers


def test_a_success_is_answered_whole_counted_and_marks_the_endpoint_healthy() -> None:
    body = json.dumps(message()).encode()
    _, commands = answered(200, body)
    assert commands == [
        Note("200"),
        MarkHealthy(),
        CountTokens({"input_tokens": 12, "output_tokens": 3}),
        Respond(Answer(200, JSON_HEADERS, body)),
    ]


def test_a_translated_answer_is_translated_whole() -> None:
    _, commands = answered(200, b'{"x": 1}', format=Wrapping())
    assert only(Respond, commands).answer.body == b'[{"x": 1}]'


def test_a_large_answer_is_relayed_as_it_arrives_with_a_bounded_hold() -> None:
    machine = AttemptMachine(spec())
    commands = drive(machine, ResponseStarted(200, JSON_HEADERS, WALL))
    piece = b" " * (256 * 1024)
    held = 0
    while not any(isinstance(c, Commit) for c in commands):
        commands += machine.handle(BodyChunk(piece))
        held += len(piece)
    assert held <= HOLD_CAP + len(piece)
    assert sent(commands) == piece * (held // len(piece))
    for _ in range(10):
        assert machine.handle(BodyChunk(piece)) == [Send(piece)]
        assert len(machine.held) <= 2 * 64 * 1024 + len(piece)  # only the tail is kept
    usage = b'"usage": {"input_tokens": 7, "output_tokens": 9}}'
    assert machine.handle(BodyChunk(usage)) == [Send(usage)]
    assert machine.handle(BodyEnded()) == [
        CountTokens({"input_tokens": 7, "output_tokens": 9}),
        Finish(),
    ]


def test_a_relayed_answer_that_breaks_is_cut_short() -> None:
    machine = AttemptMachine(spec())
    drive(machine, ResponseStarted(200, JSON_HEADERS, WALL), BodyChunk(b" " * (HOLD_CAP + 1)))
    assert machine.committed
    assert machine.handle(UpstreamFailed("reset", "a: connection broke")) == [
        Abort("a: connection broke")
    ]
    assert machine.done


def test_an_error_body_is_read_only_up_to_its_cap() -> None:
    machine = AttemptMachine(spec())
    commands = drive(machine, ResponseStarted(529, JSON_HEADERS, WALL))
    while not machine.done:
        commands += machine.handle(BodyChunk(b"x" * 300_000))
    assert len(only(FailOver, commands).answer.body) == ERROR_BODY_CAP
    assert machine.handle(BodyChunk(b"more")) == []  # nothing more is taken


def test_a_translated_answer_too_large_to_translate_fails_over() -> None:
    machine = AttemptMachine(spec(format=Wrapping()))
    commands = drive(machine, ResponseStarted(200, JSON_HEADERS, WALL))
    while not machine.done:
        commands += machine.handle(BodyChunk(b" " * (8 * 1024 * 1024)))
    assert only(FailOver, commands).failure.reason == "protocol"
    assert len(machine.held) <= TRANSLATE_CAP + 8 * 1024 * 1024


# ---------------------------------------------------------------- streams (§3.4)


def stream_machine(**changes: Any) -> AttemptMachine:
    machine = AttemptMachine(spec(**changes))
    assert machine.handle(ResponseStarted(200, SSE_HEADERS, WALL)) == []
    return machine


def test_a_stream_is_held_until_the_first_content_block_then_committed() -> None:
    events = stream_events(["Hel", "lo"])
    machine = stream_machine()
    assert machine.handle(BodyChunk(events[0])) == []  # message_start: held
    assert machine.handle(BodyChunk(events[1])) == []  # ping: held
    assert machine.handle(BodyChunk(events[2][:10])) == []  # half a content_block_start
    commands = machine.handle(BodyChunk(events[2][10:]))
    assert commands == [
        Note("200"),
        MarkHealthy(),
        Commit(200, SSE_HEADERS),
        Send(b"".join(events[:3])),
    ]
    rest = drive(machine, *(BodyChunk(e) for e in events[3:]), BodyEnded())
    assert sent(rest) == b"".join(events[3:])
    assert rest[-2:] == [CountTokens({"input_tokens": 12, "output_tokens": 2}), Finish()]


def test_message_stop_alone_commits() -> None:
    events = [stream_events([])[0], sse("message_stop", {"type": "message_stop"})]
    machine = stream_machine()
    commands = drive(machine, BodyChunk(b"".join(events)), BodyEnded())
    assert sent(commands) == b"".join(events)
    assert isinstance(commands[-1], Finish)


def test_a_whole_stream_in_one_chunk_is_relayed_and_ends_well() -> None:
    events = b"".join(stream_events(["x"]))
    commands = drive(stream_machine(), BodyChunk(events), BodyEnded())
    assert sent(commands) == events
    assert isinstance(commands[-1], Finish)


@given(st.lists(st.integers(1, 40), max_size=30))
def test_bytes_pass_unchanged_however_they_are_cut(cuts: list[int]) -> None:
    data = b"".join(stream_events(["one", "two", "three"]))
    machine, at, commands = stream_machine(), 0, []
    for size in cuts:
        commands += machine.handle(BodyChunk(data[at : at + size]))
        at += size
    commands += drive(machine, BodyChunk(data[at:]), BodyEnded())
    assert sent(commands) == data
    assert isinstance(commands[-1], Finish)


def test_an_error_event_before_commit_fails_over_with_its_status() -> None:
    machine = stream_machine()
    commands = drive(machine, BodyChunk(stream_events([])[0]), BodyChunk(error_event()))
    fail = only(FailOver, commands)
    assert commands[0] == Note("sse-529")
    assert fail.failure.status == 529
    assert json.loads(fail.answer.body)["error"]["type"] == "overloaded_error"
    assert fail.answer.status == 529
    assert not any(isinstance(c, Send | Commit) for c in commands)


@pytest.mark.parametrize(
    ("ending", "reason"),
    [
        (BodyEnded(), "reset"),
        (UpstreamFailed("reset", "a: connection broke"), "reset"),
        (TimedOut("first_byte"), "timeout"),
        (TimedOut("idle"), "timeout"),
    ],
)
def test_a_stream_that_ends_or_stalls_before_commit_fails_over(ending: Event, reason: str) -> None:
    machine = stream_machine()
    commands = drive(machine, BodyChunk(stream_events([])[0]), ending)
    assert only(FailOver, commands).failure.reason == reason
    assert not any(isinstance(c, Send | Commit) for c in commands)


def test_a_stream_that_holds_more_than_its_cap_before_commit_fails_over() -> None:
    machine = stream_machine()
    ping, commands = sse("ping", {"type": "ping", "pad": "x" * 1000}), []
    while not machine.done:
        commands += machine.handle(BodyChunk(ping * 100))
    assert only(FailOver, commands).failure.reason == "protocol"
    assert len(machine.held) <= HOLD_CAP + 100 * len(ping)


class BrokenParser(SseParser):
    def feed(self, chunk: bytes, only: bytes = b"") -> list[Any]:
        raise SseEventTooLargeError("event larger than 1 MiB")

    def frame(self, chunk: bytes, only: bytes = b"") -> tuple[bytes, list[Any]]:
        raise SseEventTooLargeError("event larger than 1 MiB")


def test_an_event_too_large_before_commit_fails_over() -> None:
    machine = stream_machine()
    machine.parser = BrokenParser()
    commands = machine.handle(BodyChunk(b"data: " + b"x" * 100))
    assert only(FailOver, commands).failure.reason == "protocol"
    assert "larger than" in only(FailOver, commands).failure.message


def committed_machine() -> tuple[AttemptMachine, list[bytes]]:
    events = stream_events(["one", "two"])
    machine = stream_machine()
    commands = machine.handle(BodyChunk(b"".join(events[:3])))
    assert any(isinstance(c, Commit) for c in commands)
    return machine, events


def ends_with_error_frame(commands: list[Command], says: str) -> None:
    assert isinstance(commands[-1], Finish)
    last = SseParser().feed(sent(commands))[-1]
    assert last.event == "error"
    assert json.loads(last.data)["type"] == "error"
    assert says in last.data


@pytest.mark.parametrize(
    ("ending", "says"),
    [
        (UpstreamFailed("reset", "a: connection broke"), "connection broke"),
        (TimedOut("idle"), "idle for 180 s"),
        (BodyEnded(), "without message_stop"),
    ],
)
def test_after_commit_a_break_ends_the_stream_with_a_well_formed_error_frame(
    ending: Event, says: str
) -> None:
    machine, events = committed_machine()
    commands = drive(machine, BodyChunk(events[3]), BodyChunk(events[4][:7]), ending)
    assert sent(commands).startswith(events[3] + b"event: error\n")  # not inside half an event
    ends_with_error_frame(commands, says)
    assert not any(isinstance(c, FailOver | MarkFailed) for c in commands)
    assert machine.done


def test_after_commit_an_event_too_large_ends_the_stream_with_an_error_frame() -> None:
    machine, _ = committed_machine()
    machine.parser = BrokenParser()
    commands = machine.handle(BodyChunk(b"data: " + b"x" * 100))
    ends_with_error_frame(commands, "larger than")


def test_after_commit_an_error_event_is_relayed_as_it_came() -> None:
    machine, _ = committed_machine()
    assert machine.handle(BodyChunk(error_event())) == [Send(error_event())]


def test_a_translated_stream_is_held_and_committed_the_same_way() -> None:
    events = stream_events(["x"])
    machine = stream_machine(format=Wrapping())
    assert machine.handle(BodyChunk(events[0])) == []
    assert sent(machine.handle(BodyChunk(b"".join(events[1:])))) == b"".join(events)


# ---------------------------------------------------------------- time limits (§3.5)


def test_the_wait_for_headers_is_what_is_left_of_first_byte() -> None:
    machine = AttemptMachine(spec())
    assert machine.wait(100.0) == Wait(90.0, "first_byte")
    assert machine.wait(150.0) == Wait(40.0, "first_byte")
    assert machine.wait(500.0) == Wait(0.0, "first_byte")


def test_a_held_stream_waits_for_the_commit_within_first_byte() -> None:
    machine = stream_machine(timeouts=Timeouts(first_byte=15, idle=10))
    assert machine.wait(100.0) == Wait(10.0, "idle")  # silence is bounded too
    assert machine.wait(108.0) == Wait(7.0, "first_byte")


def test_bodies_and_committed_streams_wait_idle() -> None:
    machine, _ = committed_machine()
    assert machine.wait(10_000.0) == Wait(180.0, "idle")
    whole = AttemptMachine(spec())
    whole.handle(ResponseStarted(200, JSON_HEADERS, WALL))
    assert whole.wait(10_000.0) == Wait(180.0, "idle")


# ---------------------------------------------------------------- cooldown inputs (§3.6)


def test_a_429_carries_its_retry_after() -> None:
    headers = [*JSON_HEADERS, ("retry-after", "120")]
    _, commands = answered(429, error_json("rate_limit_error"), headers)
    failure = only(MarkFailed, commands).failure
    assert (failure.status, failure.retry_after, failure.reason) == (429, 120.0, "429")


def test_a_429_retry_after_as_a_date_is_read_against_the_wall_clock() -> None:
    headers = [*JSON_HEADERS, ("Retry-After", "Fri, 15 Jan 2027 08:00:00 GMT")]
    machine = AttemptMachine(spec())
    wall = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
    commands = drive(machine, ResponseStarted(429, headers, wall - 60), BodyEnded())
    assert only(MarkFailed, commands).failure.retry_after == 60.0


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_endpoint_key_marks_the_endpoint(status: int) -> None:
    _, commands = answered(status, error_json("authentication_error"))
    assert only(MarkFailed, commands).failure.is_auth


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_client_key_fails_over_but_does_not_mark_the_endpoint(status: int) -> None:
    _, commands = answered(status, error_json("authentication_error"), client_credentials=True)
    assert only(FailOver, commands).failure.status == status
    assert not any(isinstance(c, MarkFailed) for c in commands)


def test_a_client_credentials_endpoint_is_still_marked_for_its_own_failures() -> None:
    _, commands = answered(529, error_json(), client_credentials=True)
    assert only(MarkFailed, commands)


def test_only_messages_change_health() -> None:
    _, failed = answered(404, error_json("not_found_error"), changes_health=False)
    assert only(FailOver, failed)
    assert not any(isinstance(c, MarkFailed) for c in failed)
    _, served = answered(200, b"{}", changes_health=False)
    assert not any(isinstance(c, MarkHealthy) for c in served)


def test_a_client_that_goes_away_counts_against_nobody() -> None:
    for events in ([], [ResponseStarted(200, SSE_HEADERS, WALL)], [ResponseStarted(529, [], WALL)]):
        machine = AttemptMachine(spec())
        drive(machine, *events)
        assert machine.handle(ClientGone()) == []
        assert machine.done
        assert machine.handle(BodyEnded()) == []


def test_a_stream_whose_client_goes_away_bills_the_tokens_used_so_far() -> None:
    events = stream_events(["Hel", "lo"])
    machine = stream_machine()
    drive(machine, *(BodyChunk(e) for e in events[:4]))
    assert machine.committed
    assert machine.handle(ClientGone()) == [CountTokens({"input_tokens": 12, "output_tokens": 1})]
    assert machine.done


# ---------------------------------------------------------------- all failed (§3.8)


def failed(reason: str, answer: Answer | None = None) -> FailOver:
    return FailOver(Failure(reason=reason, message=f"{reason} happened"), answer)


def test_all_failed_returns_the_last_upstream_error_as_it_came() -> None:
    first, last = Answer(529, JSON_HEADERS, b"first"), Answer(429, JSON_HEADERS, b"last")
    failures = [("a", failed("529", first)), ("b", failed("429", last)), ("c", failed("reset"))]
    assert all_failed(failures, "a=529, b=429, c=reset") == (last, "b")


@pytest.mark.parametrize(("reason", "status"), [("reset", 502), ("connect", 502), ("timeout", 504)])
def test_all_failed_without_an_answer_names_every_attempt(reason: str, status: int) -> None:
    answer, endpoint = all_failed([("a", failed("connect")), ("b", failed(reason))], "a=x, b=y")
    assert (answer.status, endpoint) == (status, None)
    error = json.loads(answer.body)
    assert error["type"] == "error"
    assert error["error"]["type"] == "api_error"
    assert "a=x, b=y" in error["error"]["message"]
    assert f"{reason} happened" in error["error"]["message"]


def test_nothing_to_try_is_a_503() -> None:
    answer, endpoint = all_failed([], "")
    assert (answer.status, endpoint) == (503, None)
