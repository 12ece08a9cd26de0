"""The switch rules as the attempt machine decides them: honest health, rate-limit headers,
the thinking signatures of a foreign endpoint, and the waits for headers and commit."""

from __future__ import annotations

import json
from collections.abc import Sequence

from proxy.core.attempt import HOLD_CAP, AttemptMachine
from proxy.core.attempt_events import (
    BodyChunk,
    BodyEnded,
    Commit,
    FailOver,
    MarkFailed,
    MarkHealthy,
    Note,
    RateLimits,
    Respond,
    ResponseStarted,
    Seals,
    Wait,
)
from proxy.core.config import Failover, Timeouts
from proxy.core.honest import BAD_ANSWER
from tests.fakes import message, sse, stream_events
from tests.proxy.core.test_attempt import JSON_HEADERS, SSE_HEADERS, WALL, answered, drive, spec

MESSAGES = "/v1/messages"


def only(kind: type, commands: Sequence[object]) -> object:
    found = [c for c in commands if isinstance(c, kind)]
    assert len(found) == 1, commands
    return found[0]


def test_a_2xx_that_is_not_a_message_fails_over_and_counts_against_the_endpoint() -> None:
    _, commands = answered(200, b"<html>login</html>", [("Content-Type", "text/html")],
                           path=MESSAGES)  # fmt: skip
    failed = only(FailOver, commands)
    assert isinstance(failed, FailOver)
    assert failed.failure.reason == BAD_ANSWER
    assert Note("200(not-a-message)") in commands
    assert any(isinstance(c, MarkFailed) for c in commands)
    assert not any(isinstance(c, Respond | MarkHealthy) for c in commands)


def test_a_message_answer_is_judged_good_and_other_paths_are_not_judged() -> None:
    _, commands = answered(200, json.dumps(message()).encode(), path=MESSAGES)
    assert any(isinstance(c, Respond) for c in commands)
    _, commands = answered(200, b"<html/>", [("Content-Type", "text/html")], path="/")
    assert any(isinstance(c, Respond) for c in commands)


def test_a_stream_without_message_start_fails_over_before_commit() -> None:
    machine = AttemptMachine(spec(path=MESSAGES))
    events = stream_events(["Hi"])[1:]  # no message_start
    commands = drive(machine, ResponseStarted(200, SSE_HEADERS, WALL), *map(BodyChunk, events))
    assert not any(isinstance(c, Commit) for c in commands)
    assert any(isinstance(c, FailOver) for c in commands)


def test_a_fault_of_the_request_fails_over_but_never_counts_against_the_endpoint() -> None:
    body = json.dumps({"type": "error", "error": {"type": "invalid_request_error",
                                                  "message": "too long"}}).encode()  # fmt: skip
    policy = Failover(on_status=(400, 529))
    _, commands = answered(400, body, policy=policy)
    assert any(isinstance(c, FailOver) for c in commands)
    assert not any(isinstance(c, MarkFailed) for c in commands)


def test_rate_limit_headers_report_utilisation_and_a_used_up_limit_cools_down_at_once() -> None:
    reset = WALL + 3600
    headers = [*JSON_HEADERS,
               ("anthropic-ratelimit-unified-status", "rejected"),
               ("anthropic-ratelimit-unified-reset", str(int(reset))),
               ("anthropic-ratelimit-unified-5h-utilization", "1.0"),
               ("anthropic-ratelimit-unified-5h-reset", str(int(reset)))]  # fmt: skip
    machine = AttemptMachine(spec())
    commands = machine.handle(ResponseStarted(200, headers, WALL))
    assert any(isinstance(c, RateLimits) for c in commands)
    failed = only(MarkFailed, commands)
    assert isinstance(failed, MarkFailed)
    assert failed.failure.status == 429


def test_an_answer_without_rate_limit_headers_says_nothing_of_them() -> None:
    machine = AttemptMachine(spec())
    assert machine.handle(ResponseStarted(200, JSON_HEADERS, WALL)) == []


def thinking_stream(signature: str) -> list[bytes]:
    block = {"type": "thinking", "thinking": "", "signature": ""}
    events = stream_events(["ok"])
    return [
        events[0],
        sse("content_block_start", {"type": "content_block_start", "index": 0,
                                    "content_block": block}),
        sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                    "delta": {"type": "signature_delta", "signature": signature}}),
        sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        *events[-2:],  # message_delta, message_stop
    ]  # fmt: skip


def test_a_foreign_endpoints_stream_gives_its_signatures_to_the_book() -> None:
    machine = AttemptMachine(spec(collect_seals=True, path=MESSAGES))
    started = ResponseStarted(200, SSE_HEADERS, WALL)
    commands = drive(machine, started, *map(BodyChunk, thinking_stream("fb-sig")), BodyEnded())
    assert only(Seals, commands) == Seals(("fb-sig",))


def test_a_foreign_endpoint_that_did_not_think_still_says_it_answered() -> None:
    machine = AttemptMachine(spec(collect_seals=True, path=MESSAGES))
    started = ResponseStarted(200, SSE_HEADERS, WALL)
    commands = drive(machine, started, *map(BodyChunk, stream_events(["hi"])), BodyEnded())
    assert only(Seals, commands) == Seals(())


def test_the_primarys_answers_are_not_looked_at_for_signatures() -> None:
    started = ResponseStarted(200, SSE_HEADERS, WALL)
    machine = AttemptMachine(spec(path=MESSAGES))
    commands = drive(machine, started, *map(BodyChunk, thinking_stream("p-sig")), BodyEnded())
    assert not any(isinstance(c, Seals) for c in commands)


def test_without_a_first_byte_limit_a_stream_waits_15_s_for_headers_a_whole_answer_600() -> None:
    timeouts = Timeouts(connect=10, first_byte=None, idle=180)
    assert AttemptMachine(spec(timeouts=timeouts, streamed=True)).wait(100.0) == Wait(
        15.0, "first_byte"
    )
    assert AttemptMachine(spec(timeouts=timeouts, streamed=False)).wait(100.0) == Wait(
        600.0, "first_byte"
    )


def test_without_a_first_byte_limit_only_idle_bounds_a_streams_commit() -> None:
    timeouts = Timeouts(connect=10, first_byte=None, idle=180)
    machine = AttemptMachine(spec(timeouts=timeouts))
    machine.handle(ResponseStarted(200, SSE_HEADERS, WALL))
    assert machine.wait(100.0) == Wait(180.0, "idle")


def test_an_answer_too_large_to_hold_is_judged_by_its_content_type() -> None:
    big = json.dumps(message("x" * (HOLD_CAP + 10))).encode()
    machine = AttemptMachine(spec(path=MESSAGES))
    commands = drive(machine, ResponseStarted(200, JSON_HEADERS, WALL), BodyChunk(big))
    assert any(isinstance(c, Commit) for c in commands)
    page = b"<html>" + b"x" * (HOLD_CAP + 10)
    machine = AttemptMachine(spec(path=MESSAGES))
    commands = drive(machine, ResponseStarted(200, [("Content-Type", "text/html")], WALL),
                     BodyChunk(page))  # fmt: skip
    assert any(isinstance(c, FailOver) for c in commands)
