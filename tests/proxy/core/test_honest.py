"""Honest health: 2xx answers that are not messages, the request's own faults, rate-limit
headers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.classify import failure_from_status
from proxy.core.config import Failover
from proxy.core.health import HEALTHY, after_failure
from proxy.core.honest import (
    COUNT_TOKENS,
    MESSAGES,
    answer_failure,
    blames_endpoint,
    stream_failure,
)
from proxy.core.ratelimit import (
    Window,
    exhausted_until,
    failure_from_headers,
    unified_usage,
)

JSON = "application/json"
MESSAGE = json.dumps({"id": "m", "type": "message", "role": "assistant", "content": []}).encode()


@pytest.mark.parametrize(
    ("path", "content_type", "body", "bad"),
    [
        (MESSAGES, JSON, MESSAGE, False),
        (MESSAGES, "application/json; charset=utf-8", MESSAGE, False),
        (MESSAGES, JSON, b'{"content": [], "role": "assistant", "type": "message"}', False),
        (MESSAGES, "text/html", b"<html>Sign in to continue</html>", True),
        (MESSAGES, "", MESSAGE, True),
        (MESSAGES, JSON, b'{"type": "error", "error": {}}', True),
        (MESSAGES, JSON, b'{"choices": []}', True),
        (MESSAGES, JSON, b"[]", True),
        (MESSAGES, JSON, b"not json", True),
        (MESSAGES, JSON, b'{"text": "\\"type\\":\\"message\\""}', True),
        (COUNT_TOKENS, JSON, b'{"input_tokens": 12}', False),
        (COUNT_TOKENS, JSON, b'{"tokens": 12}', True),
        (COUNT_TOKENS, "text/html", b"<html/>", True),
        ("/v1/models", "text/html", b"<html/>", False),
    ],
)
def test_a_2xx_must_be_what_was_asked_for(
    path: str, content_type: str, body: bytes, bad: bool
) -> None:
    failure = answer_failure(path, content_type, body)
    assert (failure is not None) == bad
    if failure is not None:
        assert failure.reason == "bad_answer"
        assert failure.status is None  # not auth: a normal doubling cooldown


def test_a_stream_must_start_with_message_start() -> None:
    assert stream_failure(MESSAGES, saw_message_start=True) is None
    assert stream_failure(MESSAGES, saw_message_start=False) is not None
    assert stream_failure("/v1/other", saw_message_start=False) is None


@pytest.mark.parametrize(("status", "blamed"), [(400, False), (413, False), (422, False),
                                                (404, True), (429, True), (529, True)])  # fmt: skip
def test_the_requests_own_faults_never_count_against_an_endpoint(status: int, blamed: bool) -> None:
    assert blames_endpoint(failure_from_status(status, None, 0.0)) == blamed


WALL = 1_800_000_000.0


def test_unified_rejected_cools_until_its_reset() -> None:
    headers = [
        ("Anthropic-Ratelimit-Unified-Status", "rejected"),
        ("anthropic-ratelimit-unified-reset", str(int(WALL + 3600))),
    ]
    assert exhausted_until(headers, WALL) == WALL + 3600
    failure = failure_from_headers(headers, WALL)
    assert failure is not None
    assert (failure.status, failure.retry_after) == (429, 3600)
    policy = Failover(max_cooldown_seconds=1800)
    assert after_failure(HEALTHY, failure, 10.0, policy, 0.0).cooling_until == 10.0 + 1800


def test_a_counted_limit_at_zero_cools_until_its_reset() -> None:
    headers = [
        ("anthropic-ratelimit-requests-remaining", "12"),
        ("anthropic-ratelimit-requests-reset", "2027-01-15T08:00:00Z"),
        ("anthropic-ratelimit-output-tokens-remaining", "0"),
        ("anthropic-ratelimit-output-tokens-reset", "2027-01-15T08:00:30Z"),
    ]
    wall = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    assert exhausted_until(headers, wall) == wall + 30


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("content-type", "application/json")],
        [("anthropic-ratelimit-unified-status", "allowed_warning")],
        [("anthropic-ratelimit-unified-status", "rejected")],  # no reset: nothing to wait for
        [("anthropic-ratelimit-unified-status", "rejected"),
         ("anthropic-ratelimit-unified-reset", str(int(WALL - 5)))],  # in the past
        [("anthropic-ratelimit-tokens-remaining", "0"),
         ("anthropic-ratelimit-tokens-reset", "garbage")],
        [("anthropic-ratelimit-tokens-remaining", "10"),
         ("anthropic-ratelimit-tokens-reset", "2099-01-01T00:00:00Z")],
    ],
)  # fmt: skip
def test_no_cooldown_without_a_used_up_limit_and_a_future_reset(
    headers: list[tuple[str, str]],
) -> None:
    assert failure_from_headers(headers, WALL) is None


def test_unified_usage_reads_every_window() -> None:
    usage = unified_usage(
        [
            ("anthropic-ratelimit-unified-status", "allowed"),
            ("anthropic-ratelimit-unified-reset", "1800003600"),
            ("anthropic-ratelimit-unified-5h-utilization", "0.42"),
            ("anthropic-ratelimit-unified-5h-reset", "1800003600"),
            ("anthropic-ratelimit-unified-5h-status", "allowed"),
            ("anthropic-ratelimit-unified-7d-utilization", "0.18"),
            ("anthropic-ratelimit-unified-7d-reset", "1800500000"),
            ("anthropic-ratelimit-unified-representative-claim", "five_hour"),
            ("anthropic-ratelimit-unified-7d_opus-utilization", "oops"),
        ]
    )
    assert usage is not None
    assert usage.status == "allowed"
    assert usage.windows == (
        Window("5h", 0.42, 1800003600.0, "allowed"),
        Window("7d", 0.18, 1800500000.0, None),
        Window("7d_opus", None, None, None),
    )
    assert usage.to_json()["windows"][0] == {  # type: ignore[index]
        "name": "5h", "utilization": 0.42, "reset": 1800003600.0, "status": "allowed"
    }  # fmt: skip
    assert unified_usage([("anthropic-ratelimit-tokens-remaining", "5")]) is None


@settings(deadline=None)
@given(st.lists(st.tuples(st.sampled_from([
    "anthropic-ratelimit-unified-status", "anthropic-ratelimit-unified-reset",
    "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset",
    "anthropic-ratelimit-unified-5h-utilization", "x-other"]), st.text(max_size=30))))  # fmt: skip
def test_any_headers_parse_without_raising(headers: list[tuple[str, str]]) -> None:
    until = exhausted_until(headers, WALL)
    assert until is None or until > WALL
    unified_usage(headers)
