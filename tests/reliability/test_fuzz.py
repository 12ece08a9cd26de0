"""Fuzzing the parsers and translators with hypothesis: no exception escapes, nothing hangs.

CCF_FUZZ_EXAMPLES sets the examples per target (the long command raises it); the counts of the
last run go to test-artifacts/reliability/fuzz.json.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.core.body import parse_json_object, with_model
from proxy.core.config import FieldError, parse_config
from proxy.core.config_yaml import parse_config_text
from proxy.core.errors import ConfigError
from proxy.core.models import map_model
from proxy.core.openai.request import anthropic_to_openai
from proxy.core.openai.response import openai_error_to_anthropic, openai_to_anthropic
from proxy.core.openai.stream import StreamTranslator
from proxy.core.sse import SseParser, frame, gate, parse_event
from tests.reliability.figures import save_figures

EXAMPLES = int(os.environ.get("CCF_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the per-test timeout catches a hang; speed is not asserted here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=EXAMPLES <= 150,  # the normal run is repeatable; long runs explore
)
COUNTS: Counter[str] = Counter()

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=40,
)
KEYS = ["endpoints", "listen", "routing", "failover", "timeouts", "security", "name", "base_url"]
KEYS += ["format", "auth", "key", "models", "headers", "enabled", "host", "port", "pinned"]
config_like = st.recursive(
    scalars | st.sampled_from(["anthropic", "openai", "bearer", "env:X", "*", "5xx", "http://a"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=30,
)


@pytest.fixture(scope="module", autouse=True)
def record_counts() -> Iterator[None]:
    yield
    save_figures("fuzz", {"examples_per_target": EXAMPLES, "inputs": dict(COUNTS)})


# ------------------------------------------------------------------ the config parser


@FUZZ
@given(st.text(max_size=400) | st.sampled_from(["a: &x [*x]", "{" * 5000, "- " * 3000 + "x"]))
def test_config_text_only_raises_config_error(text: str) -> None:
    COUNTS["config text"] += 1
    with contextlib.suppress(ConfigError):
        parse_config_text(text, {"X": "1"})


@FUZZ
@given(config_like)
def test_config_data_only_raises_field_error(data: Any) -> None:
    COUNTS["config data"] += 1
    with contextlib.suppress(FieldError):
        parse_config({"endpoints": data} if isinstance(data, list) else data, {"X": "v"})


# ------------------------------------------------------------------ the SSE parser and framer


@FUZZ
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=8))
def test_sse_parser_is_lossless_however_bytes_are_cut(data: bytes, cuts: list[int]) -> None:
    COUNTS["sse bytes"] += 1
    parser = SseParser()
    events, start = [], 0
    for cut in sorted({min(c, len(data)) for c in cuts}):
        events += parser.feed(data[start:cut])
        start = cut
    events += parser.feed(data[start:])
    assert parser.pending == data[len(data) - len(parser.pending) :]
    assert all(e.raw in data for e in events)  # every event carries its exact bytes
    whole = SseParser()
    assert [e.raw for e in whole.feed(data)] == [e.raw for e in events]
    for event in events + parser.flush():
        gate(event)


@FUZZ
@given(
    st.text(alphabet=st.characters(blacklist_characters="\r\n:", codec="utf-8"), max_size=20),
    json_values.filter(lambda v: not isinstance(v, str)),  # a str is a payload already encoded
)
def test_a_framed_event_parses_back(name: str, data: Any) -> None:
    COUNTS["sse frames"] += 1
    raw = frame(name or "message", data)
    events = SseParser().feed(raw)
    assert len(events) == 1
    assert events[0].raw == raw
    assert events[0].event == (name or "message")
    assert json.loads(events[0].data) == json.loads(json.dumps(data))


@FUZZ
@given(st.binary(max_size=300))
def test_parse_event_never_raises(raw: bytes) -> None:
    COUNTS["sse event blocks"] += 1
    parse_event(raw)


# ------------------------------------------------------------------ the model map


@FUZZ
@given(
    st.text(max_size=40),
    st.lists(
        st.tuples(st.text(alphabet="ab*?[]\\.-x", max_size=12), st.text(max_size=8)), max_size=6
    ),
)
def test_model_map_is_total(model: str, rules: list[tuple[str, str]]) -> None:
    COUNTS["model map"] += 1
    result = map_model(model, tuple(rules))
    assert result == model or result in [target for _, target in rules]
    if rules and rules[0][0] in (model, "*"):
        assert result == rules[0][1]


@FUZZ
@given(st.binary(max_size=400) | json_values.map(lambda v: json.dumps(v).encode()))
def test_request_bodies_never_raise(body: bytes) -> None:
    COUNTS["request bodies"] += 1
    data = parse_json_object(body)
    if data is not None:
        with_model(data, (("*", "x"),))


# ------------------------------------------------------------------ format translation

anthropic_like = st.fixed_dictionaries(
    {},
    optional={
        "model": st.text(max_size=10) | scalars,
        "messages": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "role": st.sampled_from(["user", "assistant", "system", "x"]) | scalars,
                    "content": st.text(max_size=20)
                    | st.lists(
                        json_values
                        | st.fixed_dictionaries(
                            {
                                "type": st.sampled_from(
                                    [
                                        "text",
                                        "image",
                                        "tool_use",
                                        "tool_result",
                                        "thinking",
                                        "document",
                                    ]
                                )
                            },
                            optional={
                                "text": json_values,
                                "input": json_values,
                                "content": json_values,
                                "id": json_values,
                                "source": json_values,
                                "name": json_values,
                            },
                        ),
                        max_size=4,
                    )
                    | scalars,
                },
            )
            | json_values,
            max_size=4,
        )
        | json_values,
        "system": json_values,
        "tools": json_values,
        "tool_choice": json_values,
        "max_tokens": json_values,
        "stream": json_values,
        "metadata": json_values,
        "stop_sequences": json_values,
        "temperature": json_values,
    },
)


@FUZZ
@given(anthropic_like)
def test_anthropic_to_openai_never_raises(body: dict[str, Any]) -> None:
    COUNTS["anthropic->openai requests"] += 1
    json.dumps(anthropic_to_openai(body))


@FUZZ
@given(st.dictionaries(st.sampled_from(["id", "choices", "usage", "model", "x"]), json_values))
def test_openai_to_anthropic_never_raises(data: dict[str, Any]) -> None:
    COUNTS["openai->anthropic responses"] += 1
    json.dumps(openai_to_anthropic(data, "m"))


@FUZZ
@given(
    st.integers(100, 599),
    st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_openai_errors_never_raise(status: int, body: bytes) -> None:
    COUNTS["openai errors"] += 1
    json.loads(openai_error_to_anthropic(status, body))


chunk_json = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "choices": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "delta": json_values
                    | st.fixed_dictionaries(
                        {},
                        optional={
                            "content": json_values,
                            "tool_calls": json_values,
                            "role": json_values,
                        },
                    ),
                    "finish_reason": json_values,
                    "index": json_values,
                },
            ),
            max_size=2,
        )
        | json_values,
        "usage": json_values,
        "error": json_values,
    },
)


@FUZZ
@given(
    st.lists(
        chunk_json.map(lambda c: b"data: " + json.dumps(c).encode() + b"\n\n")
        | st.sampled_from([b"data: [DONE]\n\n", b": keepalive\n\n", b"data: {bad\n\n"])
        | st.binary(max_size=40),
        max_size=8,
    )
)
def test_openai_stream_translation_never_raises(chunks: list[bytes]) -> None:
    COUNTS["openai stream chunks"] += 1
    translator = StreamTranslator("m", message_id="msg_1")
    out = b"".join(translator.feed(c) for c in chunks) + translator.finish()
    for event in SseParser().feed(out):  # what comes out is well-formed Anthropic SSE
        json.loads(event.data)
