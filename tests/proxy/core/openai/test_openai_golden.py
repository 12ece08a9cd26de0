"""Golden translations built from the published wire formats of both APIs."""

from __future__ import annotations

import json

import pytest

from proxy.core.openai.request import anthropic_to_openai
from proxy.core.openai.response import openai_error_to_anthropic, openai_to_anthropic
from proxy.core.openai.stream import StreamTranslator
from tests.proxy.core.openai.openai_checks import (
    GOLDEN,
    anthropic_events,
    assert_valid_anthropic_message,
    assert_valid_openai_request,
    golden_json,
)

REQUESTS = sorted(path.name for path in GOLDEN.glob("request_*.json"))
RESPONSES = sorted(path.name for path in GOLDEN.glob("response_*.json"))
STREAMS = sorted(
    path.name for path in GOLDEN.glob("stream_*.sse") if not path.name.endswith(".expected.sse")
)


def test_golden_files_are_present() -> None:
    assert len(REQUESTS) >= 4
    assert len(RESPONSES) >= 3
    assert len(STREAMS) >= 6


@pytest.mark.parametrize("name", REQUESTS)
def test_request(name: str) -> None:
    case = golden_json(name)
    translated = anthropic_to_openai(case["anthropic"])
    assert translated == case["openai"]
    assert_valid_openai_request(translated)


@pytest.mark.parametrize("name", RESPONSES)
def test_response(name: str) -> None:
    case = golden_json(name)
    translated = openai_to_anthropic(case["openai"], case["model"])
    assert translated == case["anthropic"]
    assert_valid_anthropic_message(translated)


@pytest.mark.parametrize("case", golden_json("errors.json"), ids=lambda case: str(case["status"]))
def test_error_body(case: dict[str, object]) -> None:
    body = str(case["body"]).encode()
    translated = openai_error_to_anthropic(int(str(case["status"])), body)
    assert json.loads(translated) == case["anthropic"]


@pytest.mark.parametrize("name", STREAMS)
def test_stream(name: str) -> None:
    upstream = (GOLDEN / name).read_bytes()
    expected = (GOLDEN / name).with_suffix(".expected.sse").read_bytes()
    translator = StreamTranslator("claude-sonnet-4-5")
    assert translator.feed(upstream) + translator.finish() == expected
    anthropic_events(expected)


@pytest.mark.parametrize("name", STREAMS)
def test_stream_split_into_single_bytes(name: str) -> None:
    upstream = (GOLDEN / name).read_bytes()
    translator = StreamTranslator("claude-sonnet-4-5")
    out = b"".join(translator.feed(upstream[i : i + 1]) for i in range(len(upstream)))
    assert out + translator.finish() == (GOLDEN / name).with_suffix(".expected.sse").read_bytes()
