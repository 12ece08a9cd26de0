"""Request-body rewriting: the model map and the thinking-signature retry."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
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


# An object with objects one level deep; possessive, so a cut-off body cannot backtrack.
_USAGE_RE = re.compile(rb'"usage"\s*:\s*(\{(?:[^{}]++|\{[^{}]*+\})*+\})')


def usage_text(body: bytes) -> bytes:
    """The text of a response's `usage` object, found without parsing the body; b"" if it
    has none. The last one wins: the top-level `usage` comes after the content in
    Anthropic's and OpenAI's answers. The text may still not be valid JSON."""
    at = body.rfind(b'"usage"')
    flat = _flat_object_after(body, at + len(b'"usage"')) if at >= 0 else None
    if flat is not None:
        return flat
    last = _USAGE_RE.match(body, max(at, 0))
    if last is not None:
        return last.group(1)
    matches = _USAGE_RE.findall(body)  # the last "usage" text was not the object
    return matches[-1] if matches else b""


def usage_totals(texts: Sequence[bytes]) -> dict[str, int]:
    """The counts (see `counts_only`) summed over `usage` objects given as text, as
    `usage_text` finds them; a text that is not a JSON object adds nothing.

    Parsed as one JSON array, which costs half as much per object as parsing each alone.
    """
    try:
        objects = json.loads(b"[" + b",".join(texts) + b"]")
    except (ValueError, UnicodeDecodeError, RecursionError):
        objects = None
    if not isinstance(objects, list) or len(objects) != len(texts):  # one text spoilt them
        objects = [parse_json_object(text) for text in texts]
    totals: dict[str, int] = {}
    for usage in objects:
        for name, count in counts_only(usage).items():
            totals[name] = totals.get(name, 0) + count
    return totals


def _flat_object_after(body: bytes, start: int) -> bytes | None:
    """`_USAGE_RE`'s object when it has no nested object (the usual case), found with byte
    searches, which cost a fifth of the regex; None for anything else."""
    brace = body.find(b"{", start)
    if brace < 0 or body[start:brace].strip() != b":":
        return None
    end = body.find(b"}", brace)
    if end < 0 or body.find(b"{", brace + 1, end) >= 0:
        return None
    return body[brace : end + 1]


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


def strip_thinking(data: dict[str, Any]) -> dict[str, Any]:
    """History without thinking blocks, whose signatures only their own provider accepts."""
    messages = data.get("messages")
    if not isinstance(messages, list):
        return data
    return {**data, "messages": [_without_thinking(m) for m in messages]}


def _without_thinking(message: Any) -> Any:
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return message
    kept = [
        block
        for block in message["content"]
        if not (isinstance(block, dict) and block.get("type") in ("thinking", "redacted_thinking"))
    ]
    return {**message, "content": kept or [{"type": "text", "text": "(thinking omitted)"}]}


def dump(data: dict[str, Any]) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate (half an emoji): written as its escape
        return json.dumps(data, separators=(",", ":")).encode()
