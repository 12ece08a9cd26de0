"""Server-sent events: an incremental parser that keeps each event's raw bytes, and framing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from proxy.core.body import counts_only
from proxy.core.errors import SseEventTooLargeError

MAX_EVENT_BYTES = 16 * 1024 * 1024  # one event held whole; Anthropic's are far smaller
_LONGEST_BOUNDARY = 4  # CRLF CRLF
_BOUNDARY = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")
_LINE_END = re.compile(r"\r\n|\r|\n")

Gate = Literal["hold", "commit", "error"]
# In a committed stream only message_delta (its usage) and message_stop (the end) still need
# parsing; every event with this in its bytes is parsed, the rest are relayed as they are.
AFTER_COMMIT = b"message_"


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One event: its `event` name ("message" when absent), joined `data`, and raw bytes."""

    event: str
    data: str
    raw: bytes


def parse_event(raw: bytes) -> SseEvent | None:
    """Fields of one event block; None for a block of only comments."""
    event, data, seen = "", [], False
    for line in _LINE_END.split(raw.decode("utf-8", "replace")):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event, seen = value, True
        elif name == "data":
            data.append(value)
            seen = True
    if not seen:
        return None
    return SseEvent(event=event or "message", data="\n".join(data), raw=raw)


class SseParser:
    """Feed bytes as they arrive; get back whole events, each with its exact bytes.

    Linear in the input: each byte is searched for a boundary once (a search resumes where
    the last one stopped), and an event that grows past `max_event_bytes` without its blank
    line raises `SseEventTooLargeError`. Searches use `find()`, not `in`, which on Python
    3.11 first tries the operand as an int and formats a TypeError: the relay frames every
    chunk of every stream.
    """

    __slots__ = ("_buffer", "_clean_for", "max_event_bytes")

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._buffer = bytearray()  # the start of an event whose blank line has not come
        self._clean_for: bytes | None = None  # the marker the buffer is known to lack (no CR)
        self.max_event_bytes = max_event_bytes

    @property
    def pending(self) -> bytes:
        return bytes(self._buffer)

    def feed(self, chunk: bytes, only: bytes = b"") -> list[SseEvent]:
        """Whole events completed by `chunk`; with `only`, just those whose bytes contain
        that marker (the rest are framed but not parsed, which is much cheaper)."""
        return self.frame(chunk, only)[1]

    def frame(self, chunk: bytes, only: bytes = b"") -> tuple[bytes, list[SseEvent]]:
        """`feed`, also returning the bytes of the events `chunk` completed (with the start
        of the first, held back from earlier chunks): what a relay may send on now."""
        if (  # the usual chunk after commit: whole deltas, nothing held, nothing to parse
            only
            and not self._buffer
            and chunk.endswith(b"\n\n")
            and chunk[-3:-2] != b"\n"  # a run of two newlines: the last event ends there
            and chunk.find(b"\r") < 0
            and chunk.find(only) < 0
        ):
            return chunk, []
        held = len(self._buffer)
        clean = bool(only) and self._clean_for == only and self._lacks(only, chunk, held)
        self._buffer += chunk
        events: list[SseEvent] = []
        if clean:
            end = _end_of_last_lf_boundary(self._buffer, max(0, held - 1))
            whole = self._take(end)
        else:
            whole, events = self._frame_events(max(0, held - _LONGEST_BOUNDARY + 1), only)
            # What is left is new bytes when an event ended; otherwise it was not clean before
            clean = bool(whole) and bool(only) and self._lacks(only, self._buffer, 0)
        self._clean_for = only if clean else None
        self._check_size()
        return whole, events

    def _lacks(self, only: bytes, data: bytes | bytearray, held: int) -> bool:
        """Whether `data`, following `held` bytes of buffer, has no CR and no `only` marker."""
        if data.find(b"\r") >= 0:
            return False
        if held == 0:
            return data.find(only) < 0
        seam = bytes(self._buffer[max(0, held - len(only) + 1) :]) + data[: len(only) - 1]
        return data.find(only) < 0 and seam.find(only) < 0

    def _frame_events(self, resume: int, only: bytes) -> tuple[bytes, list[SseEvent]]:
        buffer, start = self._buffer, 0
        events: list[SseEvent] = []
        while match := _BOUNDARY.search(buffer, resume):
            end = resume = match.end()
            if end == len(buffer) and buffer.endswith(b"\r"):
                break  # a lone CR may be the first half of CRLF: wait for the next chunk
            raw = bytes(buffer[start:end])
            start = end
            if only and raw.find(only) < 0:
                continue
            event = parse_event(raw)
            if event is not None:
                events.append(event)
        return self._take(start), events

    def _take(self, end: int) -> bytes:
        """The first `end` bytes of the buffer, removed from it."""
        whole = bytes(self._buffer[:end])
        del self._buffer[:end]
        return whole

    def _check_size(self) -> None:
        if len(self._buffer) > self.max_event_bytes:
            size = len(self._buffer)
            self._buffer.clear()
            raise SseEventTooLargeError(
                f"an event grew past {self.max_event_bytes} bytes ({size}) without ending"
            )

    def flush(self) -> list[SseEvent]:
        """Whatever is left when the stream ends without a closing blank line."""
        rest = self._take(len(self._buffer))
        self._clean_for = None
        event = parse_event(rest) if rest.strip() else None
        return [event] if event is not None else []


def _end_of_last_lf_boundary(buffer: bytearray, since: int) -> int:
    """Where `_BOUNDARY` matching would end its last match in text without CR (0: none),
    given that `buffer[:since]` holds no blank line.

    It pairs newlines from the left, so in a run of them the last match ends an even number
    of newlines after the run's start.
    """
    last = buffer.rfind(b"\n\n", since)
    if last < 0:
        return 0
    run_start = last
    while run_start > 0 and buffer[run_start - 1] == 0x0A:
        run_start -= 1
    run_end = last + 2
    return run_start + (run_end - run_start) // 2 * 2


def is_event_stream(content_type: str) -> bool:
    """Whether a Content-Type value names an SSE stream, in any case, with any parameters."""
    return content_type.partition(";")[0].strip().lower() == "text/event-stream"


def gate(event: SseEvent) -> Gate:
    """Where an Anthropic stream stands after `event`: still held, committed, or failed."""
    if event.event in ("content_block_start", "message_stop"):
        return "commit"
    if event.event == "error":
        return "error"
    return "hold"


def frame(event: str, data: Any) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def error_frame(kind: str, message: str) -> bytes:
    """A well-formed Anthropic `event: error` that ends a broken stream."""
    return frame("error", error_body(kind, message))


def usage_of(event: SseEvent) -> dict[str, int]:
    """Token counts reported by `message_start` and `message_delta` events."""
    if event.event not in ("message_start", "message_delta"):
        return {}
    try:
        data = json.loads(event.data)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    holder = data.get("message") if event.event == "message_start" else data
    usage = holder.get("usage") if isinstance(holder, dict) else None
    return counts_only(usage)
