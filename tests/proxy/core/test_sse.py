"""SSE: an incremental parser that keeps raw bytes, the commit gate, framing and usage."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core import sse
from proxy.core.body import counts_only
from proxy.core.errors import SseEventTooLargeError, UpstreamProtocolError
from proxy.core.sse import (
    AFTER_COMMIT,
    SseEvent,
    SseParser,
    error_body,
    error_frame,
    frame,
    gate,
    is_event_stream,
    parse_event,
)


def parse_all(*chunks: bytes) -> tuple[list[SseEvent], SseParser]:
    parser = SseParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    return events, parser


# ---------------------------------------------------------------- parsing


def test_one_event() -> None:
    raw = b'event: message_start\ndata: {"type":"message_start"}\n\n'
    events, parser = parse_all(raw)
    assert events == [SseEvent("message_start", '{"type":"message_start"}', raw)]
    assert parser.pending == b""


def test_event_name_defaults_to_message() -> None:
    assert parse_all(b"data: x\n\n")[0] == [SseEvent("message", "x", b"data: x\n\n")]
    assert parse_all(b"event:\ndata: x\n\n")[0][0].event == "message"


def test_data_lines_join_with_newlines() -> None:
    events, _ = parse_all(b"data: a\ndata:b\ndata:  c\ndata\n\n")
    assert events[0].data == "a\nb\n c\n"


def test_comments_and_unknown_fields_are_ignored_but_kept_in_raw() -> None:
    raw = b": ping\nid: 7\nretry: 100\nevent: ping\ndata: {}\n\n"
    events, _ = parse_all(raw)
    assert events == [SseEvent("ping", "{}", raw)]


def test_blocks_without_event_or_data_are_skipped() -> None:
    events, parser = parse_all(b": keep-alive\n\nid: 3\n\ndata: x\n\n")
    assert [e.data for e in events] == ["x"]
    assert parser.pending == b""
    assert parse_event(b": only a comment\n\n") is None


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_each_line_ending(ending: bytes) -> None:
    raw = b"event: ping" + ending + b"data: {}" + ending + ending
    events, parser = parse_all(raw, b"data: next\n\n")
    assert events[0] == SseEvent("ping", "{}", raw)
    assert events[1].data == "next"
    assert parser.pending == b""


def test_a_partial_event_waits_for_its_blank_line() -> None:
    parser = SseParser()
    assert parser.feed(b"event: ping\nda") == []
    assert parser.feed(b"ta: {}\n") == []
    assert parser.pending == b"event: ping\ndata: {}\n"
    assert parser.feed(b"\n") == [SseEvent("ping", "{}", b"event: ping\ndata: {}\n\n")]


def test_a_trailing_cr_waits_in_case_lf_follows() -> None:
    parser = SseParser()
    assert parser.feed(b"data: x\r\n\r") == []
    assert parser.feed(b"\n") == [SseEvent("message", "x", b"data: x\r\n\r\n")]


def test_cr_cr_at_the_end_is_completed_by_the_next_chunk_or_flush() -> None:
    parser = SseParser()
    assert parser.feed(b"data: x\r\r") == []
    assert parser.feed(b"data: y\r\r") == [SseEvent("message", "x", b"data: x\r\r")]
    assert parser.flush() == [SseEvent("message", "y", b"data: y\r\r")]


def test_flush_returns_an_unterminated_last_event() -> None:
    parser = SseParser()
    assert parser.feed(b"data: a\n\ndata: b") == [SseEvent("message", "a", b"data: a\n\n")]
    assert parser.flush() == [SseEvent("message", "b", b"data: b")]
    assert parser.pending == b""
    assert parser.flush() == []


@pytest.mark.parametrize("rest", [b"", b"\n", b"  \r\n", b": comment"])
def test_flush_of_nothing_useful_is_empty(rest: bytes) -> None:
    parser = SseParser()
    parser.feed(rest)
    assert parser.flush() == []


def test_multibyte_characters_split_across_chunks() -> None:
    raw = "data: héllo → 世界\n\n".encode()
    events, _ = parse_all(*(raw[i : i + 1] for i in range(len(raw))))
    assert events == [SseEvent("message", "héllo → 世界", raw)]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    events, _ = parse_all(b"data: \xff\xfe\n\n")
    assert events[0].data == "\ufffd\ufffd"


# ---------------------------------------------------------------- the parser, property-tested

LINE_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])
VALUE = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12)


@dataclass(frozen=True)
class Spec:
    event: str | None
    data: tuple[str, ...]
    comments: tuple[str, ...]


SPECS = st.builds(
    Spec,
    event=st.one_of(st.none(), VALUE.filter(bool)),
    data=st.lists(VALUE, max_size=3).map(tuple),
    comments=st.lists(VALUE, max_size=2).map(tuple),
).filter(lambda spec: spec.event is not None or spec.data)


@st.composite
def serialised(draw: st.DrawFn, spec: Spec) -> bytes:
    lines = [f"data: {d}" for d in spec.data]
    if spec.event is not None:
        lines.insert(draw(st.integers(0, len(lines))), f"event: {spec.event}")
    for comment in spec.comments:
        lines.insert(draw(st.integers(0, len(lines))), f":{comment}")
    text = ""
    for line in lines:
        text += line + draw(LINE_ENDINGS)
    # A CR ending then an LF blank line would read as one CRLF: that is not a boundary.
    blank = draw(st.sampled_from(["\r\n", "\r"] if text.endswith("\r") else ["\n", "\r\n", "\r"]))
    return (text + blank).encode()


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[Spec], list[bytes], list[bytes]]:
    specs = draw(st.lists(SPECS, max_size=6))
    blocks = [draw(serialised(spec)) for spec in specs]
    data = b"".join(blocks)
    cuts = sorted(draw(st.sets(st.integers(0, len(data)), max_size=8)))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    return specs, blocks, chunks


@settings(max_examples=400, deadline=None)
@given(streams())
def test_any_split_of_any_line_endings_yields_the_same_events(
    stream: tuple[list[Spec], list[bytes], list[bytes]],
) -> None:
    specs, blocks, chunks = stream
    events, parser = parse_all(*chunks)
    assert parser.pending in (b"", blocks[-1] if blocks else b"")  # only a trailing CR waits
    events += parser.flush()
    assert [e.raw for e in events] == blocks
    assert b"".join(e.raw for e in events) == b"".join(chunks)
    for event, spec in zip(events, specs, strict=True):
        assert event.event == (spec.event or "message")
        assert event.data == "\n".join(spec.data)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.lists(st.sampled_from([b"\r", b"\n", b"data: x", b"event: e", b":", b"\xe2\x82"])).map(
            b"".join
        ),
    ),
    st.sets(st.integers(0, 200), max_size=6),
)
def test_arbitrary_bytes_parse_the_same_however_they_are_split(data: bytes, cuts: set[int]) -> None:
    points = sorted(c for c in cuts if c <= len(data))
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    split, parser = parse_all(*chunks)
    assert data.endswith(parser.pending)
    split += parser.flush()
    whole, parser = parse_all(data)
    whole += parser.flush()
    assert split == whole
    assert all(e.raw in data for e in whole)


ONLY = AFTER_COMMIT
PIECES = [b"\n", b"\r", b"\r\n", b"data: x", b"event: message_delta", b"event: ping",
          b"message_stop", b":", b"data: {}", b"\n\n", b"data: x\n\n"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=30).map(b"".join),
    st.sets(st.integers(0, 300), max_size=8),
)
def test_filtered_feeding_frames_exactly_like_the_general_path(data: bytes, cuts: set[int]) -> None:
    """The byte-search shortcuts for chunks with nothing to parse hand back the same bytes,
    leave the same pending bytes and find the same events as framing every event with the
    regex."""
    points = sorted(c for c in cuts if c <= len(data))
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    quick, pending = SseParser(), b""
    for chunk in chunks:
        buffer = pending + chunk
        general_events, pending = frame_whole_buffer(buffer, ONLY)
        whole, events = quick.frame(chunk, ONLY)
        assert events == general_events
        assert whole == buffer[: len(buffer) - len(pending)]
        assert quick.pending == pending


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=30).map(b"".join),
    st.lists(st.tuples(st.integers(0, 300), st.booleans()), max_size=8),
)
def test_switching_the_marker_between_chunks_frames_the_same(
    data: bytes, cuts: list[tuple[int, bool]]
) -> None:
    """The relay holds with no marker, then frames with one: what was held counts."""
    points = sorted({min(c, len(data)) for c, _ in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    markers = [marked for _, marked in cuts] + [True]
    parser, pending = SseParser(), b""
    for chunk, marked in zip(chunks, markers, strict=False):
        only = ONLY if marked else b""
        buffer = pending + chunk
        expected, pending = frame_whole_buffer(buffer, only)
        assert parser.frame(chunk, only) == (buffer[: len(buffer) - len(pending)], expected)
        assert parser.pending == pending


BOUNDARY = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def frame_whole_buffer(buffer: bytes, only: bytes) -> tuple[list[SseEvent], bytes]:
    """The plain way: search the whole buffer for blank lines, parse what has the marker."""
    events, start = [], 0
    for match in BOUNDARY.finditer(buffer):
        if match.end() == len(buffer) and buffer.endswith(b"\r"):
            break
        raw, start = buffer[start : match.end()], match.end()
        if raw.find(only) >= 0 and (event := parse_event(raw)) is not None:
            events.append(event)
    return events, buffer[start:]


# ---------------------------------------------------------------- the commit gate


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("message_start", "hold"),
        ("ping", "hold"),
        ("message", "hold"),
        ("content_block_start", "commit"),
        ("message_stop", "commit"),
        ("error", "error"),
        ("content_block_delta", "hold"),
    ],
)
def test_gate(name: str, verdict: str) -> None:
    assert gate(SseEvent(name, "{}", b"")) == verdict


# ---------------------------------------------------------------- framing


def test_frame_serialises_json_compactly() -> None:
    assert frame("ping", {"type": "ping"}) == b'event: ping\ndata: {"type":"ping"}\n\n'
    assert frame("x", "raw text") == b"event: x\ndata: raw text\n\n"


def test_error_frame_is_a_well_formed_anthropic_error() -> None:
    raw = error_frame("api_error", "upstream went idle for 180 s")
    events, parser = parse_all(raw)
    assert parser.pending == b""
    assert events[0].event == "error"
    assert gate(events[0]) == "error"
    assert json.loads(events[0].data) == {
        "type": "error",
        "error": {"type": "api_error", "message": "upstream went idle for 180 s"},
    }
    assert error_body("a", "b") == {"type": "error", "error": {"type": "a", "message": "b"}}


def test_error_frame_survives_line_breaks_in_the_message() -> None:
    events, _ = parse_all(error_frame("api_error", "line one\nline two\r\n"))
    assert len(events) == 1
    assert json.loads(events[0].data)["error"]["message"] == "line one\nline two\r\n"


# ---------------------------------------------------------------- usage


def test_usage_counts_keep_only_positive_integers() -> None:
    usage = {
        "input_tokens": 3,
        "cache_read_input_tokens": 0,
        "output_tokens": True,
        "cache_creation_input_tokens": 2.5,
        "service_tier": "standard",
        "server_tool_use": {"web_search_requests": 1},
    }
    assert counts_only(usage) == {"input_tokens": 3}
    assert counts_only([1]) == {}


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/event-stream", True),
        ("text/event-stream; charset=utf-8", True),
        ("Text/Event-Stream ;charset=utf-8", True),
        (" text/event-stream", True),
        ("application/json", False),
        ("text/event-streams", False),
        ("text/plain; note=text/event-stream", False),
        ("", False),
    ],
)
def test_an_event_stream_is_known_by_its_media_type(content_type: str, expected: bool) -> None:
    assert is_event_stream(content_type) is expected


# ---------------------------------------------------------------- size and linearity


def test_an_event_past_the_maximum_raises_and_earlier_events_are_kept() -> None:
    parser = SseParser(max_event_bytes=1000)
    assert parser.feed(b"data: small\n\n") == [SseEvent("message", "small", b"data: small\n\n")]
    parser.feed(b"data: " + b"x" * 900)
    with pytest.raises(SseEventTooLargeError, match="1000 bytes"):
        parser.feed(b"x" * 200)
    assert parser.pending == b""


def test_the_error_is_an_upstream_protocol_error() -> None:
    assert issubclass(SseEventTooLargeError, UpstreamProtocolError)


@pytest.mark.parametrize("only", [b"", AFTER_COMMIT])
def test_an_event_of_exactly_the_maximum_is_framed(only: bytes) -> None:
    parser = SseParser(max_event_bytes=1000)
    body = b"data: " + b"x" * 992 + b"\n"  # 999 bytes held, then the blank line
    assert parser.frame(body, only) == (b"", [])
    assert parser.frame(b"\n", only)[0] == body + b"\n"


@pytest.mark.parametrize("only", [b"", AFTER_COMMIT])
@pytest.mark.parametrize("line", [b"x" * 1000, b"data: abc\n", b"data: abc\r\n", b"\n\r\r"])
def test_each_byte_is_searched_at_most_twice_not_once_per_chunk(
    monkeypatch: pytest.MonkeyPatch, only: bytes, line: bytes
) -> None:
    counting = CountingPattern(sse._BOUNDARY)
    monkeypatch.setattr(sse, "_BOUNDARY", counting)
    parser, fed, chunks = SseParser(), 0, 0
    while fed < 500_000:
        parser.frame(line * 10, only)
        fed, chunks = fed + len(line) * 10, chunks + 1
    assert counting.scanned <= 2 * fed + PER_CHUNK * chunks


def test_a_64_mib_event_without_a_blank_line_is_refused_quickly() -> None:
    """Framing cost per chunk does not grow with what is held (10x the time it takes)."""
    parser, chunk = SseParser(), b"data: " + b"x" * (64 * 1024 - 6)
    started = time.monotonic()
    with pytest.raises(SseEventTooLargeError):
        feed_all(parser, [chunk] * 64 * 16)
    assert time.monotonic() - started < 10


def feed_all(parser: SseParser, chunks: list[bytes]) -> None:
    for chunk in chunks:
        parser.frame(chunk, AFTER_COMMIT)


PER_CHUNK = 70  # the held bytes a chunk is searched with: a blank line may begin there


class CountingPattern:
    """A stand-in for the boundary regex that counts the bytes its searches look at."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern
        self.scanned = 0

    def search(self, data: bytes, pos: int = 0) -> re.Match[bytes] | None:
        match = self.pattern.search(data, pos)
        self.scanned += (match.end() if match else len(data)) - pos
        return match


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join),
    st.sets(st.integers(0, 400), max_size=10),
    st.sampled_from([b"", AFTER_COMMIT]),
)
def test_framing_looks_at_each_byte_at_most_twice_however_it_is_split(
    data: bytes, cuts: set[int], only: bytes
) -> None:
    points = sorted(c for c in cuts if c <= len(data))
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    counting = CountingPattern(sse._BOUNDARY)
    with mock.patch.object(sse, "_BOUNDARY", counting):
        parser = SseParser()
        framed = b"".join(parser.frame(chunk, only)[0] for chunk in chunks)
    assert framed + parser.pending == data
    assert counting.scanned <= 2 * len(data) + PER_CHUNK * len(chunks)
