"""Property: any OpenAI chunk sequence, split anywhere, becomes the same well-formed Anthropic
event stream, carrying the text and each tool call's arguments unchanged."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.core.openai.stream import StreamTranslator
from tests.proxy.core.openai.openai_checks import anthropic_events, assembled_blocks

texts = st.text(min_size=1, max_size=12)
names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,12}", fullmatch=True)
json_objects = st.dictionaries(
    st.text(max_size=6), st.none() | st.booleans() | st.integers() | st.text(max_size=8), max_size=3
)


@dataclass
class Transcript:
    """An OpenAI stream as bytes, and what the Anthropic stream must carry."""

    raw: bytes
    blocks: list[tuple[str, ...]] = field(default_factory=list)
    stop_reason: str = "end_turn"
    usage: dict[str, int] | None = None


def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return {
        "id": "chatcmpl-p",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [choice],
    }


def pieces(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=4)))
    bounds = [0, *[c for c in cuts if c < len(text)], len(text)]
    return [text[a:b] for a, b in pairwise(bounds) if text[a:b]]


@st.composite
def text_segment(draw: st.DrawFn) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    text = draw(texts)
    return [chunk({"content": piece}) for piece in pieces(draw, text)], ("text", text)


@st.composite
def tool_segment(draw: st.DrawFn, index: int) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    name, call_id = draw(names), f"call_{index}_{draw(names)}"
    arguments = json.dumps(draw(json_objects), ensure_ascii=False)
    fragments = pieces(draw, arguments)
    head = {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": ""},
    }
    if draw(st.booleans()):
        head["function"]["arguments"] = fragments.pop(0)
    tail = [{"index": index, "function": {"arguments": piece}} for piece in fragments]
    chunks = [chunk({"tool_calls": [fragment]}) for fragment in [head, *tail]]
    return chunks, ("tool_use", call_id, name, arguments)


noise = st.sampled_from(
    [
        chunk({"content": ""}),
        chunk({"reasoning_content": "hmm"}),
        chunk({"reasoning": "thinking", "content": None}),
        chunk({}),
        ": keep-alive",
    ]
)


@st.composite
def transcripts(draw: st.DrawFn) -> Transcript:
    chunks: list[dict[str, Any] | str] = [chunk({"role": "assistant", "content": ""})]
    blocks: list[tuple[str, ...]] = []
    for _ in range(draw(st.integers(0, 5))):
        tool_count = sum(block[0] == "tool_use" for block in blocks)
        segment, block = draw(st.one_of(text_segment(), tool_segment(tool_count)))
        chunks += segment + draw(st.lists(noise, max_size=2))
        _append_block(blocks, block)
    used_tools = any(block[0] == "tool_use" for block in blocks)
    finish = "tool_calls" if used_tools else draw(st.sampled_from(["stop", "length"]))
    chunks.append(chunk({}, finish))
    usage = None
    if draw(st.booleans()):
        usage = {
            "prompt_tokens": draw(st.integers(0, 10**6)),
            "completion_tokens": draw(st.integers(0, 10**5)),
        }
        chunks.append({"id": "chatcmpl-p", "choices": [], "usage": usage})
    if draw(st.booleans()):
        chunks.append("[DONE]")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    raw = "".join(_event(c, newline) for c in chunks).encode()
    stop = {"tool_calls": "tool_use", "stop": "end_turn", "length": "max_tokens"}[finish]
    return Transcript(raw, blocks, stop, usage)


def _append_block(blocks: list[tuple[str, ...]], block: tuple[str, ...]) -> None:
    if block[0] == "text" and blocks and blocks[-1][0] == "text":
        blocks[-1] = ("text", blocks[-1][1] + block[1])
    else:
        blocks.append(block)


def _event(item: dict[str, Any] | str, newline: str) -> str:
    if item == ": keep-alive":
        return f": keep-alive{newline}{newline}"
    data = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
    return f"data: {data}{newline}{newline}"


def translate(raw: bytes, cuts: list[int]) -> bytes:
    translator = StreamTranslator("claude-x")
    bounds = [0, *sorted(cuts), len(raw)]
    out = b"".join(translator.feed(raw[a:b]) for a, b in pairwise(bounds))
    return out + translator.finish()


def carried(block: dict[str, Any]) -> tuple[str, ...]:
    if block["type"] == "text":
        return ("text", block["streamed"])
    return ("tool_use", block["id"], block["name"], block["streamed"])


@settings(max_examples=200, deadline=None)
@given(transcripts(), st.data())
def test_any_chunk_sequence_split_anywhere_gives_one_well_formed_stream(
    transcript: Transcript, data: st.DataObject
) -> None:
    raw = transcript.raw
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=12))
    whole = translate(raw, [])
    assert translate(raw, cuts) == whole
    events = anthropic_events(whole)
    assert [carried(block) for block in assembled_blocks(events)] == transcript.blocks
    message_delta = events[-2]
    assert message_delta["delta"]["stop_reason"] == transcript.stop_reason
    if transcript.usage:
        assert message_delta["usage"]["output_tokens"] == transcript.usage["completion_tokens"]
        assert message_delta["usage"]["input_tokens"] == transcript.usage["prompt_tokens"]


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    st.lists(st.integers(0, 300), max_size=6),
)
def test_any_bytes_give_events_that_end_once(raw: bytes, cuts: list[int]) -> None:
    out = translate(raw, [c for c in cuts if c <= len(raw)])
    kinds = [event["type"] for event in anthropic_events(out)]
    assert kinds
    assert kinds[-1] in ("message_stop", "error")
    assert sum(kind in ("message_stop", "error") for kind in kinds) == 1


@settings(max_examples=100, deadline=None)
@given(transcripts(), st.integers(0, 10_000))
def test_a_stream_cut_short_ends_in_one_terminal_event(transcript: Transcript, keep: int) -> None:
    raw = transcript.raw[: keep % (len(transcript.raw) + 1)]
    translator = StreamTranslator("claude-x")
    out = translator.feed(raw) + translator.finish()
    kinds = [event["type"] for event in anthropic_events(out)]
    assert kinds[-1] in ("message_stop", "error")
    assert sum(kind in ("message_stop", "error") for kind in kinds) == 1
    assert translator.committed == any(k in ("content_block_start", "message_stop") for k in kinds)
