"""Error classification: what an upstream answer means for failover."""

from __future__ import annotations

import json
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

from proxy.core.config import Failover
from proxy.core.health import Failure

SSE_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

STATUS_ERROR_TYPE = {status: kind for kind, status in SSE_ERROR_STATUS.items()}


def parse_retry_after(value: str | None, wall_now: float) -> float | None:
    """Seconds to wait from a `retry-after` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - wall_now)


def is_failover_status(status: int, policy: Failover) -> bool:
    return policy.fails_over_on(status)


def status_reason(status: int) -> str:
    if status in (401, 403):
        return "auth"
    if status in (429, 529):
        return str(status)
    return f"{status // 100}xx" if status >= 500 else str(status)


def failure_from_status(
    status: int, retry_after: str | None, wall_now: float, detail: str = ""
) -> Failure:
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    return Failure(
        reason=status_reason(status),
        message=message,
        status=status,
        retry_after=parse_retry_after(retry_after, wall_now) if status == 429 else None,
    )


def failure_from_sse_error(data: str) -> Failure:
    """An in-band `event: error` before commit, classified like the status it stands for."""
    kind, message = error_type_and_message(data.encode())
    status = SSE_ERROR_STATUS.get(kind, 500)
    return Failure(
        reason="stream_error",
        message=f"stream error {kind}" + (f": {message}" if message else ""),
        status=status,
    )


def failure_from_exception(kind: str, message: str) -> Failure:
    return Failure(reason=kind, message=message)


def error_type_and_message(body: bytes) -> tuple[str, str]:
    """The `error.type` and `error.message` of an Anthropic- or OpenAI-style error body."""
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "", body[:200].decode("utf-8", "replace").strip()
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("type") or error.get("code") or ""), str(error.get("message") or "")
    if isinstance(error, str):
        return "", error
    return "", ""


def is_invalid_thinking_signature(status: int, body: bytes) -> bool:
    """Anthropic's 400 for a thinking block whose signature another provider made."""
    if status != 400:
        return False
    _, message = error_type_and_message(body)
    lowered = message.lower()
    return "signature" in lowered and "thinking" in lowered
