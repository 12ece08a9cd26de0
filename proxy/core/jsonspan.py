"""A span-keeping JSON editor: find where a value lies in the text, then splice.

A rewrite through `json.loads` and `json.dumps` changes what it does not mean to: escapes
(`\\u00e9` becomes `é`), numbers (`1e-7`, `1.0`), key order of duplicates, whitespace, and it
cannot write a lone surrogate (`\\ud83d`) back as UTF-8 at all. Here each value is decoded
only to be looked at; what is sent is the client's own text with a few spans replaced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class NotEditable(ValueError):
    """Text that is not the JSON (object or array) an edit expected."""


@dataclass(frozen=True, slots=True)
class Span:
    """One member of an object (`key` set) or element of an array, as it lies in the text.

    `start` is where the member begins (its key's quote, or the value of an element);
    `value_start`/`end` delimit the value's text; `value` is that text decoded.
    """

    start: int
    value_start: int
    end: int
    key: str | None
    value: Any
    children: tuple[Span, ...] | None = None  # for a value that was walked into


# Which values to walk into, so their parts have spans too: a member's key maps to what to
# walk into inside its value; an array applies its own to each element. Everything else is
# decoded whole, once.
Expand = Mapping[str, "Expand"]
NOTHING: Expand = {}


Edit = tuple[int, int, str]  # replace text[start:end] with the string


def _skip(text: str, at: int) -> int:
    if text[at : at + 1] not in " \t\n\r":  # compact JSON, the usual case: no regex
        return at
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _decode(text: str, at: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, at)
    except (ValueError, RecursionError) as exc:
        raise NotEditable(f"no JSON value at {at}") from exc


def _expect(text: str, at: int, char: str) -> int:
    if text[at : at + 1] != char:
        raise NotEditable(f"expected {char!r} at {at}")
    return at + 1


def members(text: str, at: int, expand: Expand = NOTHING) -> list[Span]:
    """The members of the object whose `{` is at `at` (after optional whitespace)."""
    return _object(text, at, expand)[0]


def _value(text: str, at: int, expand: Expand | None) -> tuple[Any, int, tuple[Span, ...] | None]:
    """The value at `at`, walked into (with spans for its parts) when `expand` says so."""
    opening = text[at : at + 1]
    if expand is None or opening not in ("{", "["):
        value, end = _decode(text, at)
        return value, end, None
    if opening == "{":
        spans, end = _object(text, at, expand)
        return as_dict(spans), end, tuple(spans)
    spans, end = _array(text, at, expand)
    return [span.value for span in spans], end, tuple(spans)


def _object(text: str, at: int, expand: Expand) -> tuple[list[Span], int]:
    i = _skip(text, _expect(text, _skip(text, at), "{"))
    spans: list[Span] = []
    if text[i : i + 1] == "}":
        return spans, i + 1
    while True:
        if text[i : i + 1] != '"':
            raise NotEditable(f"expected a key at {i}")
        key, after_key = _decode(text, i)
        value_start = _skip(text, _expect(text, _skip(text, after_key), ":"))
        value, end, children = _value(text, value_start, expand.get(key))
        spans.append(Span(i, value_start, end, key, value, children))
        i = _skip(text, end)
        if text[i : i + 1] == "}":
            return spans, i + 1
        i = _skip(text, _expect(text, i, ","))


def elements(text: str, at: int, expand: Expand = NOTHING) -> list[Span]:
    """The elements of the array whose `[` is at `at` (after optional whitespace)."""
    return _array(text, at, expand)[0]


def _array(text: str, at: int, expand: Expand) -> tuple[list[Span], int]:
    i = _skip(text, _expect(text, _skip(text, at), "["))
    spans: list[Span] = []
    if text[i : i + 1] == "]":
        return spans, i + 1
    inner = expand or None  # elements are walked into only when there is more to expand
    while True:
        value, end, children = _value(text, i, inner)
        spans.append(Span(i, i, end, None, value, children))
        i = _skip(text, end)
        if text[i : i + 1] == "]":
            return spans, i + 1
        i = _skip(text, _expect(text, i, ","))


def document(text: str, expand: Expand = NOTHING) -> list[Span]:
    """The top-level members of a text that is one JSON object and nothing else."""
    spans, end = _object(text, 0, expand)
    if _skip(text, end) != len(text):
        raise NotEditable("text after the object")
    return spans


def as_dict(spans: Sequence[Span]) -> dict[str, Any]:
    """The members as `json.loads` would give them (the last of a repeated key wins)."""
    return {span.key: span.value for span in spans if span.key is not None}


def removals(spans: Sequence[Span], remove: set[int]) -> list[Edit]:
    """Edits that take the members or elements at indexes `remove` out of their container,
    with their separators, leaving every other byte of it as it was."""
    if not remove:
        return []
    count = len(spans)
    tail = count
    while tail > 0 and tail - 1 in remove:
        tail -= 1
    edits: list[Edit] = [(spans[k].start, spans[k + 1].start, "") for k in remove if k < tail]
    if tail < count:  # a run of removed ones at the end: from the last kept one's end
        start = spans[tail - 1].end if tail > 0 else spans[0].start
        edits.append((start, spans[count - 1].end, ""))
    return edits


def replacement(span: Span, value: Any) -> Edit:
    """An edit that puts `value`, written as JSON, where `span`'s value is."""
    return span.value_start, span.end, json.dumps(value, separators=(",", ":"))


def splice(text: str, edits: Sequence[Edit]) -> str:
    """`text` with non-overlapping `edits` applied."""
    parts: list[str] = []
    at = 0
    for start, end, new in sorted(edits):
        if start < at:
            raise NotEditable("overlapping edits")
        parts += (text[at:start], new)
        at = end
    parts.append(text[at:])
    return "".join(parts)
