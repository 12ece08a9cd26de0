"""Server-sent events: an incremental parser that keeps each event's raw bytes, and framing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from proxy.core.errors import SseEventTooLargeError

MAX_EVENT_BYTES = 16 * 1024 * 1024  # one event held whole; Anthropic's are far smaller
_LONGEST_BOUNDARY = 4  # CRLF CRLF
_TAIL = 64  # bytes of a held event searched again with the next chunk; a marker is shorter
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

    Linear in the input: the start of an unfinished event is kept in pieces, only a chunk
    and the few bytes before it are searched for the blank line that ends it, and the pieces
    are joined once, when it ends. An event that grows past `max_event_bytes` raises
    `SseEventTooLargeError`. Searches use `find()`, not `in`, which on Python 3.11 first
    tries the operand as an int and formats a TypeError: the relay frames every chunk of
    every stream.
    """

    __slots__ = ("_clean_for", "_parts", "_size", "_tail", "max_event_bytes")

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._parts: list[bytes] = []  # the start of an event whose blank line has not come
        self._size = 0  # their length
        self._tail = b""  # their last bytes: a blank line or a marker may begin there
        self._clean_for = b""  # a marker they lack, as they lack CR (b"": not known)
        self.max_event_bytes = max_event_bytes

    @property
    def pending(self) -> bytes:
        if len(self._parts) > 1:
            self._parts[:] = [b"".join(self._parts)]
        return self._parts[0] if self._parts else b""

    def feed(self, chunk: bytes, only: bytes = b"") -> list[SseEvent]:
        """Whole events completed by `chunk`; with `only`, just those whose bytes contain
        that marker (the rest are framed but not parsed, which is much cheaper)."""
        return self.frame(chunk, only)[1]

    def frame(self, chunk: bytes, only: bytes = b"") -> tuple[bytes, list[SseEvent]]:
        """`feed`, also returning the bytes of the events `chunk` completed (with the start
        of the first, held back from earlier chunks): what a relay may send on now."""
        if not self._parts:
            if (  # the usual chunk after commit: whole deltas, nothing to parse
                only
                and chunk.endswith(b"\n\n")
                and chunk[-3:-2] != b"\n"  # a run of two newlines: the last event ends there
                and chunk.find(b"\r") < 0
                and chunk.find(only) < 0
            ):
                return chunk, []
            self._clean_for = only  # nothing held: nothing to lack
        seam = self._tail + chunk[:_TAIL]  # where a blank line or marker may span the cut
        clean = (
            bool(only)
            and self._clean_for == only
            and chunk.find(b"\r") < 0
            and chunk.find(only) < 0
            and seam.find(only) < 0
        )
        if not (_may_end_clean(seam, chunk) if clean else (_may_end(seam) or _may_end(chunk))):
            self._hold(chunk, clean)  # no event ends in this chunk
            return b"", []
        return self._frame_joined(chunk, only, clean)

    def _hold(self, chunk: bytes, clean: bool) -> None:
        self._parts.append(chunk)
        self._size += len(chunk)
        self._tail = (self._tail + chunk)[-_TAIL:] if len(chunk) < _TAIL else chunk[-_TAIL:]
        if not clean:
            self._clean_for = b""
        if self._size > self.max_event_bytes:
            size, self._parts, self._size, self._tail = self._size, [], 0, b""
            raise SseEventTooLargeError(
                f"an event grew past {self.max_event_bytes} bytes ({size}) without ending"
            )

    def _frame_joined(self, chunk: bytes, only: bytes, clean: bool) -> tuple[bytes, list[SseEvent]]:
        parts, held = self._parts, self._size
        if not parts:
            buffer = chunk
        else:
            buffer = parts[0] + chunk if len(parts) == 1 else b"".join([*parts, chunk])
            parts.clear()
        events: list[SseEvent] = []
        if clean:
            end = _end_of_last_lf_boundary(buffer, held - 1 if held else 0)
        else:
            end, events = _frame_events(buffer, max(0, held - _LONGEST_BOUNDARY + 1), only)
        rest = buffer[end:]
        if rest:
            parts.append(rest)
            if not clean:  # what is left of a chunk that was not clean may be
                lacks = rest.find(b"\r") < 0 and rest.find(only) < 0
                self._clean_for = only if only and lacks else b""
        self._size, self._tail = len(rest), rest[-_TAIL:]
        if len(rest) > self.max_event_bytes:
            self._hold(b"", clean)  # raises
        return buffer[:end], events

    def flush(self) -> list[SseEvent]:
        """Whatever is left when the stream ends without a closing blank line."""
        rest = self.pending
        self._parts, self._size, self._tail = [], 0, b""
        event = parse_event(rest) if rest.strip() else None
        return [event] if event is not None else []


def _may_end(data: bytes) -> bool:
    """Whether `data` has two line endings in a row, as every blank line has. One-byte
    searches first: they run at memory speed, two-byte ones and the regex far slower."""
    if data.find(b"\n") < 0 and data.find(b"\r") < 0:
        return False
    return data.find(b"\n\n") >= 0 or data.find(b"\n\r") >= 0 or data.find(b"\r\r") >= 0


def _may_end_clean(seam: bytes, chunk: bytes) -> bool:
    """`_may_end` for text without CR: a blank line is two LFs, in the chunk or at the cut."""
    return chunk.find(b"\n") >= 0 and (seam.find(b"\n\n") >= 0 or chunk.find(b"\n\n") >= 0)


def _frame_events(buffer: bytes, resume: int, only: bytes) -> tuple[int, list[SseEvent]]:
    """Where the last whole event in `buffer` ends, and those events with `only` in them;
    the search starts at `resume` (no blank line ends before it)."""
    events: list[SseEvent] = []
    start = 0
    while match := _BOUNDARY.search(buffer, resume):
        end = resume = match.end()
        if end == len(buffer) and buffer.endswith(b"\r"):
            break  # a lone CR may be the first half of CRLF: wait for the next chunk
        raw = buffer[start:end]
        start = end
        if only and raw.find(only) < 0:
            continue
        event = parse_event(raw)
        if event is not None:
            events.append(event)
    return start, events


def _end_of_last_lf_boundary(buffer: bytes, since: int) -> int:
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
