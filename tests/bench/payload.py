"""Deterministic wire data for the benchmark: a Claude-Code-like request and the fake's answers.

The request imitates what Claude Code sends on a turn deep into a session: the CLI system
prompt blocks with ``cache_control``, a tool list with JSON schemas, and a history with
``tool_use`` / ``tool_result`` pairs. Everything is generated from a fixed seed, so every run
sends the same bytes; the last tool result is padded so the body is ``REQUEST_BYTES`` long.
"""

from __future__ import annotations

import json
import random
from typing import Any

REQUEST_BYTES = 20 * 1024
MODEL = "claude-sonnet-4-5-20250929"

_WORDS = (  # noqa: SIM905 - a sentence reads better than a list here
    "the file function test module error request stream config endpoint value return "
    "import class self async await response handler client server proxy upstream event "
    "token model message tool result content block delta index path line change commit "
    "should would could check update read write edit search pattern match build run"
).split()


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n_words))


def _tool(name: str, rng: random.Random, props: dict[str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": _text(rng, 60),
        "input_schema": {
            "type": "object",
            "properties": {k: {"type": t, "description": _text(rng, 12)} for k, t in props.items()},
            "required": list(props)[:1],
            "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#",
        },
    }


def _tools(rng: random.Random) -> list[dict[str, Any]]:
    return [
        _tool("Bash", rng, {"command": "string", "timeout": "number", "description": "string"}),
        _tool("Read", rng, {"file_path": "string", "offset": "number", "limit": "number"}),
        _tool("Edit", rng, {"file_path": "string", "old_string": "string", "new_string": "string"}),
        _tool("Write", rng, {"file_path": "string", "content": "string"}),
        _tool("Glob", rng, {"pattern": "string", "path": "string"}),
        _tool("Grep", rng, {"pattern": "string", "path": "string", "glob": "string"}),
        _tool("TodoWrite", rng, {"todos": "array"}),
        _tool("WebFetch", rng, {"url": "string", "prompt": "string"}),
    ]


def _history(rng: random.Random, turns: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": _text(rng, 40)}]}
    ]
    for i in range(turns):
        tool_id = f"toolu_01{i:04d}{rng.randrange(16**16):016x}"
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": _text(rng, 25)},
                    {
                        "type": "tool_use",
                        "id": tool_id,
                        "name": "Read",
                        "input": {"file_path": f"/home/user/project/proxy/module_{i}.py"},
                    },
                ],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": tool_id, "content": _text(rng, 80)}
                ],
            }
        )
    return messages


def request_body(*, stream: bool) -> bytes:
    """The benchmark's request body, exactly ``REQUEST_BYTES`` long; only ``stream`` differs."""
    rng = random.Random(20240611)
    body: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 32000,
        "system": [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
            {"type": "text", "text": _text(rng, 450), "cache_control": {"type": "ephemeral"}},
        ],
        "messages": _history(rng, 6),
        "tools": _tools(rng),
        "metadata": {"user_id": f"user_{rng.randrange(16**32):032x}_account__session_bench"},
        "temperature": 1,
        "stream": stream,
    }
    last = body["messages"][-1]["content"][0]
    size = len(json.dumps(body, separators=(",", ":")).encode())
    pad = REQUEST_BYTES - size
    if pad < 0:
        raise ValueError(f"generated body is {size} bytes, over the {REQUEST_BYTES} budget")
    last["content"] += "x" * pad
    return json.dumps(body, separators=(",", ":")).encode()


def message_json() -> bytes:
    """A realistic non-streaming Messages API answer, about 1 KB."""
    text = _text(random.Random(7), 130)
    return json.dumps(
        {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 5123,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 4096,
                "output_tokens": 212,
                "service_tier": "standard",
            },
        },
        separators=(",", ":"),
    ).encode()


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One SSE frame as Anthropic writes it."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def stream_head() -> bytes:
    """``message_start`` and ``content_block_start``, sent before the deltas."""
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 5123, "cache_read_input_tokens": 4096, "output_tokens": 1},
        },
    }
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    return sse("message_start", start) + sse("content_block_start", block)


def delta_frame(i: int, sent_ns: int) -> bytes:
    """Text delta number ``i``; ``bench_sent_ns`` is the fake's ``time.time_ns()`` at send."""
    return (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":" word%d of the answer"},"bench_sent_ns":%d}\n\n'
        % (i, sent_ns)
    )


def stream_tail(n_events: int) -> bytes:
    """``content_block_stop``, ``message_delta`` and ``message_stop``."""
    return (
        sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        + sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": n_events * 4},
            },
        )
        + sse("message_stop", {"type": "message_stop"})
    )


# --- Text-stamped streams, for tests.bench.translation -------------------------------------
# There the send time travels inside the delta's text (``t=<ns>;``), which survives the
# OpenAI -> Anthropic translation; the native fake does the same so both are read alike.

OPENAI_MODEL = "gpt-4.1-2025-04-14"
_CHUNK_HEAD = (
    b'data: {"id":"chatcmpl-BenchFakeUpstream0000000000","object":"chat.completion.chunk",'
    b'"created":1763700000,"model":"' + OPENAI_MODEL.encode() + b'","service_tier":"default",'
    b'"system_fingerprint":"fp_bench0000","choices":['
)


def stamped_text(i: int, sent_ns: int) -> str:
    """Delta ``i``'s text: the send time, then the words (``t=<ns>; word<i> of the answer``)."""
    return f"t={sent_ns}; word{i} of the answer"


def text_delta_frame(i: int, sent_ns: int) -> bytes:
    """An Anthropic text delta whose text carries the send time (no ``bench_sent_ns`` field)."""
    return (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"%s"}}\n\n' % stamped_text(i, sent_ns).encode()
    )


def openai_chunk(i: int, sent_ns: int) -> bytes:
    """One ``chat.completion.chunk`` as OpenAI streams it with ``include_usage`` (so
    ``"usage":null`` on every chunk), its ``delta.content`` the stamped text of delta ``i``."""
    return (
        _CHUNK_HEAD + b'{"index":0,"delta":{"content":"%s"},"logprobs":null,"finish_reason":null}],'
        b'"usage":null}\n\n' % stamped_text(i, sent_ns).encode()
    )


def openai_stream_head() -> bytes:
    """The first chunk: the role, empty content (no text yet)."""
    return (
        _CHUNK_HEAD + b'{"index":0,"delta":{"role":"assistant","content":"","refusal":null},'
        b'"logprobs":null,"finish_reason":null}],"usage":null}\n\n'
    )


def openai_stream_tail(n_events: int) -> bytes:
    """The ``finish_reason`` chunk, the usage chunk (no choices) and ``[DONE]``."""
    usage = (
        b'"usage":{"prompt_tokens":9219,"completion_tokens":%d,"total_tokens":%d,'
        b'"prompt_tokens_details":{"cached_tokens":4096,"audio_tokens":0},'
        b'"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,'
        b'"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}'
        % (n_events * 4, 9219 + n_events * 4)
    )
    return (
        _CHUNK_HEAD + b'{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],'
        b'"usage":null}\n\n' + _CHUNK_HEAD + b"]," + usage + b"}\n\ndata: [DONE]\n\n"
    )


def openai_completion_json() -> bytes:
    """A non-streaming ``chat.completion`` with the same text as ``message_json``."""
    text = _text(random.Random(7), 130)
    return json.dumps(
        {
            "id": "chatcmpl-BenchFakeUpstream0000000000",
            "object": "chat.completion",
            "created": 1763700000,
            "model": OPENAI_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 9219,
                "completion_tokens": 212,
                "total_tokens": 9431,
                "prompt_tokens_details": {"cached_tokens": 4096},
            },
        },
        separators=(",", ":"),
    ).encode()
