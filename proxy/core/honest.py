"""Honest health: a 2xx that is not what was asked for is a failure, and what is the
request's own fault never counts against an endpoint."""

from __future__ import annotations

import json
import re

from proxy.core.health import Failure

MESSAGES = "/v1/messages"
COUNT_TOKENS = "/v1/messages/count_tokens"
# The request's own fault: the same request fails the same way at any provider.
REQUEST_FAULTS = frozenset({400, 413, 422})
BAD_ANSWER = "bad_answer"

_MESSAGE_TYPE = re.compile(rb'"type"\s*:\s*"message"')
_HEAD = 512  # Anthropic writes `"type":"message"` among the first few fields


def _bad(what: str) -> Failure:
    return Failure(reason=BAD_ANSWER, message=f"answered 2xx with {what}")


def _json_object(body: bytes) -> dict[str, object] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def answer_failure(path: str, content_type: str, body: bytes) -> Failure | None:
    """Why a whole 2xx answer to `path` is not what the client asked for (None: it is).

    `/v1/messages` must answer a JSON message, `count_tokens` a JSON object with
    `input_tokens`; other paths are not judged.
    """
    if path not in (MESSAGES, COUNT_TOKENS):
        return None
    if wrong := content_type_failure(path, content_type):
        return wrong
    if path == MESSAGES and _MESSAGE_TYPE.search(body, 0, _HEAD):
        return None  # the usual case, told without parsing
    return _json_failure(path, _json_object(body))


def content_type_failure(path: str, content_type: str) -> Failure | None:
    """Why a 2xx answer to `path` of this content type is not what was asked for: what is
    told of an answer too large to hold whole."""
    if path not in (MESSAGES, COUNT_TOKENS) or "json" in content_type.lower():
        return None
    shown = content_type.split(";", maxsplit=1)[0].strip() or "no content type"
    return _bad(f"{shown}, not JSON")


def _json_failure(path: str, data: dict[str, object] | None) -> Failure | None:
    if data is None:
        return _bad("a body that is not a JSON object")
    if path == MESSAGES and data.get("type") != "message":
        return _bad(f"JSON of type {str(data.get('type'))[:40]!r}, not a message")
    if path == COUNT_TOKENS and not isinstance(data.get("input_tokens"), int):
        return _bad("JSON without input_tokens")
    return None


def stream_failure(path: str, saw_message_start: bool) -> Failure | None:
    """Why a stream that reached its first content is not a message stream (None: it is)."""
    if path != MESSAGES or saw_message_start:
        return None
    return _bad("an event stream without message_start")


def blames_endpoint(failure: Failure) -> bool:
    """Whether a failure counts against the endpoint's health: not when the request itself
    is at fault (it fails over only where `on_status` asks for it)."""
    return failure.status not in REQUEST_FAULTS
