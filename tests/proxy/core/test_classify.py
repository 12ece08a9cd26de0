"""Classification: retry-after, failover statuses, in-band SSE errors, thinking signatures."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.classify import (
    SSE_ERROR_STATUS,
    STATUS_ERROR_TYPE,
    error_type_and_message,
    failure_from_exception,
    failure_from_sse_error,
    failure_from_status,
    is_failover_status,
    is_invalid_thinking_signature,
    parse_retry_after,
    status_reason,
)
from proxy.core.config import Failover

WALL = datetime(2025, 10, 21, 7, 28, 0, tzinfo=UTC).timestamp()


def anthropic_error(kind: str, message: str = "") -> str:
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}})


# ---------------------------------------------------------------- retry-after


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Tue, 21 Oct 2025 07:31:00 GMT", 180.0),
        ("Tue, 21 Oct 2025 07:28:00 GMT", 0.0),
        ("Tue, 21 Oct 2025 07:00:00 GMT", 0.0),  # in the past: retry now
        ("Tue, 21 Oct 2025 09:31:00 +0200", 180.0),
        ("Tue, 21 Oct 2025 07:31:00 -0000", 180.0),  # naive date, taken as UTC
        ("Tuesday, 21-Oct-25 07:31:00 GMT", 180.0),  # RFC 850
    ],
)
def test_retry_after(value: str, seconds: float) -> None:
    assert parse_retry_after(value, WALL) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [None, "", "soon", "12 seconds", "Tue, 99 Foo 2025", "0x10"])
def test_unusable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, WALL) is None


def test_retry_after_date_uses_the_given_wall_clock() -> None:
    when = format_datetime(datetime(2030, 1, 1, tzinfo=UTC), usegmt=True)
    start = datetime(2029, 12, 31, 23, 59, tzinfo=UTC).timestamp()
    assert parse_retry_after(when, start) == 60.0
    assert parse_retry_after(when, start + 30) == 30.0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.floats(0, 4e9))
def test_retry_after_never_raises_and_is_never_negative(value: str, wall: float) -> None:
    seconds = parse_retry_after(value, wall)
    assert seconds is None or seconds >= 0.0 or math.isnan(seconds)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**6), st.floats(1e9, 3e9))
def test_retry_after_date_round_trip(delay: int, wall: float) -> None:
    whole = math.floor(wall)
    header = format_datetime(datetime.fromtimestamp(whole + delay, UTC), usegmt=True)
    assert parse_retry_after(header, whole) == pytest.approx(delay)


def test_retry_after_nan_is_not_returned() -> None:
    seconds = parse_retry_after("nan", WALL)
    assert seconds is None or seconds == 0.0


# ---------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("status", "fails_over"),
    [(401, True), (403, True), (404, True), (408, True), (409, True), (429, True), (500, True),
     (502, True), (503, True), (504, True), (529, True), (400, False), (402, False),
     (413, False), (422, False), (200, False)],
)  # fmt: skip
def test_default_failover_statuses(status: int, fails_over: bool) -> None:
    assert is_failover_status(status, Failover()) is fails_over


def test_custom_failover_statuses() -> None:
    policy = Failover(on_status=(429, "4xx"))
    assert is_failover_status(418, policy)
    assert not is_failover_status(503, policy)


@pytest.mark.parametrize(
    ("status", "reason"),
    [(401, "auth"), (403, "auth"), (429, "429"), (529, "529"), (500, "5xx"), (503, "5xx"),
     (404, "404"), (408, "408")],
)  # fmt: skip
def test_status_reason(status: int, reason: str) -> None:
    assert status_reason(status) == reason


def test_failure_from_429_parses_retry_after() -> None:
    failure = failure_from_status(429, "30", WALL, detail="Number of requests exceeded")
    assert failure.status == 429
    assert failure.retry_after == 30.0
    assert failure.reason == "429"
    assert failure.message == "HTTP 429: Number of requests exceeded"


def test_failure_from_other_statuses_ignores_retry_after() -> None:
    failure = failure_from_status(503, "30", WALL)
    assert failure.retry_after is None
    assert failure.message == "HTTP 503"
    assert failure.reason == "5xx"


def test_failure_from_auth_status_is_auth() -> None:
    assert failure_from_status(401, None, WALL).is_auth


def test_failure_from_exception() -> None:
    failure = failure_from_exception("timeout", "no response headers within 90 s")
    assert (failure.reason, failure.status, failure.retry_after) == ("timeout", None, None)
    assert failure.message == "no response headers within 90 s"


# ---------------------------------------------------------------- in-band SSE errors


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("invalid_request_error", 400),
        ("authentication_error", 401),
        ("billing_error", 402),
        ("permission_error", 403),
        ("not_found_error", 404),
        ("request_too_large", 413),
        ("rate_limit_error", 429),
        ("api_error", 500),
        ("timeout_error", 504),
        ("overloaded_error", 529),
        ("something_new", 500),
        ("", 500),
    ],
)
def test_sse_error_types_map_to_statuses(kind: str, status: int) -> None:
    failure = failure_from_sse_error(anthropic_error(kind, "Overloaded"))
    assert failure.status == status
    assert failure.reason == "stream_error"
    assert failure.message == f"stream error {kind}: Overloaded"


def test_sse_error_that_is_not_json() -> None:
    failure = failure_from_sse_error("upstream exploded")
    assert failure.status == 500
    assert failure.message == "stream error : upstream exploded"


def test_overloaded_stream_error_fails_over_by_default() -> None:
    failure = failure_from_sse_error(anthropic_error("overloaded_error"))
    assert failure.status is not None
    assert is_failover_status(failure.status, Failover())


def test_sse_and_status_tables_agree() -> None:
    assert all(STATUS_ERROR_TYPE[status] == kind for kind, status in SSE_ERROR_STATUS.items())


# ---------------------------------------------------------------- error bodies


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            anthropic_error("overloaded_error", "Overloaded").encode(),
            ("overloaded_error", "Overloaded"),
        ),
        (
            b'{"error": {"code": "rate_limit_exceeded", "message": "slow"}}',
            ("rate_limit_exceeded", "slow"),
        ),
        (b'{"error": {"code": 429, "message": "slow"}}', ("429", "slow")),
        (b'{"error": "bad key"}', ("", "bad key")),
        (b'{"error": {"type": null, "message": null}}', ("", "")),
        (b'{"message": "x"}', ("", "")),
        (b"[1, 2]", ("", "")),
        (b"null", ("", "")),
        (b"<html>502 Bad Gateway</html>\n", ("", "<html>502 Bad Gateway</html>")),
        (b"\xff\xfe not utf-8", ("", "\ufffd\ufffd not utf-8")),
        (b"x" * 500, ("", "x" * 200)),
        (b"", ("", "")),
    ],
)
def test_error_type_and_message(body: bytes, expected: tuple[str, str]) -> None:
    assert error_type_and_message(body) == expected


def test_deeply_nested_error_body_does_not_raise() -> None:
    """An upstream can send any body; json.loads raises RecursionError past ~1000 levels."""
    assert error_type_and_message(b"[" * 100_000) == ("", "[" * 200)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_error_type_and_message_never_raises(body: bytes) -> None:
    kind, message = error_type_and_message(body)
    assert isinstance(kind, str)
    assert isinstance(message, str)


# ---------------------------------------------------------------- thinking signatures

SIGNATURE_ERROR = anthropic_error(
    "invalid_request_error",
    "messages.1.content.0: Invalid `signature` in `thinking` block",
).encode()


def test_invalid_thinking_signature_is_recognised() -> None:
    assert is_invalid_thinking_signature(400, SIGNATURE_ERROR)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, SIGNATURE_ERROR),
        (400, anthropic_error("invalid_request_error", "max_tokens: too large").encode()),
        (400, anthropic_error("invalid_request_error", "Invalid signature").encode()),
        (400, anthropic_error("invalid_request_error", "thinking is not enabled").encode()),
        (400, b""),
    ],
)
def test_other_errors_are_not_thinking_signature_errors(status: int, body: bytes) -> None:
    assert not is_invalid_thinking_signature(status, body)
