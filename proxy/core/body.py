"""Request and answer bodies: the model map, the thinking-signature retry, `usage`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from proxy.core.models import map_model


def parse_json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one (then it is forwarded as is)."""
    if not body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


_MODEL_RE = re.compile(rb'"model"\s*:\s*"([^"\\]{1,200})"')


def sniff_model(body: bytes) -> str | None:
    """The request's model without parsing the whole body (for logs and the activity view).

    The first unescaped `"model": "…"` in the text; exact whenever it is the top-level key,
    which for Claude Code's requests it is.
    """
    match = _MODEL_RE.search(body)
    return match.group(1).decode("utf-8", "replace") if match else None


_STREAM_RE = re.compile(rb'"stream"\s*:\s*(true|false)')


def sniff_stream(body: bytes) -> bool:
    """Whether the request asks for a stream, without parsing the body: the last
    `"stream": true|false` in the text, exact when it is the top-level key (Claude Code
    writes it last)."""
    at = body.rfind(b'"stream"')
    match = _STREAM_RE.match(body, at) if at >= 0 else None
    if match is None:
        matches = _STREAM_RE.findall(body)
        return bool(matches) and matches[-1] == b"true"
    return match.group(1) == b"true"


_MAX_TOKENS_RE = re.compile(rb'"max_tokens"\s*:\s*(\d{1,12})\s*[,}]')


def max_tokens_within(body: bytes, limit: int) -> bool:
    """Whether no whole-number `max_tokens` in the text is above `limit`, told without
    parsing the body (a request that needs no clamp is then not parsed at all)."""
    return all(int(found) <= limit for found in _MAX_TOKENS_RE.findall(body))


USAGE_WINDOW = 4096  # bytes after `"usage":` in which its object must end
USAGE_CANDIDATES = 8  # `"usage"` texts looked at, from the last, before giving up
_DECODER = json.JSONDecoder()


def find_usage(text: bytes) -> dict[str, int]:
    """The counts (see `counts_only`) of the last `"usage": {…}` object in a JSON text.

    The one way `usage` is found, in a whole answer, the tail of a relayed one, or an
    event's data: the top-level `usage` comes after the content in Anthropic's and OpenAI's
    answers, and in `message_start` the message's is the last. Inside a JSON string a quote
    is escaped, so `"usage"` followed by a colon is a key.
    """
    at = len(text)
    for _ in range(USAGE_CANDIDATES):
        at = text.rfind(b'"usage"', 0, at)
        if at < 0:
            return {}
        found = _object_after(text[at + len(b'"usage"') : at + USAGE_WINDOW])
        if found is not None:
            return counts_only(found)
    return {}


def _object_after(rest: bytes) -> dict[str, Any] | None:
    """The JSON object after the colon that starts `rest`, or None."""
    rest = rest.lstrip()
    if rest[:1] != b":":
        return None
    try:
        value, _ = _DECODER.raw_decode(rest[1:].lstrip().decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def counts_only(usage: object) -> dict[str, int]:
    """The entries of a `usage` object that are positive whole numbers."""
    if not isinstance(usage, Mapping):
        return {}
    # `type() is int` rather than isinstance, so that True is not a count
    return {name: value for name, value in usage.items() if type(value) is int and value > 0}


def looks_like_json_object(body: bytes) -> bool:
    return body.lstrip()[:1] == b"{"


def with_model(
    data: dict[str, Any], rules: tuple[tuple[str, str], ...]
) -> tuple[dict[str, Any], str | None]:
    """`data` with its model mapped, and the mapped name (None when nothing changed)."""
    model = data.get("model")
    if not isinstance(model, str):
        return data, None
    target = map_model(model, rules)
    if target == model:
        return data, None
    return {**data, "model": target}, target


def dump(data: dict[str, Any]) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate (half an emoji): written as its escape
        return json.dumps(data, separators=(",", ":")).encode()
